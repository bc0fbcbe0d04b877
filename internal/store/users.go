package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

type userRow struct {
	ID            int64          `db:"id"`
	OrgID         int64          `db:"org_id"`
	Username      string         `db:"username"`
	DisplayName   string         `db:"display_name"`
	Email         string         `db:"email"`
	PasswordHash  string         `db:"password_hash"`
	LockReason    sql.NullString `db:"lock_reason"`
	LockedAt      sql.NullTime   `db:"locked_at"`
	LockedBy      string         `db:"locked_by"`
	LockNote      string         `db:"lock_note"`
	LockExpiresAt sql.NullTime   `db:"lock_expires_at"`
	FailedLogins  int            `db:"failed_logins"`
	LastFailedAt  sql.NullTime   `db:"last_failed_at"`
}

const userColumns = `id, org_id, username, display_name, email, password_hash, lock_reason, locked_at,
	locked_by, lock_note, lock_expires_at, failed_logins, last_failed_at`

func (r userRow) user() domain.User {
	u := domain.User{
		ID: r.ID, OrgID: r.OrgID, Username: r.Username, DisplayName: r.DisplayName, Email: r.Email,
		PasswordHash: r.PasswordHash, FailedLogins: r.FailedLogins, LastFailedAt: timeOf(r.LastFailedAt),
	}
	if r.LockReason.Valid {
		u.Lock = &domain.Lock{Reason: domain.LockReason(r.LockReason.String), At: timeOf(r.LockedAt),
			By: r.LockedBy, Note: r.LockNote, Expires: timeOf(r.LockExpiresAt)}
	}
	return u
}

// lockArgs spreads a lock into its nullable columns.
func lockArgs(l *domain.Lock) (reason sql.NullString, at sql.NullTime, by, note string, expires sql.NullTime) {
	if l == nil {
		return
	}
	return sql.NullString{String: string(l.Reason), Valid: true}, nullTime(l.At), l.By, l.Note, nullTime(l.Expires)
}

