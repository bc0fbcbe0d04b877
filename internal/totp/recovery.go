package totp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Recovery codes stand in for a code once each, for an operator without
// their authenticator. They are shown once, at enrolment; only their
// SHA-256 is kept, which is enough for 80 random bits (no slow hash needed).
const (
	// RecoveryCodes is how many codes an enrolment makes.
	RecoveryCodes = 10
	recoveryChars = 16 // base32 characters: 80 bits
)

// NewRecoveryCodes returns n fresh codes, written as four groups of four
// lower-case base32 characters (e.g. "k3pv-7qxa-mz2c-4hry").
func NewRecoveryCodes(n int) []string {
	codes := make([]string, n)
	for i := range codes {
		raw := strings.ToLower(enc.EncodeToString(randomBytes(recoveryChars * 5 / 8)))
		codes[i] = raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12] + "-" + raw[12:16]
	}
	return codes
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// RecoveryHash returns the stored form of a recovery code as typed: case,
// spaces and dashes do not matter. It returns "" for anything that cannot
// be a recovery code.
func RecoveryHash(typed string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(typed) {
		switch {
		case c == '-' || c == ' ':
		case (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'):
			b.WriteRune(c)
		default:
			return ""
		}
		if b.Len() > recoveryChars {
			return ""
		}
	}
	if b.Len() != recoveryChars {
		return ""
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}
