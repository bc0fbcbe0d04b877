// Package intake watches IMAP mailboxes (SPEC §4): it connects, selects the
// mailbox, fetches new messages in batches above the stored (UIDVALIDITY,
// UID) checkpoint, hands each to a Handler for its one decision, moves it to
// the processed or rejected folder, and waits for more with IDLE or by
// polling. Dropped connections reconnect with capped exponential backoff.
package intake
