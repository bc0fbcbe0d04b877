package mailtest

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards loopback TCP connections to a target and can cut a
// connection after a number of IMAP FETCH responses from the server, to
// simulate a link that drops in the middle of a batch fetch.
//
// The cut falls between responses, not inside a message literal: go-imap
// v2 beta.8's client has a data race when the link breaks inside a literal
// (its literal reader and its read loop then share the buffered reader), which
// -race reports in every such test.
type Proxy struct {
	Addr   string
	target string
	ln     net.Listener

	mu       sync.Mutex
	cutAfter []int // per next connection; 0 means never
	conns    atomic.Int64
}

// StartProxy listens on a loopback port and forwards to target until the
// test ends.
func StartProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln}
	go p.serve()
	tb.Cleanup(func() { ln.Close() })
	return p
}

// CutNext makes the next connections drop after the given numbers of FETCH
// responses (lines ending ")\r\n") from the server, one number per
// connection.
func (p *Proxy) CutNext(responses ...int) {
	p.mu.Lock()
	p.cutAfter = append(p.cutAfter, responses...)
	p.mu.Unlock()
}

// Connections returns how many connections the proxy accepted.
func (p *Proxy) Connections() int { return int(p.conns.Load()) }

func (p *Proxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		p.mu.Lock()
		var limit int
		if len(p.cutAfter) > 0 {
			limit, p.cutAfter = p.cutAfter[0], p.cutAfter[1:]
		}
		p.mu.Unlock()
		go p.forward(client, limit)
	}
}

func (p *Proxy) forward(client net.Conn, limit int) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	defer client.Close()
	defer server.Close()
	go func() { io.Copy(server, client); client.Close(); server.Close() }()
	if limit == 0 {
		io.Copy(client, server)
		return
	}
	// Forward line by line, counting the ")" lines that end FETCH responses
	// carrying a message literal.
	r := bufio.NewReader(server)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			if _, werr := client.Write(line); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
		if bytes.HasSuffix(line, []byte(")\r\n")) && !bytes.Contains(line, []byte("FETCH")) {
			if limit--; limit == 0 {
				return
			}
		}
	}
}
