package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

// The API's hot paths (GET a user, POST an unlock) check the caller's API
// token in the same query that reads what the call works on, instead of in
// a round trip of its own. Nothing is cached: every call reads the token's
// row as committed when its query starts, so a token revoked by any
// process fails the first call that starts after the revocation commits.

// TokenCheck is an API call's token, for the store to check in the call's
// own first query.
type TokenCheck struct {
	// Hash is the token's hash (password.HashToken); the token itself
	// never reaches the database.
	Hash string
	// Allow decides, from the live token's record, whether it may make the
	// call, and names the actor for audit entries. It runs after the read
	// and before anything is written, possibly inside the call's
	// transaction: it must not call the store or wait on anything. Its
	// error is returned as is.
	Allow func(Token) (actor string, err error)
}

// ErrNoToken says that no live API token has the hash of a TokenCheck: it
// is unknown or revoked.
var ErrNoToken = errors.New("store: no live API token has this hash")

// callColumns are the columns an API call reads: the token with its org's
// slug, then the user and the org the call names, NULL where missing.
var callColumns = `t.id, t.name, t.role, t.last_used_at, tok.slug, ` +
	qualified("u", userColumns, "") + `, ` + qualified("o", orgColumns, "")

// callRead reads a token by hash (the last parameter) and the user named
// by org slug and username (the first two), whichever of them exist.
var callRead = `FROM api_tokens t LEFT JOIN orgs tok ON tok.id = t.org_id
	LEFT JOIN orgs o ON o.slug = ? LEFT JOIN users u ON u.org_id = o.id AND u.username = ?
	WHERE t.token_hash = ? AND t.revoked_at IS NULL`

// callLock is callRead for a change, in its transaction: it finds a row
// only when the token, the org and the user all exist, and locks the
// user's row (an outer join's nullable side cannot be locked).
var callLock = `FROM api_tokens t LEFT JOIN orgs tok ON tok.id = t.org_id
	JOIN orgs o ON o.slug = ? JOIN users u ON u.org_id = o.id AND u.username = ?
	WHERE t.token_hash = ? AND t.revoked_at IS NULL`

// rowVersion is the user row's version in PostgreSQL, for a write that
// must find the row as it was read: xmin changes with every update.
// SQLite needs none (its changes run in one transaction, on one
// connection).
func (s *Store) rowVersion() string {
	if s.dialect == Postgres {
		return `, u.xmin::text`
	}
	return `, ''`
}

// callQuery is the text of an API call's read: locked for a change in its
// transaction, or not.
func (s *Store) callQuery(locked bool) string {
	if locked {
		return s.callSQL.lock
	}
	return s.callSQL.read
}

// callSQL holds a dialect's texts of callQuery, built once.
type callSQL struct{ read, lock string }

func (s *Store) buildCallSQL() {
	s.callSQL = callSQL{
		read: `SELECT ` + callColumns + s.rowVersion() + ` ` + callRead,
		lock: `SELECT ` + callColumns + s.rowVersion() + ` ` + callLock + s.forUpdateOfUser(),
	}
}

// call is what an API call's read found.
type call struct {
	token   Token
	user    nullUser
	org     nullOrg
	version sql.NullString
}

func scanCall(row *sqlx.Row) (call, error) {
	var c call
	var used sql.NullTime
	var tokOrg sql.NullString
	dest := append([]any{&c.token.ID, &c.token.Name, &c.token.Role, &used, &tokOrg}, c.user.dest()...)
	dest = append(append(dest, c.org.dest()...), &c.version)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return c, ErrNoToken
		}
		return c, fmt.Errorf("store: token and user: %w", err)
	}
	c.token.LastUsedAt, c.token.OrgSlug = timeOf(used), tokOrg.String
	return c, nil
}

// target is the org and user the call names, or not found for either.
func (c call) target(slug, username string) (domain.Org, domain.User, error) {
	if !c.org.ID.Valid {
		return domain.Org{}, domain.User{}, domain.Errorf(domain.CodeNotFound, "org %q not found", slug)
	}
	if !c.user.ID.Valid {
		return domain.Org{}, domain.User{}, domain.Errorf(domain.CodeNotFound, "user %q not found", username)
	}
	return c.org.row().org(), c.user.row().user(), nil
}

// readCall runs an API call's read on q (the pool or the call's
// transaction) and asks tc whether the token may make the call.
func (s *Store) readCall(ctx context.Context, q queryer, tc TokenCheck, slug, username string, locked bool) (call, string, error) {
	st, err := s.stmtFor(ctx, q, s.callQuery(locked))
	if err != nil {
		return call{}, "", err
	}
	c, err := scanCall(st.queryRow(ctx, slug, username, tc.Hash))
	if locked && errors.Is(err, ErrNoToken) {
		// No row: the token, the org or the user is missing. Look again,
		// without the lock, to say which.
		return s.readCall(ctx, q, tc, slug, username, false)
	}
	if err != nil {
		return call{}, "", err
	}
	actor, err := tc.Allow(c.token)
	return c, actor, err
}

// UserByToken is User for an API call: tc's token is checked in the same
// query, and a token that may not make the call (tc.Allow) learns nothing
// about the user. ErrNoToken when the token is unknown or revoked.
func (s *Store) UserByToken(ctx context.Context, tc TokenCheck, slug, username string) (domain.User, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	c, _, err := s.readCall(ctx, s.db, tc, slug, username, false)
	if err != nil {
		return domain.User{}, err
	}
	_, u, err := c.target(slug, username)
	return u, err
}

