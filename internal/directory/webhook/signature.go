package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the request header carrying the signature:
//
//	Unlockd-Signature: t=<unix seconds>,n=<nonce>,v1=<hex HMAC-SHA256(secret, "<t>.<n>." + body)>
//
// The nonce is new for every request sent, retries included, so that a
// receiver can refuse a replay inside the time window by remembering the
// nonces it accepted for the window.
const SignatureHeader = "Unlockd-Signature"

// DefaultWindow is how far a signature's time may be from the receiver's
// clock before Verify refuses it.
const DefaultWindow = 5 * time.Minute

// Errors Verify returns, wrapped with the details.
var (
	ErrBadSignature   = errors.New("webhook: bad signature")
	ErrStaleSignature = errors.New("webhook: signature outside the time window")
)

// NewNonce returns a fresh nonce: 128 random bits in hex.
func NewNonce() string { return rand.Text() }

// Sign returns the SignatureHeader value for body sent at t with nonce.
func Sign(secret []byte, t time.Time, nonce string, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",n=" + nonce + ",v1=" + hex.EncodeToString(mac(secret, ts, nonce, body))
}

func mac(secret []byte, ts, nonce string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write([]byte(nonce))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// validNonce accepts 16 to 64 letters and digits, which is what NewNonce
// gives and leaves no room for a separator.
func validNonce(n string) bool {
	if len(n) < 16 || len(n) > 64 {
		return false
	}
	for _, c := range n {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// Verify checks header, a SignatureHeader value, against body: one of its
// v1 values must be the HMAC-SHA256 of "<t>.<n>." + body under secret, and
// t within window of now. It returns the nonce, which a receiver that
// must refuse a replay inside the window too remembers for the window,
// refusing a request whose nonce it has seen. It is the receiving side's
// reference.
func Verify(secret []byte, header string, body []byte, now time.Time, window time.Duration) (nonce string, err error) {
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", fmt.Errorf("%w: malformed header", ErrBadSignature)
		}
		switch k {
		case "t":
			if ts != "" {
				return "", fmt.Errorf("%w: two timestamps", ErrBadSignature)
			}
			ts = v
		case "n":
			if nonce != "" {
				return "", fmt.Errorf("%w: two nonces", ErrBadSignature)
			}
			nonce = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return "", fmt.Errorf("%w: v1 is not a hex HMAC-SHA256", ErrBadSignature)
			}
			sigs = append(sigs, sig)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || !validNonce(nonce) || len(sigs) == 0 {
		return "", fmt.Errorf("%w: the header needs t=<unix seconds>, n=<16 to 64 letters and digits> and v1=<hex>", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > window || d < -window {
		return "", fmt.Errorf("%w: signed at %s, %v from now", ErrStaleSignature, time.Unix(sec, 0).UTC().Format(time.RFC3339), d.Round(time.Second))
	}
	want := mac(secret, ts, nonce, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nonce, nil
		}
	}
	return "", fmt.Errorf("%w: no v1 matches the body", ErrBadSignature)
}
