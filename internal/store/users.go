package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

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
