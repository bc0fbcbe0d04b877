package senderauth_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/unlockd/unlockd/internal/senderauth"
	"github.com/unlockd/unlockd/internal/senderauth/senderauthtest"
)

// Keys are generated once per test binary: RSA-2048 generation is slow.
var (
	keysOnce                          sync.Once
	rsaAcme, edAcme, rsaOther, rsaTLD *senderauthtest.Signer
)

func signers(tb testing.TB) {
	tb.Helper()
	keysOnce.Do(func() {
		rsaAcme = senderauthtest.NewSigner(tb, "acme.example")
		edAcme = senderauthtest.NewEd25519Signer(tb, "acme.example")
		edAcme.Selector = "ed"
		rsaOther = senderauthtest.NewSigner(tb, "other.example")
		rsaTLD = senderauthtest.NewSigner(tb, "example")
	})
}

// message returns a plain request from it@<fromDomain>, CRLF line endings.
func message(fromDomain string, extraHeader ...string) []byte {
	var b strings.Builder
	for _, h := range extraHeader {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("From: Ann Admin <it@" + fromDomain + ">\r\n" +
		"To: unlock@corp.example\r\n" +
		"Subject: Unlock: jdoe\r\n" +
		"Date: Mon, 02 Mar 2026 09:00:00 +0000\r\n" +
		"Message-ID: <req-1@" + fromDomain + ">\r\n" +
		"\r\n" +
		"Hello,\r\n\r\nplease unlock jdoe.\r\n\r\nAnn\r\n")
	return []byte(b.String())
}

// fakeDNS serves records, fails names listed in errs, and counts queries.
type fakeDNS struct {
	records map[string]string
	errs    map[string]error
	calls   atomic.Int64
}

func newDNS(ss ...*senderauthtest.Signer) *fakeDNS {
	d := &fakeDNS{records: map[string]string{}, errs: map[string]error{}}
	for _, s := range ss {
		d.records[s.RecordName()] = s.Record()
	}
	return d
}

func (d *fakeDNS) lookup(_ context.Context, name string) ([]string, error) {
	d.calls.Add(1)
	if err, ok := d.errs[name]; ok {
		return nil, err
	}
	if r, ok := d.records[name]; ok {
		return []string{r}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

var (
	errTemporary = &net.DNSError{Err: "server misbehaving", Name: "x", IsTemporary: true}
	errNXDomain  = &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}
)

func TestVerifyDKIM(t *testing.T) {
	signers(t)
	acme := message("acme.example")
	signed := rsaAcme.Sign(acme)

	tampered := bytes.Replace(signed, []byte("unlock jdoe"), []byte("unlock root"), 1)
	tamperedHeader := bytes.Replace(signed, []byte("Subject: Unlock: jdoe"), []byte("Subject: Unlock: root"), 1)
	withL := bytes.Replace(signed, []byte("DKIM-Signature: "), []byte("DKIM-Signature: l=20; "), 1)
	sha1 := bytes.Replace(signed, []byte("a=rsa-sha256"), []byte("a=rsa-sha1"), 1)

	tests := []struct {
		name       string
		raw        []byte
		from       string
		dns        func() *fakeDNS
		wantPass   bool
		wantReason string // substring
		wantTemp   bool
		wantCalls  int64 // -1: do not check
	}{
		{name: "rsa-sha256 passes", raw: signed, from: "acme.example",
			wantPass: true, wantReason: "dkim=pass d=acme.example", wantCalls: 1},
		{name: "ed25519 passes", raw: edAcme.Sign(acme), from: "acme.example",
			wantPass: true, wantReason: "dkim=pass d=acme.example", wantCalls: 1},
		{name: "parent domain passes", raw: rsaAcme.Sign(message("mail.acme.example")), from: "mail.acme.example",
			wantPass: true, wantReason: "dkim=pass d=acme.example", wantCalls: 1},
		{name: "unrelated domain not aligned", raw: rsaOther.Sign(acme), from: "acme.example",
			wantReason: "dkim signature d=other.example not aligned with acme.example", wantCalls: 0},
		{name: "lookalike suffix not aligned", raw: rsaAcme.Sign(message("notacme.example")), from: "notacme.example",
			wantReason: "not aligned", wantCalls: 0},
		{name: "single-label d= never counts", raw: rsaTLD.Sign(acme), from: "acme.example",
			wantReason: "dkim signature d=example not aligned with acme.example", wantCalls: 0},
		{name: "child d= does not vouch for parent", raw: senderauthtest.NewEd25519Signer(t, "mail.acme.example").Sign(acme), from: "acme.example",
			wantReason: "not aligned", wantCalls: 0},
		{name: "body modified after signing", raw: tampered, from: "acme.example",
			wantReason: "dkim=fail d=acme.example: body hash did not verify", wantCalls: 1},
		{name: "header modified after signing", raw: tamperedHeader, from: "acme.example",
			wantReason: "dkim=fail d=acme.example", wantCalls: 1},
		{name: "l= ignored", raw: withL, from: "acme.example",
			wantReason: "signature with l= ignored", wantCalls: 0},
		{name: "rsa-sha1 ignored", raw: sha1, from: "acme.example",
			wantReason: "rsa-sha1 signature ignored", wantCalls: 0},
		{name: "no signature", raw: acme, from: "acme.example",
			wantReason: "no DKIM signature", wantCalls: 0},
		{name: "no From domain", raw: signed, from: "",
			wantReason: "no From domain", wantCalls: 0},
		{name: "temporary DNS failure", raw: signed, from: "acme.example",
			dns: func() *fakeDNS {
				d := newDNS()
				d.errs[rsaAcme.RecordName()] = errTemporary
				return d
			},
			wantReason: "temperror", wantTemp: true, wantCalls: 1},
		{name: "DNS timeout", raw: signed, from: "acme.example",
			dns: func() *fakeDNS {
				d := newDNS()
				d.errs[rsaAcme.RecordName()] = &net.DNSError{Err: "i/o timeout", IsTimeout: true}
				return d
			},
			wantTemp: true, wantCalls: 1},
		{name: "NXDOMAIN is a permanent failure", raw: signed, from: "acme.example",
			dns: func() *fakeDNS {
				d := newDNS()
				d.errs[rsaAcme.RecordName()] = errNXDomain
				return d
			},
			wantReason: "dkim=fail d=acme.example: no key for signature", wantCalls: 1},
		{name: "revoked key", raw: signed, from: "acme.example",
			dns: func() *fakeDNS {
				d := newDNS()
				d.records[rsaAcme.RecordName()] = "v=DKIM1; k=rsa; p="
				return d
			},
			wantReason: "key revoked", wantCalls: 1},
		{name: "unaligned and aligned signatures: aligned one passes",
			raw: rsaOther.Sign(edAcme.Sign(acme)), from: "acme.example",
			wantPass: true, wantReason: "dkim=pass d=acme.example", wantCalls: 1},
		{name: "temporary failure on one signature, another passes",
			raw: edAcme.Sign(signed), from: "acme.example",
			dns: func() *fakeDNS {
				d := newDNS(rsaAcme)
				d.errs[edAcme.RecordName()] = errTemporary
				return d
			},
			wantPass: true, wantCalls: 2},
		{name: "unaligned signature never queries DNS, so no temporary error",
			raw: rsaOther.Sign(acme), from: "acme.example",
			dns: func() *fakeDNS {
				d := newDNS()
				d.errs[rsaOther.RecordName()] = errTemporary
				return d
			},
			wantReason: "not aligned", wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dns := newDNS(rsaAcme, edAcme, rsaOther, rsaTLD)
			if tt.dns != nil {
				dns = tt.dns()
			}
			v := &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: dns.lookup}
			got, err := v.Verify(context.Background(), tt.raw, tt.from)
			if tt.wantTemp {
				var te *senderauth.TemporaryError
				if !errors.As(err, &te) || !senderauth.IsTemporary(err) {
					t.Fatalf("Verify() error = %v, want a *TemporaryError", err)
				}
				var dnsErr *net.DNSError
				if !errors.As(err, &dnsErr) {
					t.Errorf("Verify() error = %v, want it to wrap the *net.DNSError", err)
				}
			} else if err != nil {
				t.Fatalf("Verify() error = %v", err)
			}
			if got.Pass != tt.wantPass {
				t.Errorf("Pass = %v, want %v (reason %q)", got.Pass, tt.wantPass, got.Reason)
			}
			if got.Method != senderauth.MethodDKIM {
				t.Errorf("Method = %q, want dkim", got.Method)
			}
			if !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("Reason = %q, want it to contain %q", got.Reason, tt.wantReason)
			}
			if tt.wantCalls >= 0 && dns.calls.Load() != tt.wantCalls {
				t.Errorf("LookupTXT called %d times, want %d", dns.calls.Load(), tt.wantCalls)
			}
		})
	}
}

