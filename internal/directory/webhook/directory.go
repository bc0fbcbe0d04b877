package webhook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
)

// The request bodies.
type (
	lookupRequest struct {
		Org       string   `json:"org"`
		Usernames []string `json:"usernames"`
	}
	unlockRequest struct {
		Org        string `json:"org"`
		Username   string `json:"username"`
		LockReason string `json:"lock_reason"`
		LockedAt   string `json:"locked_at"`
		Mark       string `json:"mark"`
	}
	lockRequest struct {
		Org      string `json:"org"`
		Username string `json:"username"`
		Note     string `json:"note"`
	}
	listRequest struct {
		Org   string `json:"org"`
		Limit int    `json:"limit"`
	}
)

// The answers.
type (
	usersAnswer struct {
		Users *[]userAnswer `json:"users"`
	}
	userAnswer struct {
		Username    string     `json:"username"`
		DisplayName string     `json:"display_name"`
		Email       string     `json:"email"`
		Locked      *bool      `json:"locked"`
		LockReason  string     `json:"lock_reason"`
		LockedAt    *time.Time `json:"locked_at"`
		LockExpires *time.Time `json:"lock_expires"`
		LockNote    string     `json:"lock_note"`
		LockedBy    string     `json:"locked_by"`
		Mark        string     `json:"mark"`
	}
	resultAnswer struct {
		Result string `json:"result"`
	}
)

// maxMarkBytes bounds the application's own record of a lock.
const maxMarkBytes = 1024

// Lookup POSTs {"org", "usernames"} to URL/lookup. The answer lists the
// accounts found; one for a username not asked, or two for one username,
// is a permanent error.
func (d *Directory) Lookup(ctx context.Context, org domain.Org, usernames []string) (map[string]domain.User, error) {
	if len(usernames) == 0 {
		return map[string]domain.User{}, nil
	}
	var ans usersAnswer
	if err := d.call(ctx, "lookup", lookupRequest{Org: org.Slug, Usernames: usernames}, &ans); err != nil {
		return nil, err
	}
	asked := make(map[string]bool, len(usernames))
	for _, u := range usernames {
		asked[u] = true
	}
	users, err := d.users("lookup", ans, func(u string) bool { return asked[u] })
	if err != nil {
		return nil, err
	}
	out := make(map[string]domain.User, len(users))
	for _, u := range users {
		out[u.Username] = u
	}
	return out, nil
}

// ListLocked POSTs {"org", "limit"} to URL/list; the answer lists at most
// limit locked accounts.
func (d *Directory) ListLocked(ctx context.Context, org domain.Org, limit int) ([]domain.User, error) {
	if limit < 1 {
		return nil, domain.Errorf(domain.CodeInvalid, "list limit %d must be at least 1", limit)
	}
	var ans usersAnswer
	if err := d.call(ctx, "list", listRequest{Org: org.Slug, Limit: limit}, &ans); err != nil {
		return nil, err
	}
	users, err := d.users("list", ans, func(string) bool { return true })
	if err != nil {
		return nil, err
	}
	if len(users) > limit {
		return nil, d.garbage("list", fmt.Errorf("%d users, more than the limit %d", len(users), limit))
	}
	for _, u := range users {
		if u.Lock == nil {
			return nil, d.garbage("list", fmt.Errorf("user %q is not locked", u.Username))
		}
	}
	slices.SortFunc(users, func(a, b domain.User) int { return strings.Compare(a.Username, b.Username) })
	return users, nil
}

// users checks and maps an answer's users: each asked for, once.
func (d *Directory) users(op string, ans usersAnswer, asked func(string) bool) ([]domain.User, error) {
	if ans.Users == nil {
		return nil, d.garbage(op, errors.New(`no "users" list`))
	}
	seen := map[string]bool{}
	out := make([]domain.User, 0, len(*ans.Users))
	for _, a := range *ans.Users {
		switch {
		case a.Username == "":
			return nil, d.garbage(op, errors.New("a user has no username"))
		case !asked(a.Username):
			return nil, d.garbage(op, fmt.Errorf("user %q was not asked for", a.Username))
		case seen[a.Username]:
			return nil, d.garbage(op, fmt.Errorf("two accounts for username %q", a.Username))
		}
		seen[a.Username] = true
		u, err := a.user()
		if err != nil {
			return nil, d.garbage(op, fmt.Errorf("user %q: %w", a.Username, err))
		}
		out = append(out, u)
	}
	return out, nil
}

func (a userAnswer) user() (domain.User, error) {
	u := domain.User{Username: a.Username, DisplayName: a.DisplayName, Email: a.Email}
	if a.Locked == nil {
		return u, errors.New(`no "locked"`)
	}
	if !*a.Locked {
		return u, nil
	}
	reason, err := domain.ParseLockReason(a.LockReason)
	if err != nil {
		return u, err
	}
	if a.LockedAt == nil || a.LockedAt.IsZero() {
		return u, errors.New(`locked with no "locked_at"`)
	}
	if len(a.Mark) > maxMarkBytes {
		return u, fmt.Errorf("mark longer than %d bytes", maxMarkBytes)
	}
	l := &domain.Lock{Reason: reason, At: a.LockedAt.UTC(), Note: a.LockNote, By: a.LockedBy, Mark: a.Mark}
	if l.Mark == "" {
		l.Mark = l.At.Format(time.RFC3339Nano)
	}
	if a.LockExpires != nil {
		l.Expires = a.LockExpires.UTC()
	}
	u.Lock = l
	return u, nil
}

// Unlock POSTs the lock Lookup returned to URL/unlock; the application
// lifts it only if it is unchanged and answers {"result": "unlocked",
// "not_locked", "lock_changed" or "not_found"}.
func (d *Directory) Unlock(ctx context.Context, org domain.Org, username string, was domain.Lock) error {
	req := unlockRequest{Org: org.Slug, Username: username, LockReason: string(was.Reason), LockedAt: was.At.UTC().Format(time.RFC3339Nano), Mark: was.Mark}
	var ans resultAnswer
	if err := d.call(ctx, "unlock", req, &ans); err != nil {
		return err
	}
	switch ans.Result {
	case "unlocked":
		return nil
	case "not_locked":
		return domain.ErrNotLocked
	case "lock_changed":
		return domain.ErrLockChanged
	case "not_found":
		return fmt.Errorf("directory %q: unlock %q: %w", d.name, username, domain.ErrNotFound)
	}
	return d.garbage("unlock", fmt.Errorf("result %q", sanitize(ans.Result)))
}

// Lock POSTs {"org", "username", "note"} to URL/lock; the application sets
// an admin lock and answers {"result": "locked", "already_locked" or
// "not_found"}.
func (d *Directory) Lock(ctx context.Context, org domain.Org, username, note string) error {
	var ans resultAnswer
	if err := d.call(ctx, "lock", lockRequest{Org: org.Slug, Username: username, Note: note}, &ans); err != nil {
		return err
	}
	switch ans.Result {
	case "locked":
		return nil
	case "already_locked":
		return domain.Errorf(domain.CodeConflict, "user %q is already locked by an admin", username)
	case "not_found":
		return fmt.Errorf("directory %q: lock %q: %w", d.name, username, domain.ErrNotFound)
	}
	return d.garbage("lock", fmt.Errorf("result %q", sanitize(ans.Result)))
}

// SetPassword is not part of the webhook protocol.
func (d *Directory) SetPassword(context.Context, domain.Org, string, string) error {
	return domain.ErrUnsupported
}
