package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

const saveUser = `UPDATE users SET display_name = ?, email = ?, password_hash = ?, lock_reason = ?,
	locked_at = ?, locked_by = ?, lock_note = ?, lock_expires_at = ?, failed_logins = ?,
	last_failed_at = ?, updated_at = ? WHERE id = ?`

// saveUserArgs are saveUser's arguments for u, saved at now.
func saveUserArgs(u domain.User, now time.Time) []any {
	reason, at, by, note, expires := lockArgs(u.Lock)
	return []any{u.DisplayName, u.Email, u.PasswordHash, reason, at, by, note, expires,
		u.FailedLogins, nullTime(u.LastFailedAt), now, u.ID}
}

func (s *Store) saveUser(ctx context.Context, tx *sqlx.Tx, u domain.User) error {
	st, err := s.stmtFor(ctx, tx, saveUser)
	if err != nil {
		return err
	}
	if _, err := st.exec(ctx, saveUserArgs(u, s.now())...); err != nil {
		return fmt.Errorf("store: save user %q: %w", u.Username, err)
	}
	return nil
}

// userChange changes one user of org at now and returns the audit entry
// to write, or nil when there is nothing to audit. changeUser fills in the
// entry's org, target and, when the entry names none, actor. It may run
// twice for one change (changeUserAsRead's fallback), each time on the
// user as read then: it must change nothing but u.
type userChange func(org domain.Org, u *domain.User, now time.Time) (*domain.AuditEntry, error)

// caller is who asks for a change: an actor the caller has already
// authorised, or an API call's token, which the store checks in the
// change's own first query (TokenCheck).
type caller struct {
	actor string
	token *TokenCheck
}

// changeUser loads one user under a row lock, lets change modify it, saves
// it and writes the audit entry change returns, all in one transaction.
// On PostgreSQL an API call first tries it in two round trips
// (changeUserAsRead), and falls back to the transaction only when the row
// changed in between.
func (s *Store) changeUser(ctx context.Context, slug, username string, c caller, change userChange) (domain.User, error) {
	if c.token != nil && s.dialect == Postgres {
		u, done, err := s.changeUserAsRead(ctx, slug, username, *c.token, change)
		if done || err != nil {
			return u, err
		}
	}
	read := selectUserInOrg + s.forUpdateOfUser()
	if c.token != nil {
		read = s.callQuery(true)
	}
	if err := s.warm(ctx, read, saveUser, insertAudit); err != nil {
		return domain.User{}, err
	}
	var u domain.User
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		org, user, actor, err := s.userToChange(ctx, tx, slug, username, c)
		if err != nil {
			return err
		}
		u = user
		entry, err := change(org, &u, s.now())
		if err != nil {
			return err
		}
		if err := s.saveUser(ctx, tx, u); err != nil {
			return err
		}
		if entry == nil {
			return nil
		}
		return s.audit(ctx, tx, completeEntry(*entry, org, u, actor))
	})
	return u, err
}

// userToChange reads the user to change under a row lock, with the
// caller's token when it has one, and returns the caller's actor.
func (s *Store) userToChange(ctx context.Context, tx *sqlx.Tx, slug, username string, c caller) (domain.Org, domain.User, string, error) {
	if c.token == nil {
		org, u, err := s.userInOrg(ctx, tx, slug, username, s.forUpdateOfUser())
		return org, u, c.actor, err
	}
	read, actor, err := s.readCall(ctx, tx, *c.token, slug, username, true)
	if err != nil {
		return domain.Org{}, domain.User{}, "", err
	}
	org, u, err := read.target(slug, username)
	return org, u, actor, err
}

// completeEntry is a change's audit entry with its org, target and, unless
// the change named one, the caller's actor.
func completeEntry(e domain.AuditEntry, org domain.Org, u domain.User, actor string) domain.AuditEntry {
	e.OrgID, e.Target = org.ID, u.Username
	if e.Actor == "" {
		e.Actor = actor
	}
	return e
}

// LockUser locks a user deliberately with a note (domain.User.LockByAdmin).
func (s *Store) LockUser(ctx context.Context, slug, username, note, actor, source string) (domain.User, error) {
	return s.changeUser(ctx, slug, username, caller{actor: actor}, func(_ domain.Org, u *domain.User, now time.Time) (*domain.AuditEntry, error) {
		if err := u.LockByAdmin(actor, note, now); err != nil {
			return nil, err
		}
		return &domain.AuditEntry{Actor: actor, Action: domain.ActionLock, Source: source, Note: u.Lock.Note}, nil
	})
}

