package domain

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status is whether a user can sign in.
type Status string

// User statuses.
const (
	StatusActive Status = "active"
	StatusLocked Status = "locked"
)

// LockReason says why a user is locked.
type LockReason string

// Lock reasons. Only failed-login locks may be lifted by email alone.
const (
	LockFailedLogins LockReason = "failed_logins"
	LockAdmin        LockReason = "admin"
)

// ParseStatus checks s names a status.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case StatusActive, StatusLocked:
		return st, nil
	}
	return "", invalidf("status %q must be active or locked", s)
}

// ParseLockReason checks s names a lock reason.
func ParseLockReason(s string) (LockReason, error) {
	switch r := LockReason(s); r {
	case LockFailedLogins, LockAdmin:
		return r, nil
	}
	return "", invalidf("lock reason %q must be failed_logins or admin", s)
}

// Lock describes why, when and by whom a user was locked.
type Lock struct {
	Reason LockReason
	At     time.Time
	By     string // actor, e.g. "system" or "operator:ann@example.com"
	Note   string
	// Expires is when a temporary lock lifts itself; zero for a lock that
	// lasts until someone unlocks the user.
	Expires time.Time
	// Mark is a remote directory's own record of the lock, exactly as read
	// (LDAP: the pwdAccountLockedTime value), which Directory.Unlock must
	// find unchanged; empty for builtin.
	Mark string
}

// User is an account in the host application.
type User struct {
	ID          int64
	OrgID       int64
	Username    string // unique per org, case-sensitive
	DisplayName string
	Email       string
	// PasswordHash is empty when the user has no password yet.
	PasswordHash string
	// Lock is nil while the user is active.
	Lock *Lock
	// FailedLogins counts failures since LastFailedAt's window began.
	FailedLogins int
	LastFailedAt time.Time
}

// MaxUsernameLength bounds a username, in characters.
const MaxUsernameLength = 64

// ValidateUsername accepts 1 to 64 printable characters with no spaces,
// commas, slashes or control characters, so that usernames survive being
// written in mail, CSV and URL paths.
func ValidateUsername(s string) error {
	if s == "" || utf8.RuneCountInString(s) > MaxUsernameLength || !utf8.ValidString(s) {
		return invalidf("username must be 1 to %d characters", MaxUsernameLength)
	}
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) || strings.ContainsRune(`,;/\<>"'`, r) {
			return invalidf("username %q contains a character that is not allowed (%q)", s, r)
		}
	}
	return nil
}

// Status returns the user's status at now: a temporary lock that has
// expired counts as active.
func (u *User) Status(now time.Time) Status {
	if u.LockedAt(now) {
		return StatusLocked
	}
	return StatusActive
}

// LockedAt reports whether u is locked at now.
func (u *User) LockedAt(now time.Time) bool {
	if u.Lock == nil {
		return false
	}
	return u.Lock.Expires.IsZero() || now.Before(u.Lock.Expires)
}

// Normalize trims the spaces around u's display name and checks u as it
// will be stored: a valid username (ValidateUsername), a display name
// (CheckName) and an optional address, already normalised by
// internal/address, within MaxEmailBytes. It returns the first problem,
// naming its field.
func (u *User) Normalize() error {
	if err := ValidateUsername(u.Username); err != nil {
		return err
	}
	name, err := CheckName("display_name", u.DisplayName)
	if err != nil {
		return err
	}
	u.DisplayName = name
	return CheckEmail("email", u.Email)
}

// Unlock lifts u's lock at now: u becomes active and its failed-login
// counter is cleared (SPEC §2). It returns the reason of the lock it
// lifted; a user not locked at now is a conflict.
func (u *User) Unlock(now time.Time) (LockReason, error) {
	if !u.LockedAt(now) {
		return "", Errorf(CodeConflict, "user %q is not locked", u.Username)
	}
	reason := u.Lock.Reason
	u.clear()
	return reason, nil
}

// clear makes u active with no failures counted.
func (u *User) clear() {
	u.Lock = nil
	u.FailedLogins = 0
	u.LastFailedAt = time.Time{}
}

// Lockable reports whether LockByAdmin may lock u at now: any user but one
// already locked by an admin. Pages ask it before offering the action.
func (u *User) Lockable(now time.Time) bool {
	return !u.LockedAt(now) || u.Lock.Reason != LockAdmin
}

// LockByAdmin locks u deliberately, by actor by, with a note saying why
// (required; kept without the spaces around it). Such a lock never expires
// and is never lifted by email alone (see Decide). Locking a user locked
// for failed logins turns the lock into a deliberate one; a user already
// locked by an admin is a conflict (Lockable).
func (u *User) LockByAdmin(by, note string, now time.Time) error {
	note, err := checkNote(note, "say why the user is locked")
	if err != nil {
		return err
	}
	if !u.Lockable(now) {
		return Errorf(CodeConflict, "user %q is already locked by an admin", u.Username)
	}
	u.Lock = &Lock{Reason: LockAdmin, At: now, By: by, Note: note}
	return nil
}

// ResetFailedLogins is the bulk reset of SPEC §8: a failed-login lock is
// lifted and every failure counter is cleared; a deliberate lock stays. It
// reports whether it lifted a lock that held at now.
func (u *User) ResetFailedLogins(now time.Time) (unlocked bool) {
	wasLocked := u.LockedAt(now)
	if u.Lock != nil && u.Lock.Reason != LockFailedLogins {
		u.FailedLogins, u.LastFailedAt = 0, time.Time{}
		return false
	}
	u.clear()
	return wasLocked
}

// LoginResult is the answer to an authentication attempt.
type LoginResult string

// Login results.
const (
	LoginOK      LoginResult = "ok"
	LoginInvalid LoginResult = "invalid"
	LoginLocked  LoginResult = "locked"
)

// ActorSystem is the actor of automatic changes.
const ActorSystem = "system"

// RecordLogin applies one login attempt to u under policy p and returns the
// result and whether this attempt locked the account. An expired temporary
// lock is lifted first; a locked user's attempts are answered "locked" and do
// not count; a success resets the counter; a failure counts within the
// failure window and locks at the policy's maximum.
func (u *User) RecordLogin(p Policy, passwordOK bool, now time.Time) (result LoginResult, lockedNow bool) {
	if u.Lock != nil && !u.LockedAt(now) {
		u.clear()
	}
	if u.Lock != nil {
		return LoginLocked, false
	}
	if passwordOK {
		u.FailedLogins = 0
		u.LastFailedAt = time.Time{}
		return LoginOK, false
	}
	return LoginInvalid, u.recordFailure(p, now)
}

// RecordFailedLogin applies a failure reported by the host application and
// reports whether it locked the account. Failures while locked do not count.
func (u *User) RecordFailedLogin(p Policy, now time.Time) (lockedNow bool) {
	result, locked := u.RecordLogin(p, false, now)
	return result == LoginInvalid && locked
}

func (u *User) recordFailure(p Policy, now time.Time) bool {
	if p.FailureWindow > 0 && !u.LastFailedAt.IsZero() && now.Sub(u.LastFailedAt) >= p.FailureWindow {
		u.FailedLogins = 0
	}
	u.FailedLogins++
	u.LastFailedAt = now
	if p.MaxFailedLogins == 0 || u.FailedLogins < p.MaxFailedLogins {
		return false
	}
	lock := &Lock{Reason: LockFailedLogins, At: now, By: ActorSystem, Note: "too many failed logins"}
	if p.LockoutDuration > 0 {
		lock.Expires = now.Add(p.LockoutDuration)
	}
	u.Lock = lock
	return true
}
