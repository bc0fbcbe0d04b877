package demo

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// dkimSelector is the s= tag of the demo's signatures.
const dkimSelector = "demo"

// signer DKIM-signs mail for one domain with an Ed25519 key made at start,
// and serves the key record that verifies it.
type signer struct {
	domain string
	key    ed25519.PrivateKey
	record string // the TXT record publishing the public key
}

func newSigner(domain string) (*signer, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("demo: generate DKIM key: %w", err)
	}
	return &signer{domain: domain, key: key,
		record: "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}, nil
}

// recordName is the DNS name of the key record.
func (s *signer) recordName() string { return dkimSelector + "._domainkey." + s.domain }

// sign returns raw with a DKIM-Signature over every header field and the
// body (relaxed/relaxed) prepended.
func (s *signer) sign(raw []byte) ([]byte, error) {
	var out bytes.Buffer
	err := dkim.Sign(&out, bytes.NewReader(raw), &dkim.SignOptions{
		Domain: s.domain, Selector: dkimSelector, Signer: s.key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
	})
	if err != nil {
		return nil, fmt.Errorf("demo: DKIM-sign: %w", err)
	}
	return out.Bytes(), nil
}

// lookupTXT stands in for DNS: it serves the demo key record and answers
// NXDOMAIN for every other name. It fits app.Options.LookupTXT.
func (s *signer) lookupTXT(ctx context.Context, name string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if strings.EqualFold(strings.TrimSuffix(name, "."), s.recordName()) {
		return []string{s.record}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}
