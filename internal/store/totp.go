package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/address"
	"github.com/unlockd/unlockd/internal/domain"
)

// EnrolTOTP gives an operator who has none a second factor: secret, with
// step the time step of the code that confirmed it (so that code cannot
// also sign in), and the hashes of fresh recovery codes (totp.RecoveryHash).
// An operator who has one already is a conflict.
func (s *Store) EnrolTOTP(ctx context.Context, op Operator, secret string, step int64, recoveryHashes []string, source string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE operators SET totp_secret = ?, totp_last_step = ?
			WHERE id = ? AND totp_secret = ''`), secret, step, op.ID)
		if err != nil {
			return fmt.Errorf("store: enrol totp: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return domain.Errorf(domain.CodeConflict, "a second factor is enrolled already")
		}
		if err := s.replaceRecoveryCodes(ctx, tx, op.ID, recoveryHashes); err != nil {
			return err
		}
		var org sql.NullInt64
		if err := tx.GetContext(ctx, &org, tx.Rebind(`SELECT org_id FROM operators WHERE id = ?`), op.ID); err != nil {
			return fmt.Errorf("store: enrol totp: %w", err)
		}
		return s.audit(ctx, tx, domain.AuditEntry{OrgID: org.Int64, Actor: "operator:" + op.Email,
			Action: domain.ActionTOTPEnrol, Target: op.Email, Source: source})
	})
}

func (s *Store) replaceRecoveryCodes(ctx context.Context, tx *sqlx.Tx, operatorID int64, hashes []string) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM operator_recovery_codes WHERE operator_id = ?`), operatorID); err != nil {
		return fmt.Errorf("store: delete recovery codes: %w", err)
	}
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO operator_recovery_codes (operator_id, code_hash) VALUES (?, ?)`),
			operatorID, h); err != nil {
			return fmt.Errorf("store: insert recovery code: %w", mapErr(err))
		}
	}
	return nil
}

// ResetTOTP removes an operator's second factor and recovery codes and ends
// their sessions (`unlockd operator reset-totp`), so that they enrol again
// at their next sign-in. An unknown address is not found; an operator
// without a second factor is a conflict.
func (s *Store) ResetTOTP(ctx context.Context, email, actor, source string) (Operator, error) {
	norm, err := address.Normalize(email)
	if err != nil {
		return Operator{}, domain.Errorf(domain.CodeInvalid, "%q is not a valid address", email)
	}
	var op Operator
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var r operatorRow
		if err := tx.GetContext(ctx, &r, tx.Rebind(selectOperator), norm); err != nil {
			if mapErr(err) == domain.ErrNotFound {
				return domain.Errorf(domain.CodeNotFound, "no operator %s", norm)
			}
			return fmt.Errorf("store: operator: %w", err)
		}
		op = r.operator()
		if r.TOTPSecret == "" {
			return domain.Errorf(domain.CodeConflict, "operator %s has no second factor enrolled", r.Email)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE operators SET totp_secret = '', totp_last_step = 0 WHERE id = ?`), r.ID); err != nil {
			return fmt.Errorf("store: reset totp: %w", err)
		}
		if err := s.replaceRecoveryCodes(ctx, tx, r.ID, nil); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM sessions WHERE operator_id = ?`), r.ID); err != nil {
			return fmt.Errorf("store: end sessions: %w", err)
		}
		op.TOTP = false
		return s.audit(ctx, tx, domain.AuditEntry{OrgID: r.OrgID.Int64, Actor: actor, Action: domain.ActionTOTPReset,
			Target: r.Email, Source: source})
	})
	return op, err
}
