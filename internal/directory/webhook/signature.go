package webhook

import (
	"crypto/hmac"
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
//	Unlockd-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
const SignatureHeader = "Unlockd-Signature"

// DefaultWindow is how far a signature's time may be from the receiver's
// clock before Verify refuses it.
const DefaultWindow = 5 * time.Minute

// Errors Verify returns, wrapped with the details.
var (
	ErrBadSignature   = errors.New("webhook: bad signature")
	ErrStaleSignature = errors.New("webhook: signature outside the time window")
)

// Sign returns the SignatureHeader value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks header, a SignatureHeader value, against body: one of its
// v1 values must be the HMAC-SHA256 of "<t>." + body under secret, and t
// within window of now. It is the receiving side's reference. A receiver
// that must refuse a replay inside the window too keeps the signatures it
// accepted for the window and refuses one seen before.
func Verify(secret []byte, header string, body []byte, now time.Time, window time.Duration) error {
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: malformed header", ErrBadSignature)
		}
		switch k {
		case "t":
			if ts != "" {
				return fmt.Errorf("%w: two timestamps", ErrBadSignature)
			}
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return fmt.Errorf("%w: v1 is not a hex HMAC-SHA256", ErrBadSignature)
			}
			sigs = append(sigs, sig)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: the header needs t=<unix seconds> and v1=<hex>", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > window || d < -window {
		return fmt.Errorf("%w: signed at %s, %v from now", ErrStaleSignature, time.Unix(sec, 0).UTC().Format(time.RFC3339), d.Round(time.Second))
	}
	want := mac(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: no v1 matches the body", ErrBadSignature)
}
