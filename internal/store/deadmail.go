package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

// Dead mail: mail the outbox gave up on after smtp.max_attempts, or at once
// after a permanent refusal (SPEC §5). Staff list it with its last error
// and retry it (back in the queue, due now, with its attempts reset) or
// discard it (deleted unsent); both are audited.

// DeadMail is one dead mail as staff see it: no body.
type DeadMail struct {
	ID         int64
	DecisionID int64
	Kind       domain.MailKind
	To         string
	Subject    string
	MessageID  string
	Attempts   int
	LastError  string
	CreatedAt  time.Time
}

// DeadMailFilter pages ListDeadMail.
type DeadMailFilter struct {
	// AfterID pages forwards: only mail with a larger id.
	AfterID int64
	Limit   int
}

type deadMailRow struct {
	ID         int64         `db:"id"`
	DecisionID sql.NullInt64 `db:"decision_id"`
	Kind       string        `db:"kind"`
	To         string        `db:"to_addr"`
	Subject    string        `db:"subject"`
	MessageID  string        `db:"message_id"`
	Attempts   int           `db:"attempts"`
	LastError  string        `db:"last_error"`
	CreatedAt  time.Time     `db:"created_at"`
}

func (r deadMailRow) mail() DeadMail {
	return DeadMail{ID: r.ID, DecisionID: r.DecisionID.Int64, Kind: domain.MailKind(r.Kind), To: r.To, Subject: r.Subject,
		MessageID: r.MessageID, Attempts: r.Attempts, LastError: r.LastError, CreatedAt: r.CreatedAt.UTC()}
}

const selectDeadMail = `SELECT id, decision_id, kind, to_addr, subject, message_id, attempts, last_error, created_at
	FROM outbox WHERE status = 'dead'`

// ListDeadMail lists dead mail, oldest first.
func (s *Store) ListDeadMail(ctx context.Context, f DeadMailFilter) ([]DeadMail, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var rows []deadMailRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(selectDeadMail+` AND id > ? ORDER BY id LIMIT ?`),
		f.AfterID, limitOrDefault(f.Limit)); err != nil {
		return nil, fmt.Errorf("store: list dead mail: %w", err)
	}
	out := make([]DeadMail, len(rows))
	for i, r := range rows {
		out[i] = r.mail()
	}
	return out, nil
}

// deadMail reads one dead mail under a row lock; anything else (sent,
// pending, missing) is not found.
func (s *Store) deadMail(ctx context.Context, tx *sqlx.Tx, id int64) (DeadMail, error) {
	var r deadMailRow
	err := tx.GetContext(ctx, &r, tx.Rebind(selectDeadMail+` AND id = ?`+s.forUpdate()), id)
	if errors.Is(err, sql.ErrNoRows) {
		return DeadMail{}, domain.Errorf(domain.CodeNotFound, "dead mail %d not found", id)
	}
	if err != nil {
		return DeadMail{}, fmt.Errorf("store: dead mail %d: %w", id, err)
	}
	return r.mail(), nil
}

// RetryMail puts dead mail back in the queue, due now, with its attempts
// counted from zero again and its last error kept until the next attempt.
func (s *Store) RetryMail(ctx context.Context, id int64, actor, source string) (DeadMail, error) {
	return s.endDeadMail(ctx, id, domain.ActionMailRetry, actor, source,
		`UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, claimed_by = NULL WHERE id = ?`, true)
}

// DiscardMail deletes dead mail unsent. The audit entry keeps its
// recipient, subject and last error.
func (s *Store) DiscardMail(ctx context.Context, id int64, actor, source string) (DeadMail, error) {
	return s.endDeadMail(ctx, id, domain.ActionMailDiscard, actor, source, `DELETE FROM outbox WHERE id = ?`, false)
}

// endDeadMail runs update (with now first when withNow) on one dead mail
// and audits it, in one transaction.
func (s *Store) endDeadMail(ctx context.Context, id int64, action domain.Action, actor, source, update string, withNow bool) (DeadMail, error) {
	var m DeadMail
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if m, err = s.deadMail(ctx, tx, id); err != nil {
			return err
		}
		args := []any{id}
		if withNow {
			args = []any{s.now(), id}
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(update), args...); err != nil {
			return fmt.Errorf("store: %s mail %d: %w", action, id, err)
		}
		return s.audit(ctx, tx, domain.AuditEntry{Actor: actor, Action: action, Target: fmt.Sprintf("mail %d", id),
			Source: source, Note: fmt.Sprintf("%s to %s, %q, %d attempts, last error: %s", m.Kind, m.To, m.Subject, m.Attempts, m.LastError)})
	})
	return m, err
}
