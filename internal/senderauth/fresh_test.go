package senderauth_test

import (
	"context"
	"crypto"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/unlockd/unlockd/internal/senderauth"
)

// TestSignatureAge: old signatures do not count, however valid. Test
// signatures carry go-msgauth's t= of now, so the verifier's clock is set
// relative to now.
func TestSignatureAge(t *testing.T) {
	signers(t)
	now := time.Now()
	signed := rsaAcme.Sign(message("acme.example"))
	expiring := rsaAcme.SignWith(message("acme.example"), dkim.SignOptions{Expiration: now.Add(time.Hour)})
	// Without t= the signed Date tells the age: the message's Date is
	// 2 March 2026.
	dateOnly := craftWith(t, message("acme.example"), rsaAcme.Key(), "acme.example", rsaAcme.Selector, crypto.SHA256, -1,
		[]string{"From", "Subject", "Date"}, false)
	noAge := craftWith(t, message("acme.example"), rsaAcme.Key(), "acme.example", rsaAcme.Selector, crypto.SHA256, -1,
		[]string{"From", "Subject"}, false)
	march := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	const arDMARC = "Authentication-Results: mx.corp.example; dmarc=pass header.from=acme.example\r\n"

	tests := []struct {
		name     string
		mode     senderauth.Mode
		raw      []byte
		now      time.Time
		maxAge   time.Duration
		wantPass bool
		reason   string
	}{
		{"fresh", senderauth.ModeDKIM, signed, now.Add(time.Minute), 0, true, "dkim=pass"},
		{"six days old", senderauth.ModeDKIM, signed, now.Add(6 * 24 * time.Hour), 0, true, "dkim=pass"},
		{"eight days old", senderauth.ModeDKIM, signed, now.Add(8 * 24 * time.Hour), 0, false, "older than max_signature_age 168h0m0s"},
		{"a shorter limit", senderauth.ModeDKIM, signed, now.Add(2 * time.Hour), time.Hour, false, "older than max_signature_age 1h0m0s"},
		{"dated in the future", senderauth.ModeDKIM, signed, now.Add(-2 * time.Hour), 0, false, "dated in the future"},
		{"past x= on our clock", senderauth.ModeDKIM, expiring, now.Add(2 * time.Hour), 0, false, "expired at"},
		{"before x=", senderauth.ModeDKIM, expiring, now.Add(time.Minute), 0, true, "dkim=pass"},
		{"no t=: the signed Date", senderauth.ModeDKIM, dateOnly, march.Add(time.Hour), 0, true, "dkim=pass"},
		{"no t=: an old signed Date", senderauth.ModeDKIM, dateOnly, march.Add(30 * 24 * time.Hour), 0, false, "older than"},
		{"no t= and no signed Date: age unknown", senderauth.ModeDKIM, noAge, now, 0, false, "its age is unknown"},
		{"Authentication-Results on an old signature", senderauth.ModeAuthResults, append([]byte(arDMARC), signed...),
			now.Add(8 * 24 * time.Hour), 0, false, "older than max_signature_age"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &senderauth.Verifier{Mode: tt.mode, AuthservID: ourID, LookupTXT: newDNS(rsaAcme).lookup,
				Now: func() time.Time { return tt.now }, MaxSignatureAge: tt.maxAge}
			got, err := v.Verify(context.Background(), tt.raw, "acme.example")
			if err != nil || got.Pass != tt.wantPass || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("Verify() = %+v, %v; want Pass %v, reason containing %q", got, err, tt.wantPass, tt.reason)
			}
		})
	}
}
