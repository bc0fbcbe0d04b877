package web

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/metrics"
	"github.com/unlockd/unlockd/internal/password"
)

// For an org whose directory is not builtin, the UI's and the API's user
// actions ask the org's domain.Directory while the person waits, under
// Config.DirectoryWait: it answers, or the action fails with nothing
// recorded as done. Each change the directory made is audited, naming it.

// DefaultDirectoryWait is Config.DirectoryWait's default.
const DefaultDirectoryWait = 15 * time.Second

// remoteListLimit bounds the locked accounts one list or bulk reset asks
// a directory for.
const remoteListLimit = 500

// directoryError is a failure of a remote directory: unavailable (503)
// when it is temporary, a bad gateway (502) otherwise. Its message names
// the directory.
type directoryError struct {
	name string
	err  error
}

func (e *directoryError) Error() string { return fmt.Sprintf("directory %s: %v", e.name, e.err) }
func (e *directoryError) Unwrap() error { return e.err }

// remoteErr wraps err from directory name: answers that are the domain's
// (the lock changed, not locked, unsupported) keep their codes; any other
// failure becomes a directoryError.
func remoteErr(name string, err error) error {
	if err == nil {
		return nil
	}
	if domain.ErrorCode(err) != domain.CodeInternal && !domain.IsTemporary(err) {
		return err
	}
	return &directoryError{name: name, err: err}
}

// remote returns the org and its directory when the org's accounts live
// in a remote one; dir is nil for builtin. It asks the store only when
// remote directories are configured, so builtin orgs cost what they did.
// The caller has checked the principal may reach the org.
func (s *Server) remote(ctx context.Context, slug string) (o domain.Org, dir domain.Directory, err error) {
	if len(s.Remote) == 0 {
		return o, nil, nil
	}
	if o, err = s.Store.Org(ctx, slug); err != nil {
		return o, nil, err
	}
	dir, err = s.directoryOf(o)
	return o, dir, err
}

// directoryOf is the org's remote directory, nil for builtin.
func (s *Server) directoryOf(o domain.Org) (domain.Directory, error) {
	if !o.Remote() {
		return nil, nil
	}
	dir, ok := s.Remote[o.Directory]
	if !ok {
		return nil, &directoryError{name: o.Directory, err: errors.New("not configured (directories[].name)")}
	}
	return dir, nil
}

// waitDirectory bounds a call to a directory a person is waiting for.
func (s *Server) waitDirectory(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.DirectoryWait)
}

// remoteUser looks username up in the org's directory.
func remoteUser(ctx context.Context, o domain.Org, dir domain.Directory, username string) (domain.User, error) {
	if err := domain.ValidateUsername(username); err != nil {
		return domain.User{}, domain.Errorf(domain.CodeNotFound, "no user %.64q in %s", username, o.Slug)
	}
	found, err := dir.Lookup(ctx, o, []string{username})
	if err != nil {
		return domain.User{}, remoteErr(dir.Name(), err)
	}
	u, ok := found[username]
	if !ok {
		return domain.User{}, domain.Errorf(domain.CodeNotFound, "no user %q in %s (directory %s)", username, o.Slug, dir.Name())
	}
	return u, nil
}

// remoteAudit is an entry for an action on the org's directory.
func remoteAudit(ctx context.Context, p Principal, o domain.Org, dir domain.Directory, action domain.Action, username, note string) domain.AuditEntry {
	n := "in directory " + dir.Name()
	if note != "" {
		n += "; " + note
	}
	return domain.AuditEntry{OrgID: o.ID, Actor: p.Actor, Action: action, Target: username, Source: source(ctx), Note: n}
}

// lockNote describes the lock an unlock lifted.
func lockNote(l *domain.Lock) string {
	return fmt.Sprintf("lifted the %s lock of %s", l.Reason, l.At.UTC().Format(time.RFC3339))
}

// userAny returns one user of the org, from its directory.
func (s *Server) userAny(ctx context.Context, p Principal, slug, username string) (domain.User, error) {
	if err := p.Org(slug); err != nil {
		return domain.User{}, err
	}
	o, dir, err := s.remote(ctx, slug)
	if err != nil || dir == nil {
		if err != nil {
			return domain.User{}, err
		}
		return s.Store.User(ctx, slug, username)
	}
	ctx, cancel := s.waitDirectory(ctx)
	defer cancel()
	return remoteUser(ctx, o, dir, username)
}

// unlockRemote lifts the lock the directory has now, conditionally: a
// lock changed between the lookup and the unlock is a conflict
// (domain.ErrLockChanged), and nothing is lifted.
func (s *Server) unlockRemote(ctx context.Context, p Principal, o domain.Org, dir domain.Directory, username string) (domain.User, error) {
	wctx, cancel := s.waitDirectory(ctx)
	defer cancel()
	u, err := remoteUser(wctx, o, dir, username)
	if err != nil {
		return u, err
	}
	if u.Lock == nil {
		return u, domain.Errorf(domain.CodeConflict, "user %q is not locked", username)
	}
	if err := dir.Unlock(wctx, o, username, *u.Lock); err != nil {
		return u, remoteErr(dir.Name(), err)
	}
	note := lockNote(u.Lock)
	u.Lock = nil
	if err := s.Store.Audit(ctx, remoteAudit(ctx, p, o, dir, domain.ActionUnlock, username, note)); err != nil {
		return u, err
	}
	s.unlocked(metrics.ChannelHTTP, 1)
	return u, nil
}