// UnlockUser unlocks a user (domain.User.Unlock): a user that is not
// locked is a conflict.
func (s *Store) UnlockUser(ctx context.Context, slug, username, actor, source string) (domain.User, error) {
	return s.changeUser(ctx, slug, username, caller{actor: actor}, unlockUser(source))
}

// unlockUser is the change an unlock makes (domain.User.Unlock); its audit
// entry's actor is the caller's.
func unlockUser(source string) userChange {
	return func(_ domain.Org, u *domain.User, now time.Time) (*domain.AuditEntry, error) {
		reason, err := u.Unlock(now)
		if err != nil {
			return nil, err
		}
		return &domain.AuditEntry{Action: domain.ActionUnlock, Source: source, Note: "lock reason " + string(reason)}, nil
	}
}

// SetPassword stores a new password hash for the user.
func (s *Store) SetPassword(ctx context.Context, slug, username, hash, actor, source string) error {
	_, err := s.changeUser(ctx, slug, username, caller{actor: actor}, func(_ domain.Org, u *domain.User, _ time.Time) (*domain.AuditEntry, error) {
		u.PasswordHash = hash
		return &domain.AuditEntry{Actor: actor, Action: domain.ActionPasswordChange, Source: source}, nil
	})
	return err
}

// RecordLogin applies one login attempt, whose password check the caller
// has already made, under the org's policy and returns its result. Host
// applications report failures through it with passwordOK false.
func (s *Store) RecordLogin(ctx context.Context, slug, username string, passwordOK bool, source string) (domain.LoginResult, error) {
	_, result, _, err := s.recordLogin(ctx, slug, username, passwordOK, source)
	return result, err
}

// RecordFailedLogin applies a failed login reported by the host
// application and returns the user as it stands after it, the result
// (invalid, or locked when the user was already locked and the failure did
// not count) and whether this failure locked the user.
func (s *Store) RecordFailedLogin(ctx context.Context, slug, username, source string) (domain.User, domain.LoginResult, bool, error) {
	return s.recordLogin(ctx, slug, username, false, source)
}

func (s *Store) recordLogin(ctx context.Context, slug, username string, passwordOK bool, source string) (u domain.User, result domain.LoginResult, lockedNow bool, err error) {
	u, err = s.changeUser(ctx, slug, username, caller{actor: domain.ActorSystem}, func(org domain.Org, u *domain.User, now time.Time) (*domain.AuditEntry, error) {
		result, lockedNow = u.RecordLogin(org.Policy, passwordOK, now)
		if !lockedNow {
			return nil, nil
		}
		return &domain.AuditEntry{Actor: domain.ActorSystem, Action: domain.ActionAutoLock, Source: source,
			Note: fmt.Sprintf("%d failed logins", u.FailedLogins)}, nil
	})
	return u, result, lockedNow, err
}

// ResetFailedLogins applies domain.User.ResetFailedLogins to every user of
// the org with a failed-login lock or a failure counted, and returns the
// usernames it unlocked. The query only picks candidates. Rows are locked
// in id order, the order DecideBatch locks users in, so the two cannot
// deadlock.
func (s *Store) ResetFailedLogins(ctx context.Context, slug, actor, source string) ([]string, error) {
	var unlocked []string
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		org, err := s.orgBySlug(ctx, tx, slug, "")
		if err != nil {
			return err
		}
		var rows []userRow
		if err := sqlx.SelectContext(ctx, tx, &rows, tx.Rebind(`SELECT `+userColumns+` FROM users
			WHERE org_id = ? AND (lock_reason = 'failed_logins' OR failed_logins > 0) ORDER BY id`+s.forUpdate()), org.ID); err != nil {
			return fmt.Errorf("store: failed-login users: %w", err)
		}
		now := s.now()
		for _, r := range rows {
			u := r.user()
			lifted := u.ResetFailedLogins(now)
			if err := s.saveUser(ctx, tx, u); err != nil {
				return err
			}
			if lifted {
				unlocked = append(unlocked, u.Username)
				if err := s.audit(ctx, tx, domain.AuditEntry{OrgID: org.ID, Actor: actor, Action: domain.ActionUnlock,
					Target: u.Username, Source: source, Note: "bulk reset of failed logins"}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return unlocked, err
}
