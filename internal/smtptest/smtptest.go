// Package smtptest runs a real SMTP server on 127.0.0.1 for tests (github.com/emersion/go-smtp):
// plain, with STARTTLS and credentials, or with implicit TLS. It keeps what it receives,
// parsed, and can go down and come back on the same address to test retries.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options choose the server's security.
type Options struct {
	User, Password string // require AUTH PLAIN with these (over TLS)
	StartTLS       bool   // offer STARTTLS
	ImplicitTLS    bool   // smtps: TLS from the first byte
	RejectRcpt     string // refuse this recipient for good (550)
}

// Message is an email as the server received it.
type Message struct {
	From     string
	To       []string
	Subject  string
	Header   netmail.Header
	Text     string
	HTML     string
	TLS      bool   // it came over an encrypted connection
	AuthUser string // who authenticated, if anyone
	Raw      []byte
}

// Server is a running test SMTP server.
type Server struct {
	t    testing.TB
	opts Options
	addr string
	tls  *tls.Config
	pool *x509.CertPool

	mu    sync.Mutex
	down  bool              // Stop was called, not Restart
	conns map[net.Conn]bool // the connections being served
	msgs  []Message
}

// Start starts a server on 127.0.0.1:0; it stops when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{t: t, opts: o, conns: map[net.Conn]bool{}}
	if o.StartTLS || o.ImplicitTLS {
		s.tls, s.pool = selfSigned(t)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.addr = ln.Addr().String()
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{s: s, tls: isTLS || s.opts.ImplicitTLS, conn: c}, nil
	}))
	srv.Domain = "smtptest.local"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 10 << 20
	if s.opts.StartTLS {
		srv.TLSConfig = s.tls
	}
	srv.ErrorLog = quietLog{}
	go func() { _ = srv.Serve(gate{ln, s}) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// gate is the server's listener. The port stays the server's from Start to the end of the
// test, down or not: a test running beside one whose server is down must never be given its
// port (a message meant to fail would reach the other test's server).
type gate struct {
	net.Listener
	s *Server
}

// Accept hands the SMTP server the connections that come while it is up; while it is down,
// each is closed at once, before the greeting, which a client takes as a failed connection.
func (g gate) Accept() (net.Conn, error) {
	for {
		c, err := g.Listener.Accept()
		if err != nil {
			return nil, err
		}
		g.s.mu.Lock()
		down := g.s.down
		if !down {
			g.s.conns[c] = true
		}
		g.s.mu.Unlock()
		if down {
			_ = c.Close()
			continue
		}
		if g.s.opts.ImplicitTLS {
			return tls.Server(tracked{c, g.s}, g.s.tls), nil
		}
		return tracked{c, g.s}, nil
	}
}

// tracked forgets its connection once closed, so Stop ends only the live ones.
type tracked struct {
	net.Conn
	s *Server
}

func (c tracked) Close() error {
	c.s.mu.Lock()
	delete(c.s.conns, c.Conn)
	c.s.mu.Unlock()
	return c.Conn.Close()
}

// Stop takes the server down: its connections end, and new ones are closed before the
// greeting until Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	s.down = true
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// Restart brings a stopped server back on the same address.
func (s *Server) Restart() {
	s.mu.Lock()
	s.down = false
	s.mu.Unlock()
}

// Addr returns host:port.
func (s *Server) Addr() string { return s.addr }

// URL returns the ROSTER_SMTP_URL that reaches the server.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.addr}
	if s.opts.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if s.opts.User != "" {
		u.User = url.UserPassword(s.opts.User, s.opts.Password)
	}
	return u.String()
}

// ClientTLS returns a TLS configuration that trusts the server's certificate.
func (s *Server) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: s.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// Messages returns what the server received, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait polls until the server has received at least n messages, or fails the test after
// the timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := s.Messages()
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("smtptest: %d messages received after %v, want %d", len(msgs), timeout, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// To returns the messages received for one recipient.
func (s *Server) To(addr string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				out = append(out, m)
			}
		}
	}
	return out
}

var linkPattern = regexp.MustCompile(`https?://[^\s"<>]+`)

// Link returns the first link of the message's plain text that contains substr.
func (m Message) Link(substr string) string {
	for _, l := range linkPattern.FindAllString(m.Text, -1) {
		if strings.Contains(l, substr) {
			return l
		}
	}
	return ""
}

// Token returns the token= parameter of the first link containing substr.
func (m Message) Token(substr string) string {
	u, err := url.Parse(m.Link(substr))
	if err != nil {
		return ""
	}
	return u.Query().Get("token")
}

type session struct {
	s    *Server
	conn *smtp.Conn
	tls  bool
	user string
	from string
	to   []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.opts.User || password != ss.s.opts.Password {
			return errors.New("invalid credentials")
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.User != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.s.opts.RejectRcpt != "" && strings.EqualFold(to, ss.s.opts.RejectRcpt) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := ss.conn.TLSConnectionState()
	m, err := parse(raw)
	if err != nil {
		return err
	}
	m.From, m.To, m.TLS, m.AuthUser = ss.from, ss.to, isTLS || ss.tls, ss.user
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, m)
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// parse reads a message: its subject and its plain text and HTML parts.
func parse(raw []byte) (Message, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	m := Message{Raw: raw, Header: msg.Header}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Message{}, err
	}
	err = readPart(textproto(msg.Header), msg.Body, &m)
	return m, err
}

type header interface{ Get(string) string }

func textproto(h netmail.Header) header { return h }

func readPart(h header, body io.Reader, m *Message) error {
	ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		ct = "text/plain"
	}
	if strings.HasPrefix(ct, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := readPart(p.Header, p, m); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	switch ct {
	case "text/html":
		m.HTML = string(b)
	default:
		m.Text = string(b)
	}
	return nil
}

type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	j := 0
	for _, c := range p[:k] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool
}

type quietLog struct{}

func (quietLog) Printf(string, ...interface{}) {}
func (quietLog) Println(...interface{})        {}
