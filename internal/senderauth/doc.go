// Package senderauth decides whether a message really comes from the domain
// in its From address (SPEC §3 step 4).
//
// It owns the sender-authentication verdict and nothing else: DKIM
// verification (through go-msgauth) with the alignment and algorithm rules of
// the SPEC, the reading of our own MTA's Authentication-Results header, the
// "any" and "off" modes, and a small cache of DKIM key lookups. With a
// passing verdict it reports what the proof covers: the positions of the
// header field instances the passing signatures signed (RFC 6376 §5.4.2,
// on the header parse mailparse shares), and the signatures themselves.
// It does not decide what happens to a message that fails or whose Subject
// is not covered; that is the domain decision.
//
// A DNS failure never becomes a failing verdict: Verify returns a
// *TemporaryError instead, and the caller leaves the message in the mailbox
// to try again later.
package senderauth
