package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Deferral is a message set aside after a temporary failure.
type Deferral struct {
	UID        uint32    `db:"uid"`
	Tries      int       `db:"tries"`
	FirstTryAt time.Time `db:"first_try_at"`
	NextTryAt  time.Time `db:"next_try_at"`
	LastError  string    `db:"last_error"`
}

// Deferrals returns the messages of mailbox under uidvalidity set aside
// after a temporary failure, soonest due first, at most limit.
func (s *Store) Deferrals(ctx context.Context, mailbox string, uidvalidity uint32, limit int) ([]Deferral, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var out []Deferral
	if err := s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT uid, tries, first_try_at, next_try_at, last_error
		FROM deferrals WHERE mailbox = ? AND uidvalidity = ? ORDER BY next_try_at, uid LIMIT ?`),
		mailbox, int64(uidvalidity), limit); err != nil {
		return nil, fmt.Errorf("store: deferrals of %s: %w", mailbox, err)
	}
	for i := range out {
		out[i].FirstTryAt, out[i].NextTryAt = out[i].FirstTryAt.UTC(), out[i].NextTryAt.UTC()
	}
	return out, nil
}

const upsertDeferral = `INSERT INTO deferrals (mailbox, uidvalidity, uid, tries, first_try_at, next_try_at, last_error)
	VALUES (?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (mailbox, uidvalidity, uid) DO UPDATE SET tries = excluded.tries,
	next_try_at = excluded.next_try_at, last_error = excluded.last_error`

// SaveDeferrals records, in one transaction, the messages set aside
// (inserted, or with their tries and next try updated) and the ones
// settled (decided, or gone from the mailbox), and drops what is left of
// other UIDVALIDITY generations of the mailbox.
func (s *Store) SaveDeferrals(ctx context.Context, mailbox string, uidvalidity uint32, deferred []Deferral, settled []uint32) error {
	if len(deferred)+len(settled) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, d := range deferred {
			if _, err := tx.ExecContext(ctx, tx.Rebind(upsertDeferral), mailbox, int64(uidvalidity), int64(d.UID), d.Tries,
				d.FirstTryAt.UTC(), d.NextTryAt.UTC(), text(d.LastError)); err != nil {
				return fmt.Errorf("store: defer uid %d: %w", d.UID, err)
			}
		}
		if len(settled) > 0 {
			uids := make([]int64, len(settled))
			for i, u := range settled {
				uids[i] = int64(u)
			}
			q, args, err := sqlx.In(`DELETE FROM deferrals WHERE mailbox = ? AND uidvalidity = ? AND uid IN (?)`, mailbox, int64(uidvalidity), uids)
			if err != nil {
				return fmt.Errorf("store: settle deferrals: %w", err)
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
				return fmt.Errorf("store: settle deferrals: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM deferrals WHERE mailbox = ? AND uidvalidity <> ?`), mailbox, int64(uidvalidity)); err != nil {
			return fmt.Errorf("store: drop old deferrals: %w", err)
		}
		return nil
	})
}