// UnlockUserByToken is UnlockUser for an API call, whose token tc is
// checked in the unlock's own first query.
func (s *Store) UnlockUserByToken(ctx context.Context, tc TokenCheck, slug, username, source string) (domain.User, error) {
	return s.changeUser(ctx, slug, username, caller{token: &tc}, unlockUser(source))
}

// changeUserAsRead is changeUser for an API call on PostgreSQL in two
// round trips: the call's read, without a lock, then one statement that
// saves the user, and writes its audit entry, only if the user's row is
// still as read and the token still live. done is false when it was not:
// the caller then makes the change in a transaction that locks the row.
func (s *Store) changeUserAsRead(ctx context.Context, slug, username string, tc TokenCheck, change userChange) (u domain.User, done bool, err error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	c, actor, err := s.readCall(ctx, s.db, tc, slug, username, false)
	if err != nil {
		return domain.User{}, false, err
	}
	org, u, err := c.target(slug, username)
	if err != nil {
		return domain.User{}, false, err
	}
	afterCallRead()
	now := s.now()
	entry, err := change(org, &u, now)
	if err != nil {
		return domain.User{}, false, err
	}
	args := append(saveUserArgs(u, now), c.version.String, c.token.ID)
	query := saveUserIfAsRead
	if entry != nil {
		query = saveUserIfAsReadAudited
		e := completeEntry(*entry, org, u, actor)
		args = append(args, nullID(e.OrgID), e.Actor, string(e.Action), e.Target, e.Source, e.Note, now)
	}
	st, err := s.prepared(ctx, query)
	if err != nil {
		return domain.User{}, false, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return domain.User{}, false, fmt.Errorf("store: save user %q: %w", u.Username, mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return domain.User{}, false, fmt.Errorf("store: save user %q: %w", u.Username, err)
	}
	return u, n == 1, nil
}

// afterCallRead runs between changeUserAsRead's read and its write; tests
// change the row or revoke the token there.
var afterCallRead = func() {}

// saveUserIfAsRead is saveUser that finds the row only while its version
// is the one read and the call's token is live.
const saveUserIfAsRead = saveUser + ` AND xmin = ?::xid
	AND EXISTS (SELECT 1 FROM api_tokens WHERE id = ? AND revoked_at IS NULL)`

// saveUserIfAsReadAudited is saveUserIfAsRead and the audit entry of the
// change, written only if the user was saved: one statement, so one
// transaction.
const saveUserIfAsReadAudited = `WITH saved AS (` + saveUserIfAsRead + ` RETURNING id)
	INSERT INTO audit (org_id, actor, action, target, source, note, at)
	SELECT ?, ?, ?, ?, ?, ?, ? FROM saved`

// nullUser is a user's columns (userColumns) from the nullable side of an
// outer join.
type nullUser struct {
	ID, OrgID, FailedLogins                                                    sql.NullInt64
	Username, DisplayName, Email, PasswordHash, LockReason, LockedBy, LockNote sql.NullString
	LockedAt, LockExpiresAt, LastFailedAt                                      sql.NullTime
}

// dest lists the scan destinations in userColumns order.
func (n *nullUser) dest() []any {
	return []any{&n.ID, &n.OrgID, &n.Username, &n.DisplayName, &n.Email, &n.PasswordHash, &n.LockReason,
		&n.LockedAt, &n.LockedBy, &n.LockNote, &n.LockExpiresAt, &n.FailedLogins, &n.LastFailedAt}
}

func (n nullUser) row() userRow {
	return userRow{ID: n.ID.Int64, OrgID: n.OrgID.Int64, Username: n.Username.String, DisplayName: n.DisplayName.String,
		Email: n.Email.String, PasswordHash: n.PasswordHash.String, LockReason: n.LockReason, LockedAt: n.LockedAt,
		LockedBy: n.LockedBy.String, LockNote: n.LockNote.String, LockExpiresAt: n.LockExpiresAt,
		FailedLogins: int(n.FailedLogins.Int64), LastFailedAt: n.LastFailedAt}
}

// nullOrg is an org's columns (orgColumns) from the nullable side of an
// outer join.
type nullOrg struct {
	ID, MaxFailedLogins, LockoutDurationS, FailureWindowS, MaxRequestsPerHour, MaxUnverified sql.NullInt64
	Slug, Name, EmailConfirmation, Directory                                                 sql.NullString
	AutoUnlock                                                                               sql.NullBool
	CreatedAt                                                                                sql.NullTime
}

// dest lists the scan destinations in orgColumns order.
func (n *nullOrg) dest() []any {
	return []any{&n.ID, &n.Slug, &n.Name, &n.MaxFailedLogins, &n.LockoutDurationS, &n.FailureWindowS,
		&n.AutoUnlock, &n.MaxRequestsPerHour, &n.MaxUnverified, &n.EmailConfirmation, &n.Directory, &n.CreatedAt}
}

func (n nullOrg) row() orgRow {
	return orgRow{ID: n.ID.Int64, Slug: n.Slug.String, Name: n.Name.String, MaxFailedLogins: int(n.MaxFailedLogins.Int64),
		LockoutDurationS: n.LockoutDurationS.Int64, FailureWindowS: n.FailureWindowS.Int64, AutoUnlock: n.AutoUnlock.Bool,
		MaxRequestsPerHour: int(n.MaxRequestsPerHour.Int64), MaxUnverified: int(n.MaxUnverified.Int64),
		EmailConfirmation: n.EmailConfirmation.String, Directory: n.Directory.String, CreatedAt: n.CreatedAt.Time.UTC()}
}