const insertUser = `INSERT INTO users (org_id, username, display_name, email, password_hash, lock_reason,
	locked_at, locked_by, lock_note, lock_expires_at, failed_logins, last_failed_at, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

// CreateUser adds a user to the org named by slug. A username taken in that
// org is a conflict; the same name in another org is fine.
func (s *Store) CreateUser(ctx context.Context, slug string, u domain.User, actor, source string) (domain.User, error) {
	if err := u.Normalize(); err != nil {
		return u, err
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		org, err := s.orgBySlug(ctx, tx, slug, "")
		if err != nil {
			return err
		}
		u.OrgID = org.ID
		reason, at, by, note, expires := lockArgs(u.Lock)
		now := s.now()
		u.ID, err = insertID(ctx, tx, insertUser, u.OrgID, u.Username, u.DisplayName, u.Email, u.PasswordHash,
			reason, at, by, note, expires, u.FailedLogins, nullTime(u.LastFailedAt), now, now)
		if isUnique(err) {
			return domain.Errorf(domain.CodeConflict, "user %q already exists in org %q", u.Username, slug)
		}
		if err != nil {
			return fmt.Errorf("store: insert user: %w", err)
		}
		return s.audit(ctx, tx, domain.AuditEntry{OrgID: org.ID, Actor: actor, Action: domain.ActionUserCreate, Target: u.Username, Source: source})
	})
	return u, err
}

// User returns one user of the org; domain.ErrNotFound when either is
// missing.
func (s *Store) User(ctx context.Context, slug, username string) (domain.User, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	_, u, err := s.userInOrg(ctx, s.db, slug, username, "")
	return u, err
}

// userOrgRow is a user with its org, read in one query.
type userOrgRow struct {
	userRow
	Org orgRow `db:"org"`
}

// selectUserInOrg reads a user and its org by slug and username: one round
// trip on the paths every API read and change takes. A miss looks again,
// to say which of the two is missing.
var selectUserInOrg = `SELECT ` + qualified("u", userColumns, "") + `, ` + qualified("o", orgColumns, "org.") + `
	FROM users u JOIN orgs o ON o.id = u.org_id WHERE o.slug = ? AND u.username = ?`

// userInOrg reads a user and its org; suffix may lock the user's row (the
// org's row is never locked, so that changes to one org's users do not
// queue behind each other).
func (s *Store) userInOrg(ctx context.Context, q queryer, slug, username, suffix string) (domain.Org, domain.User, error) {
	var r userOrgRow
	st, err := s.stmtFor(ctx, q, selectUserInOrg+suffix)
	if err == nil {
		err = st.queryRow(ctx, slug, username).StructScan(&r)
	}
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.orgBySlug(ctx, q, slug, ""); err != nil {
			return domain.Org{}, domain.User{}, err
		}
		return domain.Org{}, domain.User{}, domain.Errorf(domain.CodeNotFound, "user %q not found", username)
	}
	if err != nil {
		return domain.Org{}, domain.User{}, fmt.Errorf("store: user %q: %w", username, err)
	}
	return r.Org.org(), r.user(), nil
}

// forUpdateOfUser is forUpdate for selectUserInOrg: it locks the user's
// row only.
func (s *Store) forUpdateOfUser() string {
	if s.dialect == Postgres {
		return " FOR UPDATE OF u"
	}
	return ""
}

// qualified prefixes each of a column list's columns with a table alias
// and, when prefix is set, names it prefix+column, for sqlx's nested
// structs.
func qualified(alias, columns, prefix string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		c = strings.TrimSpace(c)
		cols[i] = alias + "." + c
		if prefix != "" {
			cols[i] += ` AS "` + prefix + c + `"`
		}
	}
	return strings.Join(cols, ", ")
}

func (s *Store) userByName(ctx context.Context, q queryer, orgID int64, username, suffix string) (domain.User, error) {
	var r userRow
	err := sqlx.GetContext(ctx, q, &r, q.Rebind(`SELECT `+userColumns+` FROM users WHERE org_id = ? AND username = ?`+suffix), orgID, username)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.User{}, domain.Errorf(domain.CodeNotFound, "user %q not found", username)
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("store: user %q: %w", username, err)
	}
	return r.user(), nil
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	// Status selects "locked" or "active" users at the store's now; an
	// expired temporary lock counts as active.
	Status domain.Status
	// Reason selects locked users with this lock reason.
	Reason domain.LockReason
	// FailedOnly selects users with at least one counted failed login.
	FailedOnly bool
	// AfterUsername pages forward: only usernames sorting after it.
	AfterUsername string
	Limit         int
}

// ListUsers lists the org's users by username.
func (s *Store) ListUsers(ctx context.Context, slug string, f UserFilter) ([]domain.User, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	org, err := s.orgBySlug(ctx, s.db, slug, "")
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + userColumns + ` FROM users WHERE org_id = ?`
	args := []any{org.ID}
	// Locked at now: an expired temporary lock counts as active.
	const locked = `(lock_reason IS NOT NULL AND (lock_expires_at IS NULL OR lock_expires_at > ?))`
	switch f.Status {
	case domain.StatusLocked:
		q += ` AND ` + locked
		args = append(args, s.now())
	case domain.StatusActive:
		q += ` AND NOT ` + locked
		args = append(args, s.now())
	}
	if f.Reason != "" {
		q += ` AND lock_reason = ?`
		args = append(args, string(f.Reason))
	}
	if f.FailedOnly {
		q += ` AND failed_logins > 0`
	}
	if f.AfterUsername != "" {
		q += ` AND username > ?`
		args = append(args, f.AfterUsername)
	}
	q += ` ORDER BY username LIMIT ?`
	args = append(args, limitOrDefault(f.Limit))
	var rows []userRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	out := make([]domain.User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out, nil
}

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
