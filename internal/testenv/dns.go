package testenv

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// DNS is a real DNS server on a random local UDP port answering the TXT records a test sets:
// domain verification asks it (app.Config.DNSResolver = DNS.Addr). A name without records
// answers NXDOMAIN.
type DNS struct {
	Addr string
	mu   sync.Mutex
	txt  map[string][]string // fully qualified, lower case
	fail map[string]bool     // names answered SERVFAIL
}

// DNSServer starts a DNS server for the test's duration.
func DNSServer(t testing.TB) *DNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &DNS{Addr: pc.LocalAddr().String(), txt: map[string][]string{}, fail: map[string]bool{}}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(d.serve), NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return d
}

// SetTXT replaces the TXT records of a name (none: the name stops existing).
func (d *DNS) SetTXT(name string, values ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.txt[dns.Fqdn(strings.ToLower(name))] = values
}

// Fail makes the server answer SERVFAIL for a name (on: a failing server, which says nothing
// of the record), or answer it again (off).
func (d *DNS) Fail(name string, on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fail[dns.Fqdn(strings.ToLower(name))] = on
}

func (d *DNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	d.mu.Lock()
	for _, q := range req.Question {
		if d.fail[strings.ToLower(q.Name)] {
			m.Rcode = dns.RcodeServerFailure
			continue
		}
		values, ok := d.txt[strings.ToLower(q.Name)]
		if !ok || len(values) == 0 {
			m.Rcode = dns.RcodeNameError
			continue
		}
		if q.Qtype != dns.TypeTXT {
			continue
		}
		for _, v := range values {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1}, Txt: []string{v}})
		}
	}
	d.mu.Unlock()
	_ = w.WriteMsg(m)
}
