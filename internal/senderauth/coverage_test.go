package senderauth_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/unlockd/unlockd/internal/mailheader"
	"github.com/unlockd/unlockd/internal/senderauth"
)

// TestCoverage: a pass covers only the field instances its signature
// signed; every instance of a field must be covered for the field to
// count.
func TestCoverage(t *testing.T) {
	signers(t)
	relaxed := func(keys ...string) dkim.SignOptions {
		return dkim.SignOptions{HeaderCanonicalization: dkim.CanonicalizationRelaxed,
			BodyCanonicalization: dkim.CanonicalizationRelaxed, HeaderKeys: keys}
	}
	signedAll := rsaAcme.Sign(message("acme.example"))
	noSubject := rsaAcme.SignWith(message("acme.example"), relaxed("From", "To", "Date", "Message-ID"))
	oversigned := rsaAcme.SignWith(message("acme.example", "Content-Type: text/plain; charset=utf-8"),
		relaxed("From", "From", "Subject", "Subject", "Content-Type", "Content-Type", "To", "Date"))
	prepend := func(raw []byte, field string) []byte { return append([]byte(field+"\r\n"), raw...) }
	now := strconv.FormatInt(time.Now().Unix(), 10)
	const arDKIM = "Authentication-Results: mx.corp.example; dkim=pass header.d=acme.example header.s=test"
	const arDMARC = "Authentication-Results: mx.corp.example; dmarc=pass header.from=acme.example"
	const arSPF = "Authentication-Results: mx.corp.example; spf=pass smtp.mailfrom=bounce@mail.acme.example; dmarc=pass header.from=acme.example"

	tests := []struct {
		name        string
		mode        senderauth.Mode
		raw         []byte
		wantPass    bool
		subject     bool // Covers(Subject)
		contentType bool // Covers(Content-Type, Content-Transfer-Encoding); absent fields count as covered
	}{
		{"every field signed", senderauth.ModeDKIM, signedAll, true, true, true},
		{"Subject outside h=", senderauth.ModeDKIM, noSubject, true, false, true},
		{"Subject prepended to a signed mail", senderauth.ModeDKIM, prepend(signedAll, "Subject: Unlock: bob"), true, false, true},
		{"Content-Type prepended, none signed", senderauth.ModeDKIM, prepend(signedAll, "Content-Type: text/plain; charset=utf-7"), true, true, false},
		{"oversigned From, Subject and Content-Type", senderauth.ModeDKIM, oversigned, true, true, true},
		{"Content-Type prepended to an oversigned mail fails the signature", senderauth.ModeDKIM,
			prepend(oversigned, "Content-Type: text/html"), false, false, false},
		{"AR dkim=pass: the named signature's h= decides", senderauth.ModeAuthResults, prepend(noSubject, arDKIM), true, false, true},
		{"AR dkim=pass, Subject prepended", senderauth.ModeAuthResults, prepend(prepend(signedAll, "Subject: Unlock: bob"), arDKIM), true, false, true},
		{"AR dmarc=pass with no signature: SPF, the whole message", senderauth.ModeAuthResults, prepend(message("acme.example"), arDMARC), true, true, true},
		{"AR dmarc=pass: what every aligned signature covers", senderauth.ModeAuthResults, prepend(noSubject, arDMARC), true, false, true},
		{"AR dmarc=pass: an added signature only shrinks coverage", senderauth.ModeAuthResults,
			prepend(prepend(signedAll, "DKIM-Signature: v=1; a=rsa-sha256; d=acme.example; s=x; t="+now+"; h=from; bh=AA==; b=AA=="), arDMARC), true, false, true},
		{"AR dmarc=pass: a signature of unknown age fails it", senderauth.ModeAuthResults,
			prepend(prepend(signedAll, "DKIM-Signature: v=1; a=rsa-sha256; d=acme.example; s=x; h=from; bh=AA==; b=AA=="), arDMARC), false, false, false},
		{"AR aligned spf=pass: the whole message", senderauth.ModeAuthResults, prepend(noSubject, arSPF), true, true, true},
		{"AR dkim=pass naming no signature in the message", senderauth.ModeAuthResults, prepend(message("acme.example"), arDKIM), true, false, true},
		{"off covers everything", senderauth.ModeOff, message("acme.example"), true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &senderauth.Verifier{Mode: tt.mode, AuthservID: ourID, LookupTXT: newDNS(rsaAcme).lookup, Logger: slog.New(slog.DiscardHandler)}
			h := mailheader.Parse(tt.raw, mailheader.Limits{})
			got, err := v.Check(context.Background(), senderauth.Input{Raw: tt.raw, Header: h, FromDomain: "acme.example"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Pass != tt.wantPass {
				t.Fatalf("Pass = %v (%s), want %v", got.Pass, got.Reason, tt.wantPass)
			}
			if c := got.Covers(h, "Subject"); c != tt.subject {
				t.Errorf("Covers(Subject) = %v, want %v (%+v)", c, tt.subject, got)
			}
			if c := got.Covers(h, "Content-Type", "Content-Transfer-Encoding"); c != tt.contentType {
				t.Errorf("Covers(Content-Type, CTE) = %v, want %v", c, tt.contentType)
			}
			if !got.Covers(h) != !got.Pass {
				t.Errorf("Covers() of nothing = %v with Pass %v", got.Covers(h), got.Pass)
			}
		})
	}
}

// TestSignatures: a DKIM pass names the signatures it rests on, with their
// decoded b= (the replay key) and times.
func TestSignatures(t *testing.T) {
	signers(t)
	raw := edAcme.Sign(rsaAcme.Sign(message("acme.example")))
	v := &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: newDNS(rsaAcme, edAcme).lookup}
	got, err := v.Verify(context.Background(), raw, "acme.example")
	if err != nil || !got.Pass || len(got.Signatures) != 2 {
		t.Fatalf("Verify() = %+v, %v; want a pass on two signatures", got, err)
	}
	for _, s := range got.Signatures {
		if s.Domain != "acme.example" || len(s.B) < 64 || s.Time.IsZero() {
			t.Errorf("signature %+v: want d=acme.example, a decoded b= and a t=", s)
		}
	}
	if bytes.Equal(got.Signatures[0].B, got.Signatures[1].B) {
		t.Error("two signatures share a b=")
	}
}

// TestHeaderLimitsStopVerification: a header past its limits is never
// handed to go-msgauth, and no DNS is spent on it.
func TestHeaderLimitsStopVerification(t *testing.T) {
	signers(t)
	raw := rsaAcme.Sign(message("acme.example", "X-Fold: a\r\n"+strings.Repeat(" b\r\n", 600)))
	dns := newDNS(rsaAcme)
	v := &senderauth.Verifier{Mode: senderauth.ModeAny, AuthservID: ourID, LookupTXT: dns.lookup}
	got, err := v.Verify(context.Background(), raw, "acme.example")
	if err != nil || got.Pass || !strings.Contains(got.Reason, "not verified: a header field folded into more than 200 lines") {
		t.Errorf("Verify() = %+v, %v; want a failure naming the limit", got, err)
	}
	if dns.calls.Load() != 0 {
		t.Errorf("%d DNS lookups for a header past its limits", dns.calls.Load())
	}
}
