package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

// senderHistory locks the sender's notice row, so that decisions from one
// address are serialised and cannot race past a flood limit, and counts
// what the address sent in the last hour (domain.SenderHistory).
func (s *Store) senderHistory(ctx context.Context, tx *sqlx.Tx, sender string, now time.Time) (domain.SenderHistory, error) {
	var h domain.SenderHistory
	if sender == "" {
		return h, nil
	}
	sender = text(sender)
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO sender_notices (sender) VALUES (?) ON CONFLICT (sender) DO NOTHING`), sender); err != nil {
		return h, fmt.Errorf("store: sender notice row: %w", err)
	}
	var notified sql.NullTime
	if err := tx.GetContext(ctx, &notified, tx.Rebind(`SELECT notified_at FROM sender_notices WHERE sender = ?`+s.forUpdate()), sender); err != nil {
		return h, fmt.Errorf("store: lock sender %s: %w", sender, err)
	}
	h.NotifiedAt = timeOf(notified)
	since := now.Add(-time.Hour)
	if err := tx.GetContext(ctx, &h.Unverified, tx.Rebind(`SELECT count(*) FROM decisions
		WHERE sender = ? AND decided_at > ? AND authenticated = ? AND verdict IN ('accepted', 'no_username')`),
		sender, since, false); err != nil {
		return h, fmt.Errorf("store: recent unverified requests: %w", err)
	}
	if err := tx.GetContext(ctx, &h.NotAuthorised, tx.Rebind(`SELECT count(*) FROM decisions
		WHERE sender = ? AND decided_at > ? AND authenticated = ? AND verdict = 'rejected' AND contact_id IS NULL`),
		sender, since, true); err != nil {
		return h, fmt.Errorf("store: recent not-authorised answers: %w", err)
	}
	return h, nil
}

// noteNotices records, for an unverified request (decision id), that its
// sender's staff and admins were told now, or that it waits for the next
// combined notice.
func (s *Store) noteNotices(ctx context.Context, tx *sqlx.Tx, sender string, id int64, d domain.Decision, now time.Time) error {
	var q string
	var args []any
	switch {
	case d.Digest:
		q, args = `UPDATE sender_notices SET pending_since = coalesce(pending_since, ?) WHERE sender = ?`, []any{now, text(sender)}
	case !d.Authenticated && (d.NotifyStaff || len(d.NotifyAdmins) > 0):
		q, args = `UPDATE sender_notices SET notified_at = ?, noticed_through = ? WHERE sender = ?`, []any{now, id, text(sender)}
	default:
		return nil
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
		return fmt.Errorf("store: note notices for %s: %w", sender, err)
	}
	return nil
}
