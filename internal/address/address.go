// Package address normalises email addresses so that the address on record
// and the address in a message compare equal exactly when SPEC §3 says they
// should: case-insensitively, with internationalised domains as A-labels.
package address

import (
	"fmt"
	"net/mail"
	"strings"

	"golang.org/x/net/idna"

	"github.com/unlockd/unlockd/internal/domain"
)

var profile = idna.Lookup

// Normalize returns addr, a bare address without display name, in canonical
// form: ASCII letters in lower case, domain converted to its A-label (punycode) form.
func Normalize(addr string) (string, error) {
	a, err := mail.ParseAddress(addr)
	if err != nil {
		return "", fmt.Errorf("address: %q is not a valid email address", addr)
	}
	if a.Name != "" || a.Address != strings.TrimSpace(addr) {
		return "", fmt.Errorf("address: %q must be a bare address, without a display name", addr)
	}
	return NormalizeParsed(a.Address)
}

// NormalizeParsed canonicalises an address already taken out of a header by
// net/mail or go-message.
func NormalizeParsed(addr string) (string, error) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "", fmt.Errorf("address: %q has no domain", addr)
	}
	domain, err := profile.ToASCII(strings.TrimSuffix(addr[at+1:], "."))
	if err != nil {
		return "", fmt.Errorf("address: %q has an invalid domain: %w", addr, err)
	}
	if !strings.Contains(domain, ".") {
		return "", fmt.Errorf("address: %q has no top-level domain", addr)
	}
	return asciiLower(addr[:at]) + "@" + strings.ToLower(domain), nil
}

// asciiLower lower-cases the ASCII letters of s and leaves every other
// character alone: Unicode case mapping would make distinct mailboxes
// equal (the Kelvin sign "\u212a" lower-cases to "k").
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Domain returns the domain of a normalised address.
func Domain(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}

// Check normalises s, with the spaces around it trimmed, as the address in
// field, for every way an address comes in (API, web UI, CSV import,
// command line). Its error is a domain.CodeInvalid error whose message
// names field: `email "x" is not a valid email address`, or
// `email is longer than 254 bytes` (domain.CheckEmail).
func Check(field, s string) (string, error) {
	addr, err := Normalize(strings.TrimSpace(s))
	if err != nil {
		return "", domain.Errorf(domain.CodeInvalid, "%s %s", field, strings.TrimPrefix(err.Error(), "address: "))
	}
	if err := domain.CheckEmail(field, addr); err != nil {
		return "", err
	}
	return addr, nil
}
