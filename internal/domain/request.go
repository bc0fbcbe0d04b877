package domain

import "time"

// Verdict is the decision recorded for one mailbox message.
type Verdict string

// Verdicts.
const (
	// VerdictIgnored: auto-generated mail (SPEC §3.1); no reply.
	VerdictIgnored Verdict = "ignored"
	// VerdictRejected: not from an authorised contact, or unparsable.
	VerdictRejected Verdict = "rejected"
	// VerdictNoUsername: from a contact, but no username was found.
	VerdictNoUsername Verdict = "no_username"
	// VerdictAccepted: from a contact; each username has an item.
	VerdictAccepted Verdict = "accepted"
)

// ItemState is where one requested username stands.
type ItemState string

// Item states.
const (
	ItemPending ItemState = "pending" // queued for a human
	ItemApplied ItemState = "applied" // the user was unlocked
	// ItemApplying: decided to unlock in a remote directory; the call
	// follows the commit (SPEC §5), and the reply waits for its answer.
	ItemApplying    ItemState = "applying"
	ItemRejected    ItemState = "rejected"     // declined by a human
	ItemExpired     ItemState = "expired"      // nobody decided within request_ttl
	ItemNotLocked   ItemState = "not_locked"   // nothing to do
	ItemUnknownUser ItemState = "unknown_user" // no such user in the contact's org
)

// ParseItemState checks s names an item state.
func ParseItemState(s string) (ItemState, error) {
	switch st := ItemState(s); st {
	case ItemPending, ItemApplied, ItemApplying, ItemRejected, ItemExpired, ItemNotLocked, ItemUnknownUser:
		return st, nil
	}
	return "", invalidf("request state %q is not one of pending, applied, applying, rejected, expired, not_locked, unknown_user", s)
}

// QueueReason says why an item waits for a human.
type QueueReason string

// Queue reasons.
const (
	QueueUnverifiedSender QueueReason = "unverified_sender"
	QueueAdminLock        QueueReason = "admin_lock"
	QueueAutoUnlockOff    QueueReason = "auto_unlock_off"
	QueueRateLimited      QueueReason = "rate_limited"
	QueueAmbiguous        QueueReason = "ambiguous_org"
	// QueueUnverifiedFlood: an unverified request past the sender's
	// max_unverified_per_hour; recorded and queued without a reply.
	QueueUnverifiedFlood QueueReason = "unverified_flood"
	// QueueAwaitingConfirmation: an authenticated request of an org whose
	// email_confirmation is always, waiting for the contact to use the
	// link the reply carries.
	QueueAwaitingConfirmation QueueReason = "awaiting_confirmation"
	// QueueLockChanged: the directory's lock changed between the lookup
	// and the unlock (a new admin lock, say), so nothing was lifted.
	QueueLockChanged QueueReason = "lock_changed"
	// QueueDirectoryError: the directory could not be asked or gave an
	// answer that cannot be acted on (two accounts for one username, a
	// refusal, garbage); the item's note says which.
	QueueDirectoryError QueueReason = "directory_error"
)

// Item is one requested username and what became of it.
type Item struct {
	ID       int64
	OrgID    int64 // 0 for an unknown user
	UserID   int64 // 0 for an unknown user
	Username string
	State    ItemState
	// Reason is set while the item is pending.
	Reason QueueReason
	// UnverifiedSender is set when the request's sender did not pass
	// authentication.
	UnverifiedSender bool
	// Confirmable is set when the request's confirmation link is bound to
	// the item: using it would unlock the user (Decision.Confirm).
	Confirmable bool
	DecidedBy   string
	Note        string
	DecidedAt   time.Time
	// Directory names the remote directory an applying item is applied
	// in, and Lock is the lock its lookup returned, which
	// Directory.Unlock must find unchanged; both are empty for builtin.
	Directory string
	Lock      *Lock
}
