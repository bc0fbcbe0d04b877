package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/address"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
)

// Operator is a web-UI account of support staff or an org admin.
type Operator struct {
	ID      int64
	Email   string
	Role    domain.Role
	OrgSlug string // empty for staff
}

const insertOperator = `INSERT INTO operators (email, role, org_id, password_hash, created_at)
	VALUES (?, ?, ?, ?, ?) RETURNING id`

// AddOperator creates a web-UI account with an already hashed password. An
// address in use (in any case) is a conflict.
func (s *Store) AddOperator(ctx context.Context, op Operator, hash, actor, source string) (Operator, error) {
	if op.Role != domain.RoleStaff && op.Role != domain.RoleAdmin {
		return op, domain.Errorf(domain.CodeInvalid, "operator role must be staff or admin")
	}
	if err := checkRoleOrg(op.Role, op.OrgSlug); err != nil {
		return op, err
	}
	email, err := address.Normalize(op.Email)
	if err != nil {
		return op, domain.Errorf(domain.CodeInvalid, "operator email %q is not a valid address", op.Email)
	}
	op.Email = email
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var orgID int64
		if op.OrgSlug != "" {
			org, err := s.orgBySlug(ctx, tx, op.OrgSlug, "")
			if err != nil {
				return err
			}
			orgID = org.ID
		}
		var err error
		op.ID, err = insertID(ctx, tx, insertOperator, op.Email, string(op.Role), nullID(orgID), hash, s.now())
		if isUnique(err) {
			return domain.Errorf(domain.CodeConflict, "operator %s already exists", op.Email)
		}
		if err != nil {
			return fmt.Errorf("store: insert operator: %w", err)
		}
		return s.audit(ctx, tx, domain.AuditEntry{OrgID: orgID, Actor: actor, Action: domain.ActionOperatorAdd,
			Target: op.Email, Source: source, Note: "role " + string(op.Role)})
	})
	return op, err
}

// Operator sign-in limits (SPEC §8: operator accounts lock after repeated
// failures too). Failed sign-ins count while each follows the one before
// within OperatorFailureWindow; the MaxOperatorFailures-th locks the
// operator for OperatorLockout. A success clears the count.
const (
	MaxOperatorFailures   = 5
	OperatorFailureWindow = 15 * time.Minute
	OperatorLockout       = 15 * time.Minute
)

// Sign-in refusals. They are all a stranger learns: an unknown address and
// a wrong password read the same.
var (
	ErrSignInInvalid = errors.New("invalid email or password")
	ErrSignInLocked  = errors.New("account locked, try later")
)

type operatorRow struct {
	ID           int64          `db:"id"`
	Email        string         `db:"email"`
	Role         string         `db:"role"`
	OrgID        sql.NullInt64  `db:"org_id"`
	OrgSlug      sql.NullString `db:"org_slug"`
	PasswordHash string         `db:"password_hash"`
	LockedUntil  sql.NullTime   `db:"locked_until"`
}

func (r operatorRow) operator() Operator {
	return Operator{ID: r.ID, Email: r.Email, Role: domain.Role(r.Role), OrgSlug: r.OrgSlug.String}
}

const selectOperator = `SELECT o.id, o.email, o.role, o.org_id, g.slug AS org_slug, o.password_hash, o.locked_until
	FROM operators o LEFT JOIN orgs g ON g.id = o.org_id WHERE lower(o.email) = ?`

// SignIn checks an operator's email and password. It answers
// ErrSignInInvalid for an unknown address or a wrong password, spending the
// same time on both (a dummy hash is verified for unknown addresses), and
// ErrSignInLocked while the operator is locked, whatever the password. Each
// failure counts towards the lock; the failure that locks the operator
// writes an audit entry. Passwords are verified outside any transaction.
func (s *Store) SignIn(ctx context.Context, email, pw, source string) (Operator, error) {
	row, err := s.operatorByEmail(ctx, email)
	if errors.Is(err, domain.ErrNotFound) {
		_ = password.Verify(pw, dummyHash())
		return Operator{}, ErrSignInInvalid
	}
	if err != nil {
		return Operator{}, err
	}
	if s.now().Before(timeOf(row.LockedUntil)) {
		_ = password.Verify(pw, dummyHash())
		return Operator{}, ErrSignInLocked
	}
	ok := password.Verify(pw, row.PasswordHash) == nil
	var refused error
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		refused, err = s.recordSignIn(ctx, tx, row, ok, source)
		return err
	})
	if err == nil {
		err = refused
	}
	if err != nil {
		return Operator{}, err
	}
	return row.operator(), nil
}

func (s *Store) operatorByEmail(ctx context.Context, email string) (operatorRow, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	norm, err := address.Normalize(email)
	if err != nil {
		return operatorRow{}, domain.ErrNotFound
	}
	var r operatorRow
	err = s.db.GetContext(ctx, &r, s.db.Rebind(selectOperator), norm)
	if errors.Is(err, sql.ErrNoRows) {
		return operatorRow{}, domain.ErrNotFound
	}
	if err != nil {
		return operatorRow{}, fmt.Errorf("store: operator: %w", err)
	}
	return r, nil
}

type signInCounters struct {
	FailedLogins int          `db:"failed_logins"`
	LastFailedAt sql.NullTime `db:"last_failed_at"`
	LockedUntil  sql.NullTime `db:"locked_until"`
}

const updateSignIn = `UPDATE operators SET failed_logins = ?, last_failed_at = ?, locked_until = ? WHERE id = ?`

// recordSignIn applies one verified attempt under the operator's row lock
// and returns the refusal (ErrSignInInvalid or ErrSignInLocked), nil for a
// success. A lock taken by a concurrent attempt meanwhile refuses even a
// right password.
func (s *Store) recordSignIn(ctx context.Context, tx *sqlx.Tx, op operatorRow, ok bool, source string) (refused, err error) {
	var c signInCounters
	if err := tx.GetContext(ctx, &c, tx.Rebind(`SELECT failed_logins, last_failed_at, locked_until
		FROM operators WHERE id = ?`+s.forUpdate()), op.ID); err != nil {
		return nil, fmt.Errorf("store: operator %s: %w", op.Email, mapErr(err))
	}
	now := s.now()
	if now.Before(timeOf(c.LockedUntil)) {
		return ErrSignInLocked, nil
	}
	failures, last, until := 0, time.Time{}, time.Time{}
	if !ok {
		failures, last, refused = c.FailedLogins+1, now, ErrSignInInvalid
		if c.LastFailedAt.Valid && now.Sub(c.LastFailedAt.Time) >= OperatorFailureWindow {
			failures = 1
		}
		if failures >= MaxOperatorFailures {
			until, refused = now.Add(OperatorLockout), ErrSignInLocked
		}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(updateSignIn), failures, nullTime(last), nullTime(until), op.ID); err != nil {
		return nil, fmt.Errorf("store: operator %s sign-in: %w", op.Email, err)
	}
	if until.IsZero() {
		return refused, nil
	}
	return refused, s.audit(ctx, tx, domain.AuditEntry{OrgID: op.OrgID.Int64, Actor: domain.ActorSystem,
		Action: domain.ActionOperatorLock, Target: op.Email, Source: source,
		Note: fmt.Sprintf("%d failed sign-ins; locked until %s", failures, until.Format(time.RFC3339))})
}
