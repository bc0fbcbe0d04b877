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
)

// OperatorInfo is what `unlockd operator list` shows of an operator.
type OperatorInfo struct {
	Operator
	CreatedAt time.Time
	// LockedUntil is when the sign-in lock of the operator's address ends;
	// zero when it is not locked.
	LockedUntil time.Time
}

// ListOperators lists every operator by email, with the sign-in lock of
// each address that is locked now.
func (s *Store) ListOperators(ctx context.Context) ([]OperatorInfo, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var rows []struct {
		operatorRow
		CreatedAt time.Time `db:"created_at"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT o.id, o.email, o.role, o.org_id, g.slug AS org_slug,
		o.password_hash, o.totp_secret, o.totp_last_step, o.created_at
		FROM operators o LEFT JOIN orgs g ON g.id = o.org_id ORDER BY o.email`); err != nil {
		return nil, fmt.Errorf("store: list operators: %w", err)
	}
	var locks []struct {
		Key   string    `db:"email_hash"`
		Until time.Time `db:"locked_until"`
	}
	if err := s.db.SelectContext(ctx, &locks, s.db.Rebind(`SELECT email_hash, locked_until FROM signin_failures
		WHERE locked_until > ?`), s.now()); err != nil {
		return nil, fmt.Errorf("store: sign-in locks: %w", err)
	}
	until := make(map[string]time.Time, len(locks))
	for _, l := range locks {
		until[l.Key] = l.Until.UTC()
	}
	out := make([]OperatorInfo, len(rows))
	for i, r := range rows {
		out[i] = OperatorInfo{Operator: r.operator(), CreatedAt: r.CreatedAt.UTC(), LockedUntil: until[signInKey(r.Email)]}
	}
	return out, nil
}

// lockedOperator reads the operator with the address email under a row
// lock; an address that is no operator's is not found.
func (s *Store) lockedOperator(ctx context.Context, tx *sqlx.Tx, email string) (operatorRow, error) {
	norm, err := address.Normalize(email)
	if err != nil {
		return operatorRow{}, domain.Errorf(domain.CodeNotFound, "no operator has the address %q", email)
	}
	var r operatorRow
	err = tx.GetContext(ctx, &r, tx.Rebind(`SELECT o.id, o.email, o.role, o.org_id,
		(SELECT g.slug FROM orgs g WHERE g.id = o.org_id) AS org_slug, o.password_hash,
		o.totp_secret, o.totp_last_step FROM operators o WHERE lower(o.email) = ?`+s.forUpdate()), norm)
	if errors.Is(err, sql.ErrNoRows) {
		return operatorRow{}, domain.Errorf(domain.CodeNotFound, "no operator has the address %q", email)
	}
	if err != nil {
		return operatorRow{}, fmt.Errorf("store: operator %s: %w", email, err)
	}
	return r, nil
}

// RemoveOperator deletes an operator's web-UI account: their sessions and
// recovery codes go with it, and any sign-in lock of the address is
// lifted. An address that is no operator's is not found.
func (s *Store) RemoveOperator(ctx context.Context, email, actor, source string) (Operator, error) {
	var out Operator
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		r, err := s.lockedOperator(ctx, tx, email)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM operators WHERE id = ?`), r.ID); err != nil {
			return fmt.Errorf("store: remove operator %s: %w", r.Email, err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM signin_failures WHERE email_hash = ?`), signInKey(r.Email)); err != nil {
			return fmt.Errorf("store: remove operator %s: %w", r.Email, err)
		}
		out = r.operator()
		return s.audit(ctx, tx, domain.AuditEntry{OrgID: r.OrgID.Int64, Actor: actor, Action: domain.ActionOperatorRemove,
			Target: r.Email, Source: source, Note: "role " + r.Role})
	})
	return out, err
}

// UnlockOperator lifts the sign-in lock of an operator's address (too many
// failed sign-ins) and clears its failure count. An address that is no
// operator's is not found; one that is not locked is a conflict.
func (s *Store) UnlockOperator(ctx context.Context, email, actor, source string) (Operator, error) {
	var out Operator
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		r, err := s.lockedOperator(ctx, tx, email)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM signin_failures WHERE email_hash = ? AND locked_until > ?`),
			signInKey(r.Email), s.now())
		if err != nil {
			return fmt.Errorf("store: unlock operator %s: %w", r.Email, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return domain.Errorf(domain.CodeConflict, "operator %s is not locked", r.Email)
		}
		out = r.operator()
		return s.audit(ctx, tx, domain.AuditEntry{OrgID: r.OrgID.Int64, Actor: actor, Action: domain.ActionOperatorUnlock,
			Target: r.Email, Source: source})
	})
	return out, err
}
