package mailtest

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// DNSServer answers TXT queries over UDP on a loopback port from a fixed
// set of records (NXDOMAIN otherwise), or, while silenced, reads every
// query and answers none: a resolver that hangs.
type DNSServer struct {
	Addr    string
	pc      net.PacketConn
	silent  atomic.Bool
	queries atomic.Int64
}

// StartDNS serves records (lower-case name without the final dot → TXT
// value) until the test ends.
func StartDNS(tb testing.TB, records map[string]string) *DNSServer {
	tb.Helper()
	s, err := NewDNS(records)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// NewDNS serves records until Close. Tests use StartDNS; this is for tools
// without a testing.TB.
func NewDNS(records map[string]string) (*DNSServer, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &DNSServer{Addr: pc.LocalAddr().String(), pc: pc}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			s.queries.Add(1)
			if s.silent.Load() {
				continue
			}
			if out, ok := answer(buf[:n], records); ok {
				pc.WriteTo(out, addr)
			}
		}
	}()
	return s, nil
}

// Close stops the server.
func (s *DNSServer) Close() error { return s.pc.Close() }

// Silence makes the server answer nothing (true) or answer again (false).
func (s *DNSServer) Silence(on bool) { s.silent.Store(on) }

// Queries returns how many queries arrived, answered or not.
func (s *DNSServer) Queries() int { return int(s.queries.Load()) }

// answer builds the reply to one query.
func answer(query []byte, records map[string]string) ([]byte, bool) {
	var p dnsmessage.Parser
	hdr, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	rec, found := records[strings.TrimSuffix(strings.ToLower(q.Name.String()), ".")]
	resp := dnsmessage.Header{ID: hdr.ID, Response: true, Authoritative: true, RecursionAvailable: true}
	if !found || q.Type != dnsmessage.TypeTXT {
		resp.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, resp)
	b.StartQuestions()
	b.Question(q)
	if found && q.Type == dnsmessage.TypeTXT {
		b.StartAnswers()
		var txt []string // at most 255 bytes per string, as in a real zone
		for len(rec) > 255 {
			txt, rec = append(txt, rec[:255]), rec[255:]
		}
		b.TXTResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 300},
			dnsmessage.TXTResource{TXT: append(txt, rec)})
	}
	out, err := b.Finish()
	return out, err == nil
}
