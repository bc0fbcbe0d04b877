package domain

import (
	"fmt"
	"strings"
)

// Part is a part of a request message where usernames are searched.
type Part uint8

// Parts, combined as a bit set.
const (
	InSubject Part = 1 << iota
	InBody
)

func (p Part) String() string {
	switch p {
	case InSubject:
		return "Subject"
	case InBody:
		return "body"
	case InSubject | InBody:
		return "Subject and body"
	}
	return "nowhere"
}

// Name is a candidate username and the parts of the message it was found in.
type Name struct {
	Text string
	In   Part
}

// Proof is what sender authentication established for one message, as
// facts found by mailparse and senderauth. The rules that judge it are
// Proof.Sender and Facts.authenticated.
type Proof struct {
	// Passed is true when a DKIM signature or a trusted
	// Authentication-Results header vouched for the From domain.
	Passed bool
	// Detail is the verifier's explanation, for staff:
	// "dkim=pass d=acme.example".
	Detail string
	// Covered are the parts the passing proof vouches for: the Subject when
	// the signature covers its one instance, the body when the signature
	// covers the body and the Content-Type and Content-Transfer-Encoding
	// fields that say how to read it.
	Covered Part
	// SenderProblem says why From and Sender do not name one sender
	// ("2 From addresses", "Sender differs from From"); "" when they do.
	SenderProblem string
	// Duplicated lists the fields that may occur once (RFC 5322 §3.6, and
	// the top-level MIME fields) but occur more often.
	Duplicated []string
	// HeaderLimit names the header limit the message exceeded; "" when
	// none was.
	HeaderLimit string
}

// Sender reports whether the proof authenticates the From address itself,
// and if not, why. A duplicated single-instance field, an unclear sender or
// a header past its limits defeats any signature: the reader and the
// verifier may not have seen the same message.
func (p Proof) Sender() (ok bool, why string) {
	switch {
	case p.HeaderLimit != "":
		return false, p.HeaderLimit
	case len(p.Duplicated) > 0:
		return false, "duplicated header field " + strings.Join(p.Duplicated, ", ")
	case p.SenderProblem != "":
		return false, p.SenderProblem
	case !p.Passed:
		return false, "sender not authenticated"
	}
	return true, ""
}

// explain joins the verifier's detail and the rule's reason for staff.
func (p Proof) explain(why string) string {
	switch {
	case why == "":
		return p.Detail
	case p.Detail == "":
		return why
	}
	return why + "; " + p.Detail
}

// authenticated reports whether a request naming names counts as
// authenticated, and why not: the sender must be proven (Proof.Sender),
// and every name must have been found in a part the proof covers, so that
// an unsigned Subject or a body read through an unsigned Content-Type can
// never name a user.
func (f Facts) authenticated(names []Name) (ok bool, why string) {
	if ok, why := f.Proof.Sender(); !ok {
		return false, why
	}
	for _, n := range names {
		if n.In&f.Proof.Covered == 0 {
			return false, fmt.Sprintf("%q was found only in the %s, which the signature does not cover", n.Text, n.In)
		}
	}
	return true, ""
}

// NamesIn returns texts as names found in the parts in.
func NamesIn(in Part, texts ...string) []Name {
	out := make([]Name, len(texts))
	for i, t := range texts {
		out[i] = Name{Text: t, In: in}
	}
	return out
}
