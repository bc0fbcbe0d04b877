package web

import (
	"html/template"
	"net/url"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// funcs are the functions the UI's templates call.
func (u *ui) funcs() template.FuncMap {
	return template.FuncMap{
		"when":     when,
		"userPath": userPath,
		"locked":   func(usr domain.User) bool { return usr.LockedAt(u.Now()) },
		"lockable": func(usr domain.User) bool { return usr.Lockable(u.Now()) },
		"maxNote":  func() int { return domain.MaxNoteBytes },
		"decide": func(v view, r store.Request) decideArgs {
			return decideArgs{View: v, Request: r}
		},
		"queueReason": func(r domain.QueueReason) string { return describe(queueReasons, r) },
		"lockReason":  func(r domain.LockReason) string { return describe(lockReasons, r) },
		"stateClass":  func(s domain.ItemState) string { return stateClasses[s] },
		"linkOpen":    func(l *domain.ConfirmLink) bool { return l.Usable(u.Now()) == nil },
	}
}

// decideArgs is what the "decide" partial renders: the approve and reject
// forms of one request, with the page's CSRF token.
type decideArgs struct {
	View    view
	Request store.Request
}

// when formats a time for operators, in UTC; the zero time is a dash.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

// userPath is the path of a user's page. Usernames are case-sensitive and
// may hold characters such as ? and %, so they are escaped.
func userPath(org, username string) string {
	return "/orgs/" + url.PathEscape(org) + "/users/" + url.PathEscape(username)
}

// describe returns the words for k, or k itself when there are none.
func describe[K ~string](words map[K]string, k K) string {
	if w, ok := words[k]; ok {
		return w
	}
	return string(k)
}

var queueReasons = map[domain.QueueReason]string{
	domain.QueueUnverifiedSender:     "the sender did not pass authentication",
	domain.QueueAdminLock:            "the user was locked by an admin",
	domain.QueueAutoUnlockOff:        "auto-unlock is off for this organisation",
	domain.QueueRateLimited:          "the contact is over its hourly limit",
	domain.QueueAmbiguous:            "the contact belongs to several organisations",
	domain.QueueUnverifiedFlood:      "unverified, past the hourly limit (not answered)",
	domain.QueueAwaitingConfirmation: "waits for the contact to use the confirmation link (email_confirmation is always)",
	domain.QueueLockChanged:          "the directory's lock changed between the lookup and the unlock; nothing was lifted",
	domain.QueueDirectoryError:       "the org's directory could not be asked or gave an answer that cannot be acted on (see the note)",
}

var lockReasons = map[domain.LockReason]string{
	domain.LockFailedLogins: "failed logins",
	domain.LockAdmin:        "by an admin",
}

var stateClasses = map[domain.ItemState]string{
	domain.ItemPending:  "warn",
	domain.ItemApplied:  "ok",
	domain.ItemApplying: "warn",
	domain.ItemRejected: "bad",
	domain.ItemExpired:  "bad",
}
