package senderauth_test

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/unlockd/unlockd/internal/senderauth"
)

// A configured resolver that does not answer must give a temporary error,
// never a failing verdict.
func TestDNSResolverDownIsTemporary(t *testing.T) {
	signers(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // a DNS server that never answers
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	refused := func() string { // a port nobody listens on
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := c.LocalAddr().String()
		c.Close()
		return addr
	}()
	raw := rsaAcme.Sign(message("acme.example"))
	for name, addr := range map[string]string{"silent": pc.LocalAddr().String(), "refused": refused} {
		t.Run(name, func(t *testing.T) {
			v := &senderauth.Verifier{Mode: senderauth.ModeDKIM, DNSResolver: addr}
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			got, err := v.Verify(ctx, raw, "acme.example")
			if !senderauth.IsTemporary(err) {
				t.Fatalf("Verify() = %+v, %v; want a temporary error", got, err)
			}
			t.Logf("error: %v", err)
		})
	}
}

// serveDNS answers TXT queries over UDP from records (NXDOMAIN otherwise)
// and counts them. It returns the server's address.
func serveDNS(tb testing.TB, records map[string]string, queries *atomic.Int64) string {
	tb.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			hdr, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			queries.Add(1)
			name := strings.TrimSuffix(strings.ToLower(q.Name.String()), ".")
			rec, ok := records[name]
			resp := dnsmessage.Header{ID: hdr.ID, Response: true, Authoritative: true, RecursionAvailable: true}
			if !ok || q.Type != dnsmessage.TypeTXT {
				resp.RCode = dnsmessage.RCodeNameError
			}
			b := dnsmessage.NewBuilder(nil, resp)
			b.EnableCompression()
			_ = b.StartQuestions()
			_ = b.Question(q)
			if ok && q.Type == dnsmessage.TypeTXT {
				_ = b.StartAnswers()
				// Split into 255-byte strings, as a real zone must.
				var txt []string
				for len(rec) > 255 {
					txt, rec = append(txt, rec[:255]), rec[255:]
				}
				txt = append(txt, rec)
				_ = b.TXTResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 300},
					dnsmessage.TXTResource{TXT: txt})
			}
			out, err := b.Finish()
			if err != nil {
				continue
			}
			_, _ = pc.WriteTo(out, addr)
		}
	}()
	return pc.LocalAddr().String()
}

// DNSResolver sends every query to the configured server: the key is found
// there, and its NXDOMAIN is a permanent failure, not a temporary one.
func TestDNSResolver(t *testing.T) {
	signers(t)
	var queries atomic.Int64
	addr := serveDNS(t, map[string]string{rsaAcme.RecordName(): rsaAcme.Record()}, &queries)
	v := &senderauth.Verifier{Mode: senderauth.ModeDKIM, DNSResolver: addr}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	for range 2 {
		got, err := v.Verify(ctx, rsaAcme.Sign(message("acme.example")), "acme.example")
		if err != nil || !got.Pass {
			t.Fatalf("Verify() = %+v, %v; want pass", got, err)
		}
	}
	if n := queries.Load(); n != 1 {
		t.Errorf("server saw %d queries, want 1 (second answer from the cache)", n)
	}

	got, err := v.Verify(ctx, edAcme.Sign(message("acme.example")), "acme.example")
	if err != nil || got.Pass || !strings.Contains(got.Reason, "no key for signature") {
		t.Errorf("Verify() with an unpublished key = %+v, %v; want a permanent failure", got, err)
	}
}
