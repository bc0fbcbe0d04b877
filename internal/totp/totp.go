// Package totp implements time-based one-time passwords (RFC 6238 over
// HOTP, RFC 4226) as authenticator apps expect them: HMAC-SHA-1, six
// digits, a 30-second time step, and a base32 secret of 160 bits.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The parameters every authenticator app supports, and the only ones used.
const (
	Period = 30 * time.Second
	Digits = 6
	// Skew is how many steps either side of now a code is accepted for,
	// allowing for clock drift and the time it takes to type.
	Skew = 1
	// secretBytes is the secret's length: 160 bits, as RFC 4226 recommends.
	secretBytes = 20
)

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// ErrSecret is returned for a secret that is not base32.
var ErrSecret = errors.New("totp: malformed secret")

// NewSecret returns a fresh random secret in base32, without padding.
func NewSecret() string {
	b := make([]byte, secretBytes)
	rand.Read(b)
	return enc.EncodeToString(b)
}

// Step returns the time step t falls in.
func Step(t time.Time) int64 { return t.Unix() / int64(Period/time.Second) }

// Code returns the code of secret for one time step.
func Code(secret string, step int64) (string, error) {
	key, err := enc.DecodeString(strings.ToUpper(secret))
	if err != nil || len(key) == 0 {
		return "", ErrSecret
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", Digits, v%1_000_000), nil
}

// Match looks for code among the steps within Skew of t that come after
// the step last used, and returns the newest step it matches. Steps up to
// and including after never match, so a code once accepted (its step
// recorded) is never accepted again.
func Match(secret, code string, t time.Time, after int64) (step int64, ok bool) {
	if len(code) != Digits {
		return 0, false
	}
	now := Step(t)
	for s := now + Skew; s >= now-Skew; s-- {
		if s <= after {
			break
		}
		want, err := Code(secret, s)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// URI returns the otpauth:// URI that authenticator apps read from a QR
// code (the "Key Uri Format" of Google Authenticator, which they all follow).
func URI(issuer, account, secret string) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	q := url.Values{"secret": {secret}, "issuer": {issuer}, "algorithm": {"SHA1"},
		"digits": {fmt.Sprint(Digits)}, "period": {fmt.Sprint(int(Period / time.Second))}}
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// IsCode reports whether s has the shape of a code: Digits digits.
func IsCode(s string) bool {
	if len(s) != Digits {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
