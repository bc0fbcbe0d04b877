package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/address"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/totp"
)

// Operator sign-in limits (SPEC §8: operator accounts lock after repeated
// failures too, with the same answer for unknown emails). Failures count
// per email address tried, whether or not an operator has it, while each
// follows the one before within OperatorFailureWindow; the
// MaxOperatorFailures-th locks the address for OperatorLockout. A success
// clears the count.
const (
	MaxOperatorFailures   = 5
	OperatorFailureWindow = 15 * time.Minute
	OperatorLockout       = 15 * time.Minute
)

// Sign-in refusals. They are all a stranger learns: an unknown address, a
// wrong password and a wrong code read the same, and so do the locks of
// known and unknown addresses.
var (
	ErrSignInInvalid = errors.New("invalid email, password or code")
	ErrSignInLocked  = errors.New("too many failed sign-ins, try again later")
)

// SignInLockedError is ErrSignInLocked with the time the lock ends, for a
// Retry-After header.
type SignInLockedError struct{ Until time.Time }

func (e *SignInLockedError) Error() string { return ErrSignInLocked.Error() }

// Is makes errors.Is(err, ErrSignInLocked) true.
func (e *SignInLockedError) Is(target error) bool { return target == ErrSignInLocked }

// Credentials are what the sign-in form carries.
type Credentials struct {
	Email    string
	Password string
	// Code is a TOTP code or a recovery code; it is needed, and checked,
	// only for an operator who has enrolled a second factor.
	Code string
}

// SignIn checks an operator's credentials. It answers ErrSignInInvalid for
// an unknown address, a wrong password or a wrong or reused code, and a
// *SignInLockedError while the address is locked, whatever the password.
// Known and unknown addresses take the same steps: one lookup of each
// table, one argon2id verification (of a dummy hash for an unknown
// address) in one of hashes' slots, and one transaction that counts the
// attempt; a lock writes an audit entry either way. password.ErrBusy, when
// no slot came free, is returned as is and counts for nothing. The
// returned Operator's TOTP field says whether the operator has enrolled.
func (s *Store) SignIn(ctx context.Context, hashes *password.Limiter, c Credentials, source string) (Operator, error) {
	key := signInKey(c.Email)
	row, err := s.operatorByEmail(ctx, c.Email)
	known := err == nil
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return Operator{}, err
	}
	until, err := s.signInLockedUntil(ctx, key)
	if err != nil {
		return Operator{}, err
	}
	if s.now().Before(until) {
		return Operator{}, &SignInLockedError{Until: until}
	}
	hash := row.PasswordHash
	if !known {
		hash = dummyHash()
	}
	verr := hashes.Verify(ctx, c.Password, hash)
	if errors.Is(verr, password.ErrBusy) || ctx.Err() != nil {
		return Operator{}, errors.Join(verr, ctx.Err())
	}
	var refused error
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		refused, err = s.recordSignIn(ctx, tx, key, c, row, known && verr == nil, source)
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

// signInKey names the failure counter of an email address: the SHA-256 of
// the address as normalised (or, for something that is not an address, as
// typed, lower-cased).
func signInKey(email string) string {
	norm, err := address.Normalize(email)
	if err != nil {
		norm = strings.ToLower(strings.TrimSpace(email))
	}
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:])
}

func (s *Store) signInLockedUntil(ctx context.Context, key string) (time.Time, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var until sql.NullTime
	err := s.db.GetContext(ctx, &until, s.db.Rebind(`SELECT locked_until FROM signin_failures WHERE email_hash = ?`), key)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("store: sign-in failures: %w", err)
	}
	return timeOf(until), nil
}

type signInCounters struct {
	Failures     int          `db:"failures"`
	LastFailedAt time.Time    `db:"last_failed_at"`
	LockedUntil  sql.NullTime `db:"locked_until"`
}

const (
	insertSignInCounter = `INSERT INTO signin_failures (email_hash, failures, last_failed_at) VALUES (?, 0, ?)
		ON CONFLICT (email_hash) DO NOTHING`
	updateSignInCounter = `UPDATE signin_failures SET failures = ?, last_failed_at = ?, locked_until = ? WHERE email_hash = ?`
	purgeSignInCounters = `DELETE FROM signin_failures WHERE last_failed_at <= ? AND (locked_until IS NULL OR locked_until <= ?)`
)

