package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPConfig is how Roster reaches its mail server.
type SMTPConfig struct {
	// URL is ROSTER_SMTP_URL: smtp://[user:pass@]host[:port] (STARTTLS when the server offers
	// it, required when credentials are given; port 587 with credentials, else 25) or
	// smtps://[user:pass@]host[:port] (implicit TLS, port 465).
	URL string
	// From is ROSTER_MAIL_FROM, such as "Roster <roster@example.com>".
	From string
	// TLS, when set, replaces the default TLS configuration (tests trust their own CA).
	TLS *tls.Config
	// Timeout bounds one delivery; 30 seconds when zero.
	Timeout time.Duration
}

// SMTP sends messages to a mail server with github.com/wneessen/go-mail.
type SMTP struct {
	opts []gomail.Option
	host string
	from string
	addr string // host:port, for logs
}

// ParseSMTPURL checks ROSTER_SMTP_URL and returns its host, port, credentials and whether
// it asks for implicit TLS.
func ParseSMTPURL(raw string) (host string, port int, user, pass string, implicitTLS bool, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", 0, "", "", false, errors.New("not a URL: use smtp://user:pass@host:587 or smtps://host:465")
	}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		implicitTLS = true
	default:
		return "", 0, "", "", false, errors.New("the scheme must be smtp:// or smtps://")
	}
	host = u.Hostname()
	if host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", 0, "", "", false, errors.New("use smtp://user:pass@host:port with nothing after the port")
	}
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	switch {
	case u.Port() != "":
		port, err = strconv.Atoi(u.Port())
		if err != nil || port < 1 || port > 65535 {
			return "", 0, "", "", false, errors.New("invalid port")
		}
	case implicitTLS:
		port = 465
	case user != "":
		port = 587
	default:
		port = 25
	}
	return host, port, user, pass, implicitTLS, nil
}

// ParseFrom checks ROSTER_MAIL_FROM: one address, with or without a display name, and no
// line breaks.
func ParseFrom(s string) (string, error) {
	if strings.ContainsAny(s, "\r\n") {
		return "", errors.New("line breaks are not allowed")
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return "", fmt.Errorf("must be an address such as \"Roster <roster@example.com>\": %v", err)
	}
	return a.String(), nil
}

// NewSMTP returns a sender for a mail server. It checks the configuration but does not
// connect: a server that is down at start only delays delivery.
func NewSMTP(c SMTPConfig) (*SMTP, error) {
	host, port, user, pass, implicitTLS, err := ParseSMTPURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("ROSTER_SMTP_URL: %w", err)
	}
	from, err := ParseFrom(c.From)
	if err != nil {
		return nil, fmt.Errorf("ROSTER_MAIL_FROM: %w", err)
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	tlsConf := c.TLS
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(timeout), gomail.WithTLSConfig(tlsConf)}
	switch {
	case implicitTLS:
		opts = append(opts, gomail.WithSSL())
	case user != "":
		// Credentials never cross the network in clear: STARTTLS is required.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		// A plain local relay (a test server, a local Postfix) may not offer STARTTLS.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	if _, err := gomail.NewClient(host, opts...); err != nil {
		return nil, fmt.Errorf("ROSTER_SMTP_URL: %w", err)
	}
	return &SMTP{opts: opts, host: host, from: from, addr: host + ":" + strconv.Itoa(port)}, nil
}

// Addr returns the server's host:port, for logs.
func (s *SMTP) Addr() string { return s.addr }

// Send delivers one message. A refused recipient is a permanent failure; anything else
// (the server is down, busy, or refuses for now) is worth retrying.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return Permanent(err)
	}
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return err
	}
	err = c.DialAndSendWithContext(ctx, msg)
	var se *gomail.SendError
	if errors.As(err, &se) && !se.IsTemp() && se.Reason == gomail.ErrSMTPRcptTo {
		return Permanent(err)
	}
	return err
}

// build makes the MIME message: plain text with an HTML alternative.
func (s *SMTP) build(m Message) (*gomail.Msg, error) {
	if strings.ContainsAny(m.Subject, "\r\n") || strings.ContainsAny(m.To, "\r\n") {
		return nil, errors.New("line break in a header")
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return nil, err
	}
	if err := msg.To(m.To); err != nil {
		return nil, err
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	switch {
	case m.MessageID != "":
		if strings.ContainsAny(m.MessageID, "\r\n<>") {
			return nil, errors.New("invalid Message-ID")
		}
		msg.SetMessageIDWithValue(m.MessageID)
	case m.ID != "":
		msg.SetMessageIDWithValue(m.ID + "@" + s.host)
	}
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}
