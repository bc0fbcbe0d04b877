// Package mailparse turns one raw RFC 5322 message into the facts that the
// intake decision needs (SPEC §3): the single From address and any reason to
// distrust it, whether the message is auto-generated and must be ignored,
// the duplicate key, threading identifiers, and the usernames requested in
// the subject and the cleaned text body.
//
// The package owns parsing only. It does not verify DKIM or
// Authentication-Results (package senderauth does), does not look anything
// up, and never decides an outcome: it reports facts, and the domain
// decision function acts on them.
//
// Text extraction walks the MIME tree with go-message: text/plain is
// preferred over text/html inside multipart/alternative, other multiparts
// are concatenated, and attachments (Content-Disposition: attachment,
// non-text types, message/rfc822) are skipped without being decoded.
// Text parts that are attachments (a disposition of attachment, or a file
// name) are skipped too, and so is HTML hidden from the reader
// (display:none, visibility:hidden, the hidden attribute, a zero font
// size). Quoted replies ("> ..." and "| ..." lines, "On ... wrote:", "Am
// ... schrieb ...:", "-----Original Message-----", Outlook "From: / Sent:"
// blocks), forwarded messages (Gmail's, Apple Mail's and Thunderbird's
// markers) and signatures (after a "-- " or "--" line) are removed before
// usernames are searched: what someone else wrote names no one.
//
// The header block is read once, by internal/mailheader, exactly as the
// DKIM verifier reads it; Message.Header hands that parse on to sender
// authentication, and every field here (the topmost of its name) comes
// from it. Which fields occur more often than RFC 5322 allows is reported
// in Duplicated, and where each username was found (Subject, body) in its
// Name, so that the domain can judge them against what a signature covers.
//
// Errors: a message with no header field at all (garbage) makes Parse
// return an error, and the caller rejects it as unparsable. A header past
// mailheader's limits is not an error: the fields read before the limit
// are used and HeaderLimit says which limit stopped reading. A readable
// header with a missing or broken From is not an error either: it yields
// an empty From and a SenderProblem. A broken or truncated body is never an
// error: whatever text was decoded before the break is used.
package mailparse