// recordSignIn applies one attempt whose password was checked (pwOK) under
// the row lock of the address's counter, and returns the refusal, nil for
// a success. A lock taken by a concurrent attempt meanwhile refuses even a
// right password. The second factor is checked (and a code used up) only
// for a right password. The failure that locks the address writes an audit
// entry.
func (s *Store) recordSignIn(ctx context.Context, tx *sqlx.Tx, key string, c Credentials, op operatorRow, pwOK bool, source string) (refused, err error) {
	now := s.now()
	if _, err := tx.ExecContext(ctx, tx.Rebind(insertSignInCounter), key, now); err != nil {
		return nil, fmt.Errorf("store: sign-in counter: %w", err)
	}
	var n signInCounters
	if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT failures, last_failed_at, locked_until
		FROM signin_failures WHERE email_hash = ?`+s.forUpdate()), key); err != nil {
		return nil, fmt.Errorf("store: sign-in counter: %w", err)
	}
	if until := timeOf(n.LockedUntil); now.Before(until) {
		return &SignInLockedError{Until: until}, nil
	}
	ok := pwOK
	if ok && op.TOTPSecret != "" {
		if ok, err = s.secondFactor(ctx, tx, op, c.Code, now); err != nil {
			return nil, err
		}
	}
	if ok {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM signin_failures WHERE email_hash = ?`), key); err != nil {
			return nil, fmt.Errorf("store: clear sign-in counter: %w", err)
		}
		return nil, nil
	}
	failures := n.Failures + 1
	if n.LockedUntil.Valid || now.Sub(n.LastFailedAt) >= OperatorFailureWindow {
		failures = 1 // the last lock has passed, or the last failure is too old
	}
	var until time.Time
	refused = ErrSignInInvalid
	if failures >= MaxOperatorFailures {
		until = now.Add(OperatorLockout)
		refused = &SignInLockedError{Until: until}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(updateSignInCounter), failures, now, nullTime(until), key); err != nil {
		return nil, fmt.Errorf("store: sign-in counter: %w", err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(purgeSignInCounters), now.Add(-OperatorFailureWindow), now); err != nil {
		return nil, fmt.Errorf("store: purge sign-in counters: %w", err)
	}
	if !until.IsZero() {
		return refused, s.auditSignInLock(ctx, tx, c.Email, op, source)
	}
	return refused, nil
}

// maxAuditEmail bounds the address an audit entry quotes from the form.
const maxAuditEmail = 254

// auditSignInLock records that an address was locked: an operator's, or
// one that names nobody (quoted as typed, cut short).
func (s *Store) auditSignInLock(ctx context.Context, tx *sqlx.Tx, typed string, op operatorRow, source string) error {
	target := op.Email
	if target == "" {
		target = strings.ToValidUTF8(strings.TrimSpace(typed), "?")
		if len(target) > maxAuditEmail {
			target = strings.ToValidUTF8(target[:maxAuditEmail], "")
		}
	}
	return s.audit(ctx, tx, domain.AuditEntry{OrgID: op.OrgID.Int64, Actor: domain.ActorSystem,
		Action: domain.ActionOperatorLock, Target: target, Source: source,
		Note: fmt.Sprintf("%d failed sign-ins; locked for %s", MaxOperatorFailures, OperatorLockout)})
}

// secondFactor checks code, a TOTP code or a recovery code, and uses it up:
// a TOTP code's time step must come after the last one accepted, and a
// recovery code must not have been used.
func (s *Store) secondFactor(ctx context.Context, tx *sqlx.Tx, op operatorRow, code string, now time.Time) (bool, error) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	var res sql.Result
	var err error
	if totp.IsCode(code) {
		step, ok := totp.Match(op.TOTPSecret, code, now, op.TOTPLastStep)
		if !ok {
			return false, nil
		}
		res, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE operators SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`),
			step, op.ID, step)
	} else {
		hash := totp.RecoveryHash(code)
		if hash == "" {
			return false, nil
		}
		res, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE operator_recovery_codes SET used_at = ?
			WHERE operator_id = ? AND code_hash = ? AND used_at IS NULL`), now, op.ID, hash)
	}
	if err != nil {
		return false, fmt.Errorf("store: second factor of %s: %w", op.Email, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: second factor of %s: %w", op.Email, err)
	}
	return n == 1, nil
}
