// Package faultproxy is a TCP relay for tests that puts a fault between Roster and a server
// (PostgreSQL): it forwards, freezes (holds every connection open and answers nothing, like a
// hung server or a silent network partition), refuses (nothing listens), and resumes.
package faultproxy

import (
	"net"
	"sync"
	"testing"
)

// Proxy relays connections from its own address to a target address.
type Proxy struct {
	target string
	addr   string

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	thaw   chan struct{} // open while frozen; closed by Resume
	closed chan struct{}
}

// Start listens on a free local port and relays to target (host:port) until the test ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{target: target, conns: map[net.Conn]struct{}{}, closed: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's address (host:port), to use in place of the target's.
func (p *Proxy) Addr() string { return p.addr }

// Freeze stops forwarding: connections, old and new, stay open and no byte goes through in
// either direction until Resume.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.thaw == nil {
		p.thaw = make(chan struct{})
	}
}

// Refuse closes every relayed connection and stops listening: new connections are refused.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	p.dropConns()
}

// Resume forwards again: held bytes flow on, and a refusing proxy listens again at the same
// address.
func (p *Proxy) Resume(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	if p.thaw != nil {
		close(p.thaw)
		p.thaw = nil
	}
	listening := p.ln != nil
	p.mu.Unlock()
	if !listening {
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			t.Fatalf("listen again on %s: %v", p.addr, err)
		}
		p.serve(ln)
	}
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			go p.pipe(up, c)
			go p.pipe(c, up)
		}
	}()
}

// pipe copies src to dst, holding each chunk while the proxy is frozen.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer func() {
		_ = dst.Close()
		_ = src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.flowing() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// flowing waits while the proxy is frozen; it reports false when the proxy closed meanwhile.
func (p *Proxy) flowing() bool {
	p.mu.Lock()
	thaw := p.thaw
	p.mu.Unlock()
	if thaw == nil {
		return true
	}
	select {
	case <-thaw:
		return true
	case <-p.closed:
		return false
	}
}

func (p *Proxy) dropConns() {
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

func (p *Proxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.closed:
		return
	default:
	}
	close(p.closed)
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	p.dropConns()
}
