package domain

// MailKind says what an outgoing mail is for.
type MailKind string

// Mail kinds. Notifications are addressed by role: the store expands them
// to the organisation's admins or to staff operators.
const (
	MailReply        MailKind = "reply"
	MailNotifyAdmins MailKind = "notify_admins"
	MailNotifyStaff  MailKind = "notify_staff"
)

// Mail is one outgoing message, rendered in full before it is queued, so
// that what is delivered is exactly what was decided (SPEC §5).
type Mail struct {
	ID         int64
	DecisionID int64 // 0 when no mailbox message caused it
	Kind       MailKind
	// OrgID scopes notify_admins; 0 otherwise.
	OrgID int64
	// To is the recipient of a reply; empty for notifications, whose
	// recipients the store fills in.
	To      string
	Subject string
	// MessageID is our own Message-ID, without angle brackets.
	MessageID  string
	InReplyTo  string
	References []string
	Text       string
	HTML       string
}
