package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// A claim hides a pending outbox row from other workers: claimed_by names
// the worker and next_attempt_at says until when. The worker renews its
// claims while it works (RenewClaims) and ends each one by recording the
// outcome (MailSent, MailFailed) or handing it back (ReleaseMail). A worker
// that dies stops renewing, so its mail is due again within one claim's
// time to live: seconds, not minutes.

// ClaimMail returns up to limit due mails, oldest first, claimed by owner
// until ttl from now. On PostgreSQL, FOR UPDATE SKIP LOCKED keeps
// concurrent instances from claiming the same rows.
func (s *Store) ClaimMail(ctx context.Context, owner string, limit int, ttl time.Duration) ([]OutboxMail, error) {
	var out []OutboxMail
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		lock := ""
		if s.dialect == Postgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		now := s.now()
		var rows []outboxRow
		if err := sqlx.SelectContext(ctx, tx, &rows, tx.Rebind(`SELECT `+outboxColumns+` FROM outbox
			WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`+lock), now, limit); err != nil {
			return fmt.Errorf("store: claim mail: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
			out = append(out, r.mail())
		}
		q, args, err := sqlx.In(`UPDATE outbox SET next_attempt_at = ?, claimed_by = ? WHERE id IN (?)`, now.Add(ttl), owner, ids)
		if err != nil {
			return fmt.Errorf("store: claim mail: %w", err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("store: claim mail: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RenewClaims extends owner's claims on ids to ttl from now and returns the
// ids it still holds: a row missing from the answer was recorded meanwhile,
// or its claim ran out and another worker took it.
func (s *Store) RenewClaims(ctx context.Context, owner string, ids []int64, ttl time.Duration) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	q, args, err := sqlx.In(`UPDATE outbox SET next_attempt_at = ? WHERE claimed_by = ? AND status = 'pending' AND id IN (?)
		RETURNING id`, s.now().Add(ttl), owner, ids)
	if err != nil {
		return nil, fmt.Errorf("store: renew claims: %w", err)
	}
	var held []int64
	if err := s.db.SelectContext(ctx, &held, s.db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: renew claims: %w", err)
	}
	return held, nil
}

// ReleaseMail hands owner's claims on ids back, due at once, so a worker
// that stops passes its untried mail on without waiting for the claims to
// run out.
func (s *Store) ReleaseMail(ctx context.Context, owner string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	q, args, err := sqlx.In(`UPDATE outbox SET next_attempt_at = ?, claimed_by = NULL
		WHERE claimed_by = ? AND status = 'pending' AND id IN (?)`, s.now(), owner, ids)
	if err != nil {
		return fmt.Errorf("store: release mail: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(q), args...); err != nil {
		return fmt.Errorf("store: release mail: %w", err)
	}
	return nil
}

// ReleaseClaims hands every claim back, due at once, and returns how many
// there were. Only a process that knows no other worker is alive may call
// it: on SQLite, the holder of the database's file lock (LockFile), whose
// predecessors' claims are all orphans.
func (s *Store) ReleaseClaims(ctx context.Context) (int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE outbox SET next_attempt_at = ?, claimed_by = NULL
		WHERE status = 'pending' AND claimed_by IS NOT NULL`), s.now())
	if err != nil {
		return 0, fmt.Errorf("store: release claims: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: release claims: %w", err)
	}
	return n, nil
}

// NextMailDue returns when the earliest pending mail is due (or its claim
// runs out); ok is false when nothing is pending.
func (s *Store) NextMailDue(ctx context.Context) (due time.Time, ok bool, err error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var t time.Time
	err = s.db.QueryRowxContext(ctx, `SELECT next_attempt_at FROM outbox WHERE status = 'pending'
		ORDER BY next_attempt_at LIMIT 1`).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next mail due: %w", err)
	}
	return t.UTC(), true, nil
}
