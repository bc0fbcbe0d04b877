package mailtest

import (
	"bufio"
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards loopback TCP connections to a target and fails them on
// demand: it can cut a connection after a number of IMAP FETCH responses
// from the server (a link that drops in the middle of a batch fetch), stall
// one there (a server that stops answering mid-FETCH), or stall every
// connection at once, the way a link behaves when the machine at its other
// end vanishes: no byte goes through any more and no FIN or RST arrives.
// Any TCP peer works behind it (IMAP, SMTP, PostgreSQL) for Stall.
//
// The FETCH cut falls between responses, not inside a message literal:
// go-imap v2 beta.8's client has a data race when the link breaks inside a
// literal (its literal reader and its read loop then share the buffered
// reader), which -race reports in every such test.
type Proxy struct {
	Addr   string
	target string
	ln     net.Listener
	closed chan struct{} // closed when the test ends: stalled links close then

	mu      sync.Mutex
	plans   []fault // per next connection
	conns   atomic.Int64
	stalled atomic.Bool
}

// fault is what happens to one connection after limit FETCH responses;
// limit 0 means nothing does.
type fault struct {
	limit int
	stall bool
}

// StartProxy listens on a loopback port and forwards to target until the
// test ends.
func StartProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, closed: make(chan struct{})}
	go p.serve()
	tb.Cleanup(func() { ln.Close(); close(p.closed) })
	return p
}

// CutNext makes the next connections drop after the given numbers of FETCH
// responses (lines ending ")\r\n") from the server, one number per
// connection.
func (p *Proxy) CutNext(responses ...int) { p.plan(false, responses) }

// StallNext makes the next connections stop forwarding, both ways and for
// good, after the given numbers of FETCH responses, one number per
// connection; the sockets stay open.
func (p *Proxy) StallNext(responses ...int) { p.plan(true, responses) }

func (p *Proxy) plan(stall bool, responses []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range responses {
		p.plans = append(p.plans, fault{limit: n, stall: stall})
	}
}

// Stall stops forwarding on every connection, open and future, without
// closing any: the other ends see a silent link until the test ends.
func (p *Proxy) Stall() { p.stalled.Store(true) }

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
		var f fault
		if len(p.plans) > 0 {
			f, p.plans = p.plans[0], p.plans[1:]
		}
		p.mu.Unlock()
		go p.forward(client, f)
	}
}

// hold keeps a stalled link open, silent, until the test ends.
func (p *Proxy) hold() { <-p.closed }

func (p *Proxy) forward(client net.Conn, f fault) {
	defer client.Close()
	if p.stalled.Load() {
		p.hold() // a vanished machine answers no new connection either
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	go func() {
		if p.pipe(server, client) {
			client.Close()
			server.Close()
		}
	}()
	if f.limit == 0 {
		p.pipe(client, server)
		return
	}
	// Forward line by line, counting the ")" lines that end FETCH responses
	// carrying a message literal.
	r := bufio.NewReader(server)
	for {
		line, err := r.ReadBytes('\n')
		if p.stalled.Load() {
			p.hold()
			return
		}
		if len(line) > 0 {
			if _, werr := client.Write(line); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
		if bytes.HasSuffix(line, []byte(")\r\n")) && !bytes.Contains(line, []byte("FETCH")) {
			if f.limit--; f.limit == 0 {
				if f.stall {
					p.hold()
				}
				return
			}
		}
	}
}

// pipe copies src to dst until either fails or the proxy stalls; it
// reports whether the link ended normally (false: it stalled, and the
// sockets must stay open).
func (p *Proxy) pipe(dst, src net.Conn) bool {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if p.stalled.Load() {
			p.hold()
			return false
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return true
			}
		}
		if err != nil {
			return true
		}
	}
}
