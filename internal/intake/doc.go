// Package intake watches IMAP mailboxes (SPEC §4): it connects, selects the
// mailbox, fetches new messages in batches above the stored (UIDVALIDITY,
// UID) checkpoint, hands each to a Handler for its one decision, moves it to
// the processed or rejected folder, and waits for more with IDLE or by
// polling. Dropped connections reconnect with capped exponential backoff.
// A server that goes silent while an answer is due (no greeting, a command
// left unanswered, a FETCH that stops) is cut after Config.Timeout by the
// deadlineConn go-imap reads through, and the cause is reported, logged
// once per run of failures, and passed to OnState for readiness.
package intake
