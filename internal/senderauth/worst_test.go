package senderauth_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/address"
	"github.com/unlockd/unlockd/internal/mailheader"
	"github.com/unlockd/unlockd/internal/mailparse"
	"github.com/unlockd/unlockd/internal/senderauth"
)

// worstHeader returns a signed request whose header is just under
// mailheader.DefaultLimits.Bytes, spread over as many physical lines as the
// limits allow, each field folded into as many lines as one field may
// have: the shape that costs go-msgauth's unfolding the most.
func worstHeader(tb testing.TB) []byte {
	tb.Helper()
	signers(tb)
	lim := mailheader.DefaultLimits
	base := message("acme.example")
	fields := (lim.Lines - 20) / lim.FieldLines // lines left for the filler, whole fields only
	width := (lim.Bytes - 4096) / (fields * lim.FieldLines)
	var b strings.Builder
	for f := range fields {
		b.WriteString("X-Filler-" + string(rune('a'+f)) + ": x\r\n")
		for range lim.FieldLines - 1 {
			b.WriteString(" " + strings.Repeat("y", width-3) + "\r\n")
		}
	}
	raw := rsaAcme.Sign(append([]byte(b.String()), base...)) // every field signed
	h := mailheader.Parse(raw, lim)
	if h.Exceeded != "" || !h.Complete || h.Size < lim.Bytes*9/10 {
		tb.Fatalf("worst header: %d bytes, exceeded %q: not just under the limits", h.Size, h.Exceeded)
	}
	return raw
}

// parseAndVerify does what intake does with a message: one parse, then
// sender authentication on the shared header.
func parseAndVerify(tb testing.TB, v *senderauth.Verifier, raw []byte) {
	m, err := mailparse.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	got, err := v.Check(context.Background(), senderauth.Input{Raw: raw, Header: m.Header, FromDomain: address.Domain(m.From)})
	if err != nil || !got.Pass || !got.Covers(m.Header, "Subject") {
		tb.Fatalf("Check() = %+v, %v; want a pass covering the Subject", got, err)
	}
}

// BenchmarkWorstCaseHeader parses and verifies the worst header the limits
// let through (the target: under 50 ms).
func BenchmarkWorstCaseHeader(b *testing.B) {
	raw := worstHeader(b)
	v := &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: newDNS(rsaAcme).lookup}
	b.ReportAllocs()
	for b.Loop() {
		parseAndVerify(b, v, raw)
	}
}

// TestWorstCaseHeaderStaysCheap keeps header reading from going quadratic
// again: the bounds are ten times what the benchmark measures here, so only
// a change of complexity, not a slow machine, trips them.
func TestWorstCaseHeaderStaysCheap(t *testing.T) {
	raw := worstHeader(t)
	v := &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: newDNS(rsaAcme).lookup}
	parseAndVerify(t, v, raw) // warm the key cache
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	parseAndVerify(t, v, raw)
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 800<<20 {
		t.Errorf("parse and verify allocated %d MiB, want under 800", alloc>>20)
	}
	if took > 2*time.Second {
		t.Errorf("parse and verify took %s, want well under 2s", took)
	}
}
