// Package mailheader splits the header block of a raw message into its
// fields, once, for every reader that needs them: mailparse takes the
// sender, subject and threading fields from it, and senderauth works out
// which field instances a DKIM signature covers.
//
// It reads exactly as go-msgauth's DKIM code does (dkim.readHeader and
// headerPicker): lines end at LF with one CR before it dropped; a line that
// starts with a space or tab continues the field before it; the header ends
// at the first empty line; a field's key is the text before its first colon
// with white space trimmed, compared with strings.EqualFold. Any difference
// between this reader and the verifier's would let a field that one of them
// ignores decide the request, so FuzzAgreesWithDKIM checks the two against
// each other.
//
// Limits on bytes, fields and physical lines are applied while reading, so
// that no later reader (go-msgauth's, whose unfolding is quadratic,
// included) ever sees a header larger than they allow.
package mailheader