func TestVerifyDKIMCancelledContextIsTemporary(t *testing.T) {
	signers(t)
	v := &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: senderauthtest.LookupTXT(rsaAcme)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := v.Verify(ctx, rsaAcme.Sign(message("acme.example")), "acme.example")
	if !senderauth.IsTemporary(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify() = %+v, %v; want a temporary error wrapping context.Canceled", got, err)
	}
	if got.Pass {
		t.Error("Pass = true on a cancelled context")
	}
}

func TestVerifyDKIMRelaxedAndSimple(t *testing.T) {
	signers(t)
	v := &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: senderauthtest.LookupTXT(rsaAcme)}
	raw := rsaAcme.SignWith(message("acme.example"), dkim.SignOptions{
		HeaderKeys: []string{"From", "Subject", "Date", "Message-ID", "To"},
	})
	got, err := v.Verify(context.Background(), raw, "acme.example")
	if err != nil || !got.Pass {
		t.Fatalf("Verify() = %+v, %v; want pass", got, err)
	}
}

// clock is an injectable, advanceable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestKeyCache(t *testing.T) {
	signers(t)
	raw := rsaAcme.Sign(message("acme.example"))
	dns := newDNS(rsaAcme)
	clk := &clock{now: time.Now()} // go-msgauth signs with t= on its own clock: now
	v := &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: dns.lookup, Now: clk.Now}

	verify := func(wantCalls int64) {
		t.Helper()
		got, err := v.Verify(context.Background(), raw, "acme.example")
		if err != nil || !got.Pass {
			t.Fatalf("Verify() = %+v, %v; want pass", got, err)
		}
		if n := dns.calls.Load(); n != wantCalls {
			t.Fatalf("LookupTXT called %d times, want %d", n, wantCalls)
		}
	}
	verify(1)
	verify(1) // cached
	clk.Advance(4*time.Minute + 59*time.Second)
	verify(1) // still cached
	clk.Advance(time.Second)
	verify(2) // expired after five minutes
	verify(2)
}

