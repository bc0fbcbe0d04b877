package senderauth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/mailheader"
)

// Signature is one passing, aligned DKIM signature.
type Signature struct {
	// Domain is its d= tag, normalised.
	Domain string
	// B is its decoded b= tag: the signature itself, which no other
	// message or header shares.
	B []byte
	// Time and Expires are its t= and x= tags; zero when absent.
	Time, Expires time.Time
	// Signed lists the positions in the header's Fields of the field
	// instances it covers (RFC 6376 §5.4.2).
	Signed []int
}

// Key identifies the signature for replay detection: the hex SHA-256 of
// its decoded b= value.
func (s Signature) Key() string {
	sum := sha256.Sum256(s.B)
	return hex.EncodeToString(sum[:])
}

// Covers reports whether the passing verdict vouches for every instance of
// each named field of h. A field that is absent is covered: nothing
// unsigned stands in its place.
func (v Verdict) Covers(h *mailheader.Header, names ...string) bool {
	if !v.Pass {
		return false
	}
	if v.Whole {
		return true
	}
	for _, n := range names {
		for _, i := range h.Index(n) {
			if !slices.Contains(v.Signed, i) {
				return false
			}
		}
	}
	return true
}

// signatureOf reads one DKIM-Signature field, with the positions it
// covers. ok is false when its tags are malformed.
func signatureOf(h *mailheader.Header, value string) (s Signature, tags map[string]string, ok bool) {
	tags, ok = tagList(value)
	if !ok {
		return s, tags, false
	}
	s.Domain = normalizeDomain(tags["d"])
	s.B, _ = base64.StdEncoding.DecodeString(tags["b"])
	s.Time, s.Expires = unixTag(tags["t"]), unixTag(tags["x"])
	s.Signed = h.Signed(strings.Split(tags["h"], ":"))
	return s, tags, true
}

// namedSignatures returns the aligned DKIM signatures in h that one of the
// passing Authentication-Results dkim results names (by header.d and, when
// given, header.s and a prefix of header.b), or every aligned one when
// results is empty.
func namedSignatures(h *mailheader.Header, fromDomain string, results []arResult) []Signature {
	var out []Signature
	for _, val := range h.Values("DKIM-Signature") {
		s, tags, ok := signatureOf(h, val)
		if !ok || !aligned(s.Domain, fromDomain) {
			continue
		}
		named := len(results) == 0
		for _, r := range results {
			sel, b := r.props["header.s"], strings.Join(strings.Fields(r.props["header.b"]), "")
			named = named || (normalizeDomain(r.props["header.d"]) == s.Domain &&
				(sel == "" || strings.EqualFold(sel, tags["s"])) &&
				(b == "" || strings.HasPrefix(tags["b"], b)))
		}
		if named {
			out = append(out, s)
		}
	}
	return out
}

// commonCoverage returns the positions every signature covers: when the
// verifier does not say which of several signatures passed, only what all
// of them cover can count, and a signature an attacker adds can only
// shrink it.
func commonCoverage(sigs []Signature) []int {
	out := slices.Clone(sigs[0].Signed)
	for _, s := range sigs[1:] {
		out = slices.DeleteFunc(out, func(i int) bool { return !slices.Contains(s.Signed, i) })
	}
	return out
}

// unionCoverage returns the positions any of the verified signatures
// covers: each one vouches for what it signed.
func unionCoverage(sigs []Signature) []int {
	var out []int
	for _, s := range sigs {
		for _, i := range s.Signed {
			if !slices.Contains(out, i) {
				out = append(out, i)
			}
		}
	}
	return out
}

// unixTag parses a DKIM time tag (seconds since the epoch); zero when
// absent or malformed.
func unixTag(s string) time.Time {
	var n int64
	if s == "" || len(s) > 12 {
		return time.Time{}
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return time.Time{}
		}
		n = n*10 + int64(c-'0')
	}
	return time.Unix(n, 0).UTC()
}
