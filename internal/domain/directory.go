package domain

import (
	"context"
	"errors"
	"fmt"
	"regexp"
)

// BuiltinDirectory names unlockd's own users table, the directory of every
// org that names no other.
const BuiltinDirectory = "builtin"

// Remote reports whether the org's accounts live in a directory other
// than builtin: their unlocks are applied after the decision commits
// (ItemApplying).
func (o Org) Remote() bool { return o.Directory != "" && o.Directory != BuiltinDirectory }

var directoryName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidateDirectoryName checks that s can name a directory: 1 to 63
// lower-case letters, digits, '-' or '_' (config.Directory.Name).
func ValidateDirectoryName(s string) error {
	if !directoryName.MatchString(s) {
		return invalidf("directory %q must be 1-63 lower-case letters, digits, '-' or '_'", s)
	}
	return nil
}

// Pinger is what a Directory may also implement: a cheap check that it
// answers, for /readyz, /metrics and check-config --connect.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Directory is where an organisation's accounts live: unlockd's own tables
// (builtin) or a remote store (LDAP, Active Directory, the application's
// database, a webhook). One value serves every org that names it; each
// call is scoped to one org, and an adapter must never return or change an
// account of another org (a per-org base DN, filter or parameter).
//
// Errors are temporary (Temporary: the directory could not answer; the
// caller retries with backoff) or permanent (anything else: the answer is
// final, and the item goes to staff with the error as its note).
type Directory interface {
	// Name is the directory's name in the configuration.
	Name() string
	// Capabilities says which optional operations the directory supports.
	Capabilities() Capabilities
	// Lookup returns the org's accounts among usernames, keyed by exact
	// username; a username with no account is absent. Two accounts for
	// one username are a permanent error, never a guess.
	Lookup(ctx context.Context, org Org, usernames []string) (map[string]User, error)
	// Unlock lifts the lock that Lookup returned as was, and only that
	// one: if the account's lock has changed since (another reason, another
	// time, a new admin lock), it returns ErrLockChanged and changes
	// nothing; if the account is no longer locked, ErrNotLocked. Unlocking
	// twice is harmless: the second call returns ErrNotLocked.
	Unlock(ctx context.Context, org Org, username string, was Lock) error
	// Lock sets a deliberate (admin) lock with a note. Capabilities.Lock.
	Lock(ctx context.Context, org Org, username, note string) error
	// ListLocked returns up to limit of the org's locked accounts, by
	// username. Capabilities.ListLocked.
	ListLocked(ctx context.Context, org Org, limit int) ([]User, error)
	// SetPassword sets an account's password. Capabilities.SetPassword.
	SetPassword(ctx context.Context, org Org, username, password string) error
}

// Capabilities are the optional operations of a Directory.
type Capabilities struct {
	Lock        bool
	ListLocked  bool
	SetPassword bool
}

// Errors a Directory returns for outcomes that are answers, not failures.
var (
	ErrLockChanged = Errorf(CodeConflict, "the account's lock changed after it was looked up; nothing was lifted")
	ErrNotLocked   = Errorf(CodeConflict, "the account is not locked")
	ErrUnsupported = Errorf(CodeInvalid, "the directory does not support this operation")
)

// TemporaryError marks a directory failure worth retrying: a timeout, a
// refused connection, a server that is busy or restarting.
type TemporaryError struct{ Err error }

func (e *TemporaryError) Error() string { return e.Err.Error() }
func (e *TemporaryError) Unwrap() error { return e.Err }

// Temporary wraps err, with context, as a TemporaryError.
func Temporary(format string, args ...any) error {
	return &TemporaryError{Err: fmt.Errorf(format, args...)}
}

// IsTemporary reports whether err, or an error it wraps, is temporary.
func IsTemporary(err error) bool {
	var t *TemporaryError
	return errors.As(err, &t)
}

// ApplyOutcome is what an item becomes once its directory has answered an
// unlock (SPEC §5): applied, not locked any more, or queued for staff with
// the reason. A temporary error has no outcome yet; the caller retries.
func ApplyOutcome(err error) (ItemState, QueueReason, string) {
	switch {
	case err == nil:
		return ItemApplied, "", ""
	case errors.Is(err, ErrNotLocked):
		return ItemNotLocked, "", ErrNotLocked.Message
	case errors.Is(err, ErrLockChanged):
		return ItemPending, QueueLockChanged, ErrLockChanged.Message
	default:
		return ItemPending, QueueDirectoryError, err.Error()
	}
}