// TestKeyCacheRemembersTemporaryFailures: a temporary failure is kept for
// a short while, so that many messages from a domain whose DNS is down
// cost one query, and asked again after it; NXDOMAIN is never kept.
func TestKeyCacheRemembersTemporaryFailures(t *testing.T) {
	signers(t)
	raw := rsaAcme.Sign(message("acme.example"))
	dns := newDNS(rsaAcme)
	dns.errs[rsaAcme.RecordName()] = errTemporary
	clk := &clock{now: time.Now()}
	v := &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: dns.lookup, Now: clk.Now}

	for range 3 {
		if _, err := v.Verify(context.Background(), raw, "acme.example"); !senderauth.IsTemporary(err) {
			t.Fatalf("Verify() error = %v, want temporary", err)
		}
	}
	if n := dns.calls.Load(); n != 1 {
		t.Errorf("LookupTXT called %d times for three messages, want 1", n)
	}
	delete(dns.errs, rsaAcme.RecordName())
	clk.Advance(31 * time.Second)
	got, err := v.Verify(context.Background(), raw, "acme.example")
	if err != nil || !got.Pass {
		t.Fatalf("Verify() after the failure expired = %+v, %v; want pass", got, err)
	}
	if n := dns.calls.Load(); n != 2 {
		t.Errorf("LookupTXT called %d times, want 2", n)
	}

	dns.errs[edAcme.RecordName()] = errNXDomain
	edRaw := edAcme.Sign(message("acme.example"))
	for range 2 {
		if got, err := v.Verify(context.Background(), edRaw, "acme.example"); err != nil || got.Pass {
			t.Fatalf("Verify() of a signature without a key = %+v, %v; want a failure", got, err)
		}
	}
	if n := dns.calls.Load(); n != 4 {
		t.Errorf("LookupTXT called %d times, want 4 (NXDOMAIN is not kept)", n)
	}
}

// TestKeyLookupsShareOneQuery: concurrent lookups of one name wait for one
// query.
func TestKeyLookupsShareOneQuery(t *testing.T) {
	signers(t)
	raw := rsaAcme.Sign(message("acme.example"))
	release := make(chan struct{})
	var calls atomic.Int64
	v := &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: func(ctx context.Context, name string) ([]string, error) {
		calls.Add(1)
		<-release
		return []string{rsaAcme.Record()}, nil
	}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got, err := v.Verify(context.Background(), raw, "acme.example"); err != nil || !got.Pass {
				t.Errorf("Verify() = %+v, %v", got, err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("%d queries for 8 concurrent lookups, want 1", n)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	signers(t)
	raws := [][]byte{rsaAcme.Sign(message("acme.example")), edAcme.Sign(message("acme.example"))}
	v := &senderauth.Verifier{LookupTXT: senderauthtest.LookupTXT(rsaAcme, edAcme)}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			got, err := v.Verify(context.Background(), raws[i%2], "acme.example")
			if err != nil || !got.Pass {
				t.Errorf("Verify() = %+v, %v; want pass", got, err)
			}
		})
	}
	wg.Wait()
}

func BenchmarkVerifyDKIM(b *testing.B) {
	s := senderauthtest.NewSigner(b, "acme.example")
	raw := s.Sign(message("acme.example"))
	v := &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: s.LookupTXT}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		got, err := v.Verify(ctx, raw, "acme.example")
		if err != nil || !got.Pass {
			b.Fatalf("Verify() = %+v, %v", got, err)
		}
	}
}
