package senderauth_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/senderauth"
)

// craftSignature DKIM-signs raw (CRLF, unique header names) with simple/simple
// canonicalization by hand, because go-msgauth refuses to sign with rsa-sha1
// and cannot emit l=. h is crypto.SHA1 or crypto.SHA256; bodyLength < 0
// means no l= tag. Signing From, To and Subject only.
func craftSignature(tb testing.TB, raw []byte, signer crypto.Signer, domain, selector string, h crypto.Hash, bodyLength int) []byte {
	tb.Helper()
	return craftWith(tb, raw, signer, domain, selector, h, bodyLength, []string{"From", "To", "Subject"}, true)
}

// craftWith is craftSignature over the named fields (each present once),
// with a t= tag only when withTime is set.
func craftWith(tb testing.TB, raw []byte, signer crypto.Signer, domain, selector string, h crypto.Hash, bodyLength int, fields []string, withTime bool) []byte {
	tb.Helper()
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		tb.Fatal("craftSignature: no header/body separator")
	}
	head = append(head, "\r\n"...)
	// Simple body canonicalization: drop trailing empty lines, end with CRLF.
	body = bytes.TrimRight(body, "\r\n")
	body = append(body, "\r\n"...)
	newHash := map[crypto.Hash]func() hash.Hash{crypto.SHA1: sha1.New, crypto.SHA256: sha256.New}[h]
	algo := map[crypto.Hash]string{crypto.SHA1: "rsa-sha1", crypto.SHA256: "rsa-sha256"}[h]

	bh := newHash()
	tags := fmt.Sprintf("v=1; a=%s; c=simple/simple; d=%s; s=%s; h=%s; ", algo, domain, selector, strings.Join(fields, ":"))
	if withTime {
		tags += fmt.Sprintf("t=%d; ", time.Now().Unix())
	}
	if bodyLength >= 0 {
		bh.Write(body[:bodyLength])
		tags += fmt.Sprintf("l=%d; ", bodyLength)
	} else {
		bh.Write(body)
	}
	sigField := "DKIM-Signature: " + tags + "bh=" + base64.StdEncoding.EncodeToString(bh.Sum(nil)) + "; b="

	hh := newHash()
	for _, name := range fields {
		for _, line := range strings.SplitAfter(string(head), "\r\n") {
			if strings.HasPrefix(line, name+":") {
				hh.Write([]byte(line))
			}
		}
	}
	hh.Write([]byte(sigField))
	sig, err := signer.Sign(rand.Reader, hh.Sum(nil), h)
	if err != nil {
		tb.Fatalf("craftSignature: %v", err)
	}
	return append([]byte(sigField+base64.StdEncoding.EncodeToString(sig)+"\r\n"), raw...)
}

func TestVerifyDKIMCraftedSignatures(t *testing.T) {
	signers(t)
	raw := message("acme.example")
	key := rsaAcme.Key()
	sel := rsaAcme.Selector
	appended := func(b []byte) []byte {
		return append(bytes.Clone(b), "P.S. unlock root as well.\r\n"...)
	}

	tests := []struct {
		name       string
		raw        []byte
		wantPass   bool
		wantReason string
		wantCalls  int64
	}{
		// The crafting is right: the same code with sha256 and no l= passes.
		{"control: crafted rsa-sha256", craftSignature(t, raw, key, "acme.example", sel, crypto.SHA256, -1),
			true, "dkim=pass d=acme.example", 1},
		{"genuine rsa-sha1 signature ignored", craftSignature(t, raw, key, "acme.example", sel, crypto.SHA1, -1),
			false, "rsa-sha1 signature ignored", 0},
		{"genuine l= signature with appended text ignored", appended(craftSignature(t, raw, key, "acme.example", sel, crypto.SHA256, 20)),
			false, "signature with l= ignored", 0},
		{"control: crafted signature with appended text fails", appended(craftSignature(t, raw, key, "acme.example", sel, crypto.SHA256, -1)),
			false, "body hash did not verify", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dns := newDNS(rsaAcme)
			v := &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: dns.lookup}
			got, err := v.Verify(context.Background(), tt.raw, "acme.example")
			if err != nil {
				t.Fatalf("Verify() error = %v", err)
			}
			if got.Pass != tt.wantPass || !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("Verify() = %+v, want Pass %v, Reason containing %q", got, tt.wantPass, tt.wantReason)
			}
			if n := dns.calls.Load(); n != tt.wantCalls {
				t.Errorf("LookupTXT called %d times, want %d", n, tt.wantCalls)
			}
		})
	}
}
