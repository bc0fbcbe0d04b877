package domain

import "time"

// Action names what an audit entry records.
type Action string

// Audited actions.
const (
	ActionLock           Action = "lock"
	ActionAutoLock       Action = "auto_lock"
	ActionUnlock         Action = "unlock"
	ActionPasswordChange Action = "password_change"
	ActionApprove        Action = "approve"
	ActionReject         Action = "reject"
	ActionExpire         Action = "expire"
	ActionClose          Action = "close"   // a request closed itself: its user was unlocked meanwhile
	ActionConfirm        Action = "confirm" // a contact used a request's link, and the item still waits
	ActionImport         Action = "import"
	ActionTokenCreate    Action = "token_create"
	ActionTokenRevoke    Action = "token_revoke"
	ActionOperatorAdd    Action = "operator_add"
	ActionOperatorLock   Action = "operator_lock" // too many failed sign-ins
	ActionTOTPEnrol      Action = "totp_enrol"    // an operator enrolled a second factor
	ActionTOTPReset      Action = "totp_reset"    // an operator's second factor was removed
	ActionPolicyChange   Action = "policy_change"
	ActionContactAdd     Action = "contact_add"
	ActionContactRemove  Action = "contact_remove"
	ActionUserCreate     Action = "user_create"
	ActionUserUpdate     Action = "user_update"
	ActionUserDelete     Action = "user_delete"
	ActionContactRename  Action = "contact_rename"
	ActionOrgDelete      Action = "org_delete"
	ActionOperatorRemove Action = "operator_remove"
	ActionOperatorUnlock Action = "operator_unlock" // a sign-in lock lifted by hand
	ActionMailRetry      Action = "mail_retry"      // dead mail put back in the queue
	ActionMailDiscard    Action = "mail_discard"    // dead mail deleted unsent
	ActionRetention      Action = "retention"       // old records deleted (limits.*retention)
)

// AuditEntry records who did what to whom, through which channel and when.
type AuditEntry struct {
	ID     int64
	OrgID  int64 // 0 when the action concerns no organisation
	Actor  string
	Action Action
	Target string // e.g. a username, a request id, a token name
	// Source is the channel: "message-id:<...>", "http:<request id> from
	// <client address>" or "cli".
	Source string
	Note   string
	At     time.Time
}
