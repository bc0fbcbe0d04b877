package web

import (
	"encoding/json"
	"time"

	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// The JSON shapes the API answers with. Times are RFC 3339 in UTC; a time
// that is not set is left out. Password hashes never leave the store.

// orgJSON is an organisation and its security policy (SPEC §2).
type orgJSON struct {
	Slug               string       `json:"slug"`
	Name               string       `json:"name"`
	MaxFailedLogins    int          `json:"max_failed_logins"`
	LockoutDuration    jsonDuration `json:"lockout_duration"`
	FailureWindow      jsonDuration `json:"failure_window"`
	AutoUnlock         bool         `json:"auto_unlock"`
	MaxRequestsPerHour int          `json:"max_requests_per_hour"`
	MaxUnverified      int          `json:"max_unverified_per_hour"`
	// EmailConfirmation is off, unverified or always.
	EmailConfirmation domain.ConfirmPolicy `json:"email_confirmation"`
	// Directory names the directory of the org's users: builtin, or one
	// of the configuration's directories.
	Directory string `json:"directory"`
}

func toOrgJSON(o domain.Org) orgJSON {
	p := o.Policy
	return orgJSON{Slug: o.Slug, Name: o.Name, MaxFailedLogins: p.MaxFailedLogins,
		LockoutDuration: jsonDuration(p.LockoutDuration), FailureWindow: jsonDuration(p.FailureWindow),
		AutoUnlock: p.AutoUnlock, MaxRequestsPerHour: p.MaxRequestsPerHour, MaxUnverified: p.MaxUnverifiedPerHour,
		EmailConfirmation: domain.ConfirmPolicy(p.EmailConfirmation.String()), Directory: directoryOf(o)}
}

// directoryOf is the org's directory by name; empty is builtin.
func directoryOf(o domain.Org) string {
	if o.Directory == "" {
		return domain.BuiltinDirectory
	}
	return o.Directory
}

// contactJSON is an authorised contact. SharedWith, the other orgs with the
// same address, is shown to staff only: to an admin it would name other
// orgs.
type contactJSON struct {
	Email      string   `json:"email"`
	Name       string   `json:"name"`
	SharedWith []string `json:"shared_with,omitempty"`
}

func toContactJSON(c domain.Contact, p Principal) contactJSON {
	v := contactJSON{Email: c.Email, Name: c.Name}
	if p.Staff() {
		v.SharedWith = c.SharedWith
	}
	return v
}

// userJSON is a user and, while locked, its lock.
type userJSON struct {
	Org          string        `json:"org"`
	Username     string        `json:"username"`
	DisplayName  string        `json:"display_name"`
	Email        string        `json:"email"`
	Status       domain.Status `json:"status"`
	Lock         *lockJSON     `json:"lock"`
	FailedLogins int           `json:"failed_logins"`
	LastFailedAt *time.Time    `json:"last_failed_at,omitempty"`
	HasPassword  bool          `json:"has_password"`
}

type lockJSON struct {
	Reason    domain.LockReason `json:"reason"`
	At        time.Time         `json:"at"`
	By        string            `json:"by"`
	Note      string            `json:"note"`
	ExpiresAt *time.Time        `json:"expires_at,omitempty"`
}

// toUserJSON shows u as it stands at now: an expired temporary lock is no
// lock.
func toUserJSON(org string, u domain.User, now time.Time) userJSON {
	v := userJSON{Org: org, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email,
		Status: u.Status(now), FailedLogins: u.FailedLogins, LastFailedAt: optTime(u.LastFailedAt),
		HasPassword: u.PasswordHash != ""}
	if u.LockedAt(now) {
		l := u.Lock
		v.Lock = &lockJSON{Reason: l.Reason, At: l.At, By: l.By, Note: l.Note, ExpiresAt: optTime(l.Expires)}
	}
	return v
}

// requestJSON is one requested username with the evidence a reviewer
// needs.
type requestJSON struct {
	ID               int64              `json:"id"`
	Org              string             `json:"org"`
	Username         string             `json:"username"`
	State            domain.ItemState   `json:"state"`
	Reason           domain.QueueReason `json:"reason,omitempty"`
	UnverifiedSender bool               `json:"unverified_sender"`
	Sender           string             `json:"sender"`
	Contact          string             `json:"contact,omitempty"`
	Authenticated    bool               `json:"authenticated"`
	AuthReason       string             `json:"auth_reason"`
	Subject          string             `json:"subject"`
	MessageID        string             `json:"message_id"`
	Mailbox          string             `json:"mailbox"`
	ReceivedAt       *time.Time         `json:"received_at,omitempty"`
	CreatedAt        time.Time          `json:"created_at"`
	DecidedBy        string             `json:"decided_by,omitempty"`
	DecidedAt        *time.Time         `json:"decided_at,omitempty"`
	Note             string             `json:"note,omitempty"`
	// Confirmation is the link the reply carried for this item, if any.
	Confirmation *confirmationJSON `json:"confirmation,omitempty"`
}

// confirmationJSON is a request's confirmation link as staff see it: when
// it was sent, until when it works and when it was used (left out while it
// was not). The token itself is never shown.
type confirmationJSON struct {
	SentAt    time.Time  `json:"sent_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at,omitempty"`
}

func toRequestJSON(r store.Request) requestJSON {
	return requestJSON{ID: r.ID, Org: r.OrgSlug, Username: r.Username, State: r.State, Reason: r.Reason,
		UnverifiedSender: r.UnverifiedSender, Sender: r.Sender, Contact: r.ContactEmail,
		Authenticated: r.Authenticated, AuthReason: r.AuthReason, Subject: r.Subject, MessageID: r.MessageID,
		Mailbox: r.Mailbox, ReceivedAt: optTime(r.ReceivedAt), CreatedAt: r.CreatedAt,
		DecidedBy: r.DecidedBy, DecidedAt: optTime(r.DecidedAt), Note: r.Note, Confirmation: toConfirmationJSON(r.Link)}
}

func toConfirmationJSON(l *domain.ConfirmLink) *confirmationJSON {
	if l == nil {
		return nil
	}
	return &confirmationJSON{SentAt: l.CreatedAt.UTC(), ExpiresAt: l.ExpiresAt.UTC(), UsedAt: optTime(l.UsedAt)}
}

// auditJSON is one audit entry.
type auditJSON struct {
	ID     int64         `json:"id"`
	Org    string        `json:"org,omitempty"`
	Actor  string        `json:"actor"`
	Action domain.Action `json:"action"`
	Target string        `json:"target"`
	Source string        `json:"source"`
	Note   string        `json:"note,omitempty"`
	At     time.Time     `json:"at"`
}

func toAuditJSON(a store.AuditRecord) auditJSON {
	return auditJSON{ID: a.ID, Org: a.OrgSlug, Actor: a.Actor, Action: a.Action, Target: a.Target,
		Source: a.Source, Note: a.Note, At: a.At}
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// jsonDuration is a policy duration in JSON: text as the configuration file
// writes it ("30m", "12h", "7d", "0s"), which is what orgPatch reads back.
type jsonDuration time.Duration

// MarshalJSON writes d as configuration-file text.
func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(config.Duration(d).String())
}
