package sqltable

import (
	"net"
	"sync"
	"testing"
	"time"
)

// proxy is a TCP relay to a database server that a test can freeze (it
// keeps its connections open but forwards nothing: a server that hangs)
// or shut (every connection cut and new ones refused: a server down).
type proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	frozen bool
	conns  []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.shut)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go p.relay(c, s)
		go p.relay(s, c)
	}
}

// relay copies from src to dst, holding what it read while frozen.
func (p *proxy) relay(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for p.isFrozen() {
			time.Sleep(10 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (p *proxy) isFrozen() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frozen
}

func (p *proxy) freeze() {
	p.mu.Lock()
	p.frozen = true
	p.mu.Unlock()
}

// shut cuts every connection and refuses new ones.
func (p *proxy) shut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = false
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
