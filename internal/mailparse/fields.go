package mailparse

import (
	"net/textproto"
	"strings"
	"unicode"

	"github.com/emersion/go-message/mail"

	"github.com/unlockd/unlockd/internal/mailheader"
)

// SingleFields are the fields a message may carry at most once: RFC 5322
// §3.6's single-instance fields, and the top-level MIME fields that say how
// to read the body. Two of one are two readings of one message, and a
// reader and a verifier may each take a different one.
var SingleFields = []string{"Date", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Message-ID",
	"In-Reply-To", "References", "Subject", "Content-Type", "Content-Transfer-Encoding"}

// duplicated returns the SingleFields that h holds more than once.
func duplicated(h *mailheader.Header) []string {
	var out []string
	for _, name := range SingleFields {
		if len(h.Index(name)) > 1 {
			out = append(out, name)
		}
	}
	return out
}

// goHeader copies h into a go-message header, for its address, date and
// encoded-word helpers. Names are folded as go-msgauth compares them, so a
// field that the verifier takes for a Subject is a Subject here too.
// go-message's Add puts each field above those added before, so the fields
// go in bottom up and Get returns the topmost.
func goHeader(h *mailheader.Header) mail.Header {
	var out mail.Header
	for i := len(h.Fields) - 1; i >= 0; i-- {
		f := h.Fields[i]
		if validName(f.Key) || validName(foldName(f.Key)) {
			out.Add(textproto.CanonicalMIMEHeaderKey(foldName(f.Key)), f.Value())
		}
	}
	return out
}

// hasNamedField reports whether h holds at least one field with a valid
// name; a header without one is not mail.
func hasNamedField(h *mailheader.Header) bool {
	for _, f := range h.Fields {
		if validName(f.Key) && strings.Contains(f.Raw, ":") {
			return true
		}
	}
	return false
}

// validName reports whether k is an RFC 5322 field name: printable ASCII
// other than the colon.
func validName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 33 || k[i] > 126 {
			return false
		}
	}
	return true
}

// foldName maps each rune of k to the lower-case ASCII letter of its
// simple-folding orbit where it has one ("ſ" to "s", the Kelvin sign to
// "k"), so that names strings.EqualFold takes as equal come out equal.
func foldName(k string) string {
	return strings.Map(func(r rune) rune {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < unicode.MaxASCII {
				return unicode.ToLower(f)
			}
		}
		return unicode.ToLower(r)
	}, k)
}
