package senderauth

import (
	"fmt"
	"net/mail"
	"slices"
	"time"

	"github.com/unlockd/unlockd/internal/mailheader"
)

// DefaultMaxSignatureAge is the age past which a signature does not count
// when Verifier.MaxSignatureAge is zero.
const DefaultMaxSignatureAge = 7 * 24 * time.Hour

// clockSkew is how far in the future a signature's time may lie: clocks
// of signing servers drift, but not by hours.
const clockSkew = time.Hour

// fresh keeps the signatures that may still count by their age: not past
// their x= (checked on our clock, not go-msgauth's), and made, by t= or a
// Date field they sign, within MaxSignatureAge. A signature whose age
// cannot be told does not count: an old genuine mail must not be reusable.
func (v *Verifier) fresh(h *mailheader.Header, sigs []Signature) (out []Signature, reasons []string) {
	now := v.now()
	maxAge := v.MaxSignatureAge
	if maxAge <= 0 {
		maxAge = DefaultMaxSignatureAge
	}
	for _, s := range sigs {
		made := s.Time
		if made.IsZero() {
			made = signedDate(h, s)
		}
		switch {
		case !s.Expires.IsZero() && now.After(s.Expires):
			reasons = append(reasons, fmt.Sprintf("dkim signature d=%s expired at %s", s.Domain, s.Expires.Format(time.RFC3339)))
		case made.IsZero():
			reasons = append(reasons, "dkim signature d="+s.Domain+" has no t= and signs no Date: its age is unknown")
		case made.After(now.Add(clockSkew)):
			reasons = append(reasons, fmt.Sprintf("dkim signature d=%s is dated in the future (%s)", s.Domain, made.Format(time.RFC3339)))
		case now.Sub(made) > maxAge:
			reasons = append(reasons, fmt.Sprintf("dkim signature d=%s is %s old, older than max_signature_age %s",
				s.Domain, now.Sub(made).Round(time.Minute), maxAge))
		default:
			out = append(out, s)
		}
	}
	return out, reasons
}

// signedDate returns the time of the Date field s signs, or zero.
func signedDate(h *mailheader.Header, s Signature) time.Time {
	for _, i := range h.Index("Date") {
		if slices.Contains(s.Signed, i) {
			if t, err := mail.ParseDate(h.Fields[i].Value()); err == nil {
				return t
			}
		}
	}
	return time.Time{}
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}