// lockRemote sets an admin lock with a note in the directory.
func (s *Server) lockRemote(ctx context.Context, p Principal, o domain.Org, dir domain.Directory, username, note string) (domain.User, error) {
	if !dir.Capabilities().Lock {
		return domain.User{}, domain.Errorf(domain.CodeInvalid, "%s", lockUnsupported(dir.Name()))
	}
	wctx, cancel := s.waitDirectory(ctx)
	defer cancel()
	u, err := remoteUser(wctx, o, dir, username)
	if err != nil {
		return u, err
	}
	// The domain's rule: a note is required, and an admin lock is not set twice.
	now := s.Now()
	if err := u.LockByAdmin(p.Actor, note, now); err != nil {
		return u, err
	}
	if err := dir.Lock(wctx, o, username, u.Lock.Note); err != nil {
		return u, remoteErr(dir.Name(), err)
	}
	if err := s.Store.Audit(ctx, remoteAudit(ctx, p, o, dir, domain.ActionLock, username, u.Lock.Note)); err != nil {
		return u, err
	}
	if got, err := remoteUser(wctx, o, dir, username); err == nil {
		u = got
	}
	return u, nil
}

// resetRemote lifts every failed-login lock the directory lists, each
// conditionally on the lock listed; admin locks are never touched, and a
// lock changed meanwhile is left as it is. What was lifted before a
// failure stays lifted and audited; the failure is returned with it.
func (s *Server) resetRemote(ctx context.Context, p Principal, o domain.Org, dir domain.Directory) ([]string, error) {
	wctx, cancel := s.waitDirectory(ctx)
	defer cancel()
	users, err := lockedIn(wctx, o, dir, "unlock them one by one")
	if err != nil {
		return nil, err
	}
	var names []string
	var entries []domain.AuditEntry
	for _, u := range users {
		if u.Lock == nil || u.Lock.Reason != domain.LockFailedLogins {
			continue
		}
		uerr := dir.Unlock(wctx, o, u.Username, *u.Lock)
		if errors.Is(uerr, domain.ErrLockChanged) || errors.Is(uerr, domain.ErrNotLocked) {
			continue
		}
		if uerr != nil {
			err = remoteErr(dir.Name(), uerr)
			break
		}
		names = append(names, u.Username)
		entries = append(entries, remoteAudit(ctx, p, o, dir, domain.ActionUnlock, u.Username, "bulk reset of failed-login locks; "+lockNote(u.Lock)))
	}
	if aerr := s.Store.Audit(ctx, entries...); aerr != nil {
		return names, aerr
	}
	s.unlocked(metrics.ChannelHTTP, len(names))
	return names, err
}

// setPasswordRemote sets a password in the directory, when it can; the
// password checks are the builtin's.
func (s *Server) setPasswordRemote(ctx context.Context, p Principal, o domain.Org, dir domain.Directory, username string, chosen optionalString) (string, error) {
	if !dir.Capabilities().SetPassword {
		return "", domain.Errorf(domain.CodeInvalid, "%s", passwordUnsupported(dir.Name()))
	}
	wctx, cancel := s.waitDirectory(ctx)
	defer cancel()
	u, err := remoteUser(wctx, o, dir, username)
	if err != nil {
		return "", err
	}
	pw := chosen.Value
	if chosen.Set {
		if err := domain.CheckPassword(pw, u.Username, u.Email); err != nil {
			return "", err
		}
	} else {
		pw = password.Generate()
	}
	if err := dir.SetPassword(wctx, o, username, pw); err != nil {
		return "", remoteErr(dir.Name(), err)
	}
	if err := s.Store.Audit(ctx, remoteAudit(ctx, p, o, dir, domain.ActionPasswordChange, username, "")); err != nil {
		return "", err
	}
	if chosen.Set {
		return "", nil
	}
	return pw, nil
}

// passwordUnsupported says why a directory's passwords are not set here.
func passwordUnsupported(name string) string {
	return "directory " + name + " does not let unlockd set passwords; set them in the application"
}

// lockUnsupported says why a directory's accounts are not locked here.
func lockUnsupported(name string) string {
	return "directory " + name + " cannot lock accounts from unlockd; lock them there"
}

// listRemote returns the org's locked accounts from its directory, by
// username, after the username after, up to limit.
func (s *Server) listRemote(ctx context.Context, o domain.Org, dir domain.Directory, after string, limit int) ([]domain.User, error) {
	ctx, cancel := s.waitDirectory(ctx)
	defer cancel()
	users, err := lockedIn(ctx, o, dir, "open a user by name")
	if err != nil {
		return nil, err
	}
	slices.SortFunc(users, func(a, b domain.User) int { return strings.Compare(a.Username, b.Username) })
	out := make([]domain.User, 0, min(len(users), limit))
	for _, u := range users {
		if u.Username > after && len(out) < limit {
			out = append(out, u)
		}
	}
	return out, nil
}

// lockedIn returns the org's locked accounts in its directory, at most
// remoteListLimit; a directory that cannot list them is refused, with
// what to do instead.
func lockedIn(ctx context.Context, o domain.Org, dir domain.Directory, instead string) ([]domain.User, error) {
	if !dir.Capabilities().ListLocked {
		return nil, domain.Errorf(domain.CodeInvalid, "directory %s cannot list locked accounts; %s", dir.Name(), instead)
	}
	users, err := dir.ListLocked(ctx, o, remoteListLimit)
	if err != nil {
		return nil, remoteErr(dir.Name(), err)
	}
	return users, nil
}

// shownOnPage reports whether err is a directory's failure or refusal that
// a page shows in place of what the directory did not give, rather than
// an error page.
func shownOnPage(err error) bool {
	var de *directoryError
	return errors.As(err, &de) || domain.ErrorCode(err) == domain.CodeInvalid
}
