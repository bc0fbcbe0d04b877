package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// A claim hides a due row from other workers: its owner column names the
// worker and its due column says until when. The worker renews its claims
// while it works (internal/claim) and ends each one by recording the
// outcome or handing it back. A worker that dies stops renewing, so its
// rows are due again within one claim's time to live: seconds, not
// minutes. The outbox's mail and the remote directories' unlocks share
// this mechanism; a claims value names one table's columns for it.
type claims struct {
	table string // outbox, request_items
	due   string // when the row is due, or its claim runs out
	owner string // the worker holding the claim; NULL: nobody
	live  string // the condition of a row still to be done
}

var (
	outboxClaims = claims{table: "outbox", due: "next_attempt_at", owner: "claimed_by", live: "status = 'pending'"}
	applyClaims  = claims{table: "request_items", due: "apply_due_at", owner: "apply_claimed_by", live: "state = 'applying'"}
)

// claim selects up to limit due rows of c's table into dest (columns, in
// due order) and claims them for owner until ttl from now, inside tx. On
// PostgreSQL, FOR UPDATE SKIP LOCKED keeps concurrent instances from
// claiming the same rows. ids returns a selected row's id.
func (s *Store) claim(ctx context.Context, tx *sqlx.Tx, c claims, columns string, owner string, limit int, ttl time.Duration,
	dest any, ids func() []int64) error {
	lock := ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	now := s.now()
	if err := sqlx.SelectContext(ctx, tx, dest, tx.Rebind(`SELECT `+columns+` FROM `+c.table+`
		WHERE `+c.live+` AND `+c.due+` <= ? ORDER BY `+c.due+`, id LIMIT ?`+lock), now, limit); err != nil {
		return fmt.Errorf("store: claim %s: %w", c.table, err)
	}
	list := ids()
	if len(list) == 0 {
		return nil
	}
	q, args, err := sqlx.In(`UPDATE `+c.table+` SET `+c.due+` = ?, `+c.owner+` = ? WHERE id IN (?)`, now.Add(ttl), owner, list)
	if err != nil {
		return fmt.Errorf("store: claim %s: %w", c.table, err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
		return fmt.Errorf("store: claim %s: %w", c.table, err)
	}
	return nil
}

// renew extends owner's claims on ids to ttl from now and returns the ids
// it still holds: a row missing from the answer was recorded meanwhile,
// or its claim ran out and another worker took it.
func (s *Store) renew(ctx context.Context, c claims, owner string, ids []int64, ttl time.Duration) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	q, args, err := sqlx.In(`UPDATE `+c.table+` SET `+c.due+` = ? WHERE `+c.owner+` = ? AND `+c.live+` AND id IN (?)
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

// release hands owner's claims on ids back, due at once, so a worker that
// stops passes its untried rows on without waiting for the claims to run
// out.
func (s *Store) release(ctx context.Context, c claims, owner string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	q, args, err := sqlx.In(`UPDATE `+c.table+` SET `+c.due+` = ?, `+c.owner+` = NULL
		WHERE `+c.owner+` = ? AND `+c.live+` AND id IN (?)`, s.now(), owner, ids)
	if err != nil {
		return fmt.Errorf("store: release %s: %w", c.table, err)
	}
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(q), args...); err != nil {
		return fmt.Errorf("store: release %s: %w", c.table, err)
	}
	return nil
}

// releaseAll hands every claim of c's table back, due at once, and
// returns how many there were.
func (s *Store) releaseAll(ctx context.Context, c claims) (int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE `+c.table+` SET `+c.due+` = ?, `+c.owner+` = NULL
		WHERE `+c.live+` AND `+c.owner+` IS NOT NULL`), s.now())
	if err != nil {
		return 0, fmt.Errorf("store: release claims: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: release claims: %w", err)
	}
	return n, nil
}

// nextDue returns when the earliest live row of c's table is due (or its
// claim runs out); ok is false when none is live.
func (s *Store) nextDue(ctx context.Context, c claims) (due time.Time, ok bool, err error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var t time.Time
	err = s.db.QueryRowxContext(ctx, `SELECT `+c.due+` FROM `+c.table+` WHERE `+c.live+`
		ORDER BY `+c.due+` LIMIT 1`).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next %s due: %w", c.table, err)
	}
	return t.UTC(), true, nil
}

// ClaimMail returns up to limit due mails, oldest first, claimed by owner
// until ttl from now.
func (s *Store) ClaimMail(ctx context.Context, owner string, limit int, ttl time.Duration) ([]OutboxMail, error) {
	var out []OutboxMail
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var rows []outboxRow
		return s.claim(ctx, tx, outboxClaims, outboxColumns, owner, limit, ttl, &rows, func() []int64 {
			ids := make([]int64, len(rows))
			for i, r := range rows {
				ids[i] = r.ID
				out = append(out, r.mail())
			}
			return ids
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RenewClaims extends owner's claims on the mails ids to ttl from now and
// returns the ids it still holds.
func (s *Store) RenewClaims(ctx context.Context, owner string, ids []int64, ttl time.Duration) ([]int64, error) {
	return s.renew(ctx, outboxClaims, owner, ids, ttl)
}

// ReleaseMail hands owner's claims on the mails ids back, due at once.
func (s *Store) ReleaseMail(ctx context.Context, owner string, ids []int64) error {
	return s.release(ctx, outboxClaims, owner, ids)
}

// ReleaseClaims hands every claim back, mail and directory unlocks alike,
// due at once, and returns how many there were. Only a process that knows
// no other worker is alive may call it: on SQLite, the holder of the
// database's file lock (LockFile), whose predecessors' claims are all
// orphans.
func (s *Store) ReleaseClaims(ctx context.Context) (int64, error) {
	n, err := s.releaseAll(ctx, outboxClaims)
	if err != nil {
		return 0, err
	}
	m, err := s.releaseAll(ctx, applyClaims)
	return n + m, err
}

// NextMailDue returns when the earliest pending mail is due (or its claim
// runs out); ok is false when nothing is pending.
func (s *Store) NextMailDue(ctx context.Context) (due time.Time, ok bool, err error) {
	return s.nextDue(ctx, outboxClaims)
}
