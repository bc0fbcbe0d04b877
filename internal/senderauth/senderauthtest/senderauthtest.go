// Package senderauthtest helps other packages' tests DKIM-sign mail and serve
// the matching public key, so that senderauth verifies it for real without
// touching DNS.
//
//	s := senderauthtest.NewSigner(t, "acme.example")
//	raw := s.Sign(eml)
//	v := &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: s.LookupTXT}
package senderauthtest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// Selector is the DKIM selector every Signer uses.
const Selector = "test"

// Signer signs messages with a freshly generated key for one domain (d=).
type Signer struct {
	// Domain is the signing domain, the d= tag.
	Domain string
	// Selector is the s= tag.
	Selector string

	tb     testing.TB // nil for a GenerateSigner
	key    crypto.Signer
	record string
}

// NewSigner returns a Signer for domain with a new RSA-2048 key.
func NewSigner(tb testing.TB, domain string) *Signer {
	tb.Helper()
	s, err := GenerateSigner(domain)
	if err != nil {
		tb.Fatal(err)
	}
	s.tb = tb
	return s
}

// GenerateSigner is NewSigner for tools without a testing.TB: its Sign
// panics if signing fails, which only a broken key makes it do.
func GenerateSigner(domain string) (*Signer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("senderauthtest: generate RSA key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("senderauthtest: marshal RSA key: %w", err)
	}
	return &Signer{Domain: domain, Selector: Selector, key: key,
		record: "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)}, nil
}

// NewEd25519Signer returns a Signer for domain with a new Ed25519 key.
func NewEd25519Signer(tb testing.TB, domain string) *Signer {
	tb.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatalf("senderauthtest: generate Ed25519 key: %v", err)
	}
	return &Signer{Domain: domain, Selector: Selector, tb: tb, key: key,
		record: "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}
}

// Key returns the private key, for tests that sign by other means.
func (s *Signer) Key() crypto.Signer { return s.key }

// Sign returns raw with a DKIM-Signature (relaxed/relaxed, every header
// field signed) prepended. raw should use CRLF line endings.
func (s *Signer) Sign(raw []byte) []byte {
	if s.tb != nil {
		s.tb.Helper()
	}
	return s.SignWith(raw, dkim.SignOptions{
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
	})
}

// SignWith is Sign with options of the caller's choosing; Domain, Selector
// and Signer are filled in when empty.
func (s *Signer) SignWith(raw []byte, opts dkim.SignOptions) []byte {
	if s.tb != nil {
		s.tb.Helper()
	}
	if opts.Domain == "" {
		opts.Domain = s.Domain
	}
	if opts.Selector == "" {
		opts.Selector = s.Selector
	}
	if opts.Signer == nil {
		opts.Signer = s.key
	}
	var out bytes.Buffer
	if err := dkim.Sign(&out, bytes.NewReader(raw), &opts); err != nil {
		if s.tb == nil {
			panic(fmt.Sprintf("senderauthtest: sign: %v", err))
		}
		s.tb.Fatalf("senderauthtest: sign: %v", err)
	}
	return out.Bytes()
}

// RecordName returns the DNS name of the key record,
// "<selector>._domainkey.<domain>".
func (s *Signer) RecordName() string {
	return s.Selector + "._domainkey." + s.Domain
}

// Record returns the TXT record publishing the public key.
func (s *Signer) Record() string { return s.record }

// LookupTXT serves this signer's key record and answers NXDOMAIN for any
// other name. Its signature fits senderauth.Verifier.LookupTXT.
func (s *Signer) LookupTXT(ctx context.Context, name string) ([]string, error) {
	return LookupTXT(s)(ctx, name)
}

// LookupTXT returns a lookup function serving the key records of all the
// given signers, and NXDOMAIN (a *net.DNSError with IsNotFound) otherwise.
func LookupTXT(signers ...*Signer) func(ctx context.Context, name string) ([]string, error) {
	records := make(map[string]string, len(signers))
	for _, s := range signers {
		records[strings.ToLower(s.RecordName())] = s.record
	}
	return func(ctx context.Context, name string) ([]string, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r, ok := records[strings.ToLower(strings.TrimSuffix(name, "."))]; ok {
			return []string{r}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
}
