package mailheader

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// agreeKey signs for FuzzAgreesWithDKIM; a fixed seed keeps runs
// repeatable.
var agreeKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// unlimited lets Parse read as far as go-msgauth does.
var unlimited = Limits{Bytes: 1 << 30, Fields: 1 << 30, Lines: 1 << 30, FieldLines: 1 << 30}

// checkAgreesWithDKIM has go-msgauth sign raw with simple canonicalisation
// over every field name Parse found (each twice, to oversign), then checks
// through the signature itself that go-msgauth hashed exactly the field
// instances, bytes and body that Parse and Signed name. go-msgauth's own
// header reader is unexported; its signature is the observable trace of
// what it read.
func checkAgreesWithDKIM(t *testing.T, raw []byte) {
	t.Helper()
	h := Parse(raw, unlimited)
	names := []string{"From", "From", "X-Absent"}
	for _, f := range h.Fields {
		if usableName(f.Key) {
			names = append(names, f.Key, f.Key)
		}
	}
	sig, err := sign(raw, names)
	if err != nil {
		if h.Complete {
			t.Fatalf("go-msgauth could not read a header Parse read whole: %v", err)
		}
		return
	}
	if !h.Complete {
		t.Fatalf("go-msgauth read a header Parse found incomplete")
	}
	// The data go-msgauth signed: the picked fields, then its own
	// DKIM-Signature with b= empty and no final CRLF.
	var data strings.Builder
	for _, i := range h.Signed(names) {
		data.WriteString(h.Fields[i].Raw)
	}
	head, b64, ok := strings.Cut(sig, "\r\n b=")
	if !ok {
		t.Fatalf("unexpected signature layout: %q", sig)
	}
	data.WriteString(head + "\r\n b=")
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(data.String()))
	if !ed25519.Verify(agreeKey.Public().(ed25519.PublicKey), sum[:], b) {
		t.Fatalf("go-msgauth signed other field instances or bytes than Parse and Signed name\nfields: %+v\nnames: %q", h.Fields, names)
	}
	// The body: re-sign our fields followed by raw[h.Size:] and compare the
	// body hashes.
	var again bytes.Buffer
	for _, f := range h.Fields {
		again.WriteString(f.Raw)
	}
	again.WriteString("\r\n")
	again.Write(raw[h.Size:])
	sig2, err := sign(again.Bytes(), []string{"From"})
	if err != nil {
		t.Fatalf("re-sign: %v", err)
	}
	if bodyHash(sig) != bodyHash(sig2) {
		t.Fatalf("go-msgauth's body starts elsewhere than raw[%d:]", h.Size)
	}
}

// usableName reports whether a key can be written in an h= list as is.
func usableName(k string) bool {
	return k != "" && !strings.ContainsAny(k, ":;= \t\r\n") && strings.ToValidUTF8(k, "") == k
}

func sign(raw []byte, names []string) (string, error) {
	s, err := dkim.NewSigner(&dkim.SignOptions{Domain: "acme.example", Selector: "s", Signer: agreeKey,
		HeaderCanonicalization: dkim.CanonicalizationSimple, BodyCanonicalization: dkim.CanonicalizationSimple,
		HeaderKeys: names})
	if err != nil {
		return "", err
	}
	if _, err := s.Write(raw); err != nil {
		s.Close()
		return "", err
	}
	if err := s.Close(); err != nil {
		return "", err
	}
	return s.Signature(), nil
}

func bodyHash(sig string) string {
	_, rest, _ := strings.Cut(sig, "bh=")
	v, _, _ := strings.Cut(rest, ";")
	return v
}

// agreeSeeds are headers where a careless reader differs from go-msgauth.
var agreeSeeds = []string{
	"From: a@acme.example\r\nSubject: hi\r\n\r\nbody\r\n",
	"Subject: Unlock: bob\r\nFrom: a@acme.example\r\nSubject: hello\r\n\r\nbody",
	"From: a\nSubject: lf only\n\nbody\n",
	" Subject: leading space\r\nFrom: a\r\n\r\n",
	"Subject\r\n : Unlock: bob\r\nFrom: a\r\n\r\n",
	"Subject \t: spaced\r\nFROM: a\r\n\r\n",
	"\u017fubject: long s\r\nFrom: a\r\nSubject: x\r\n\r\n",
	"From: a\r\r\nA: 1\r\n\r\r\nB: 2\r\n\r\nbody",
	"From: a\r\n\tfolded\r\n \r\nSubject: x\r\n\r\n",
	"no colon here\r\nFrom: a\r\n\r\n",
	"From: a\r\nSubject: no end",
	"From: a\r\n",
	"\r\nbody only",
	"From: a\r\nContent-Type: text/plain\r\ncontent-type: text/html\r\n\r\n<b>x</b>",
}

func TestAgreesWithDKIM(t *testing.T) {
	for _, s := range agreeSeeds {
		checkAgreesWithDKIM(t, []byte(s))
	}
}

func FuzzAgreesWithDKIM(f *testing.F) {
	for _, s := range agreeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > 64<<10 {
			return
		}
		checkAgreesWithDKIM(t, raw)
	})
}
