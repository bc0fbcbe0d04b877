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

// Digest is the combined notice about one sender's unverified requests
// that arrived after staff and admins were last told (domain.NotifyEvery).
type Digest struct {
	Sender string
	// Since is when the first of them arrived.
	Since time.Time
	// Requests are their items, oldest first, at most maxDigestItems.
	Requests []Request
	// More counts the items past maxDigestItems.
	More int
}

// DigestRenderer renders a digest inside the transaction that marks its
// sender notified: the staff notice, and one for the admins of each org
// with an admin lock among the items. It must do no I/O.
type DigestRenderer func(Digest) ([]domain.Mail, error)

// maxDigestItems bounds the items one digest lists; the queue has them all.
const maxDigestItems = 200

// SweepDigests sends the combined notices that are due: for each sender
// with requests waiting and nobody told within domain.NotifyEvery, it
// renders one digest and marks the sender notified, in one transaction.
// It returns how many it queued.
func (s *Store) SweepDigests(ctx context.Context, render DigestRenderer) (int, error) {
	var senders []string
	err := func() error {
		ctx, cancel := s.timeout(ctx)
		defer cancel()
		return s.db.SelectContext(ctx, &senders, s.db.Rebind(`SELECT sender FROM sender_notices
			WHERE pending_since IS NOT NULL AND (notified_at IS NULL OR notified_at <= ?) ORDER BY pending_since LIMIT ?`),
			s.now().Add(-domain.NotifyEvery), sweepBatch)
	}()
	if err != nil {
		return 0, fmt.Errorf("store: due digests: %w", err)
	}
	n := 0
	for _, sender := range senders {
		sent, err := s.sweepDigest(ctx, sender, render)
		if err != nil {
			return n, err
		}
		if sent {
			n++
		}
	}
	return n, nil
}

// sweepDigest sends one sender's digest if it is still due once the
// sender's row is locked: another instance may have sent it meanwhile.
func (s *Store) sweepDigest(ctx context.Context, sender string, render DigestRenderer) (sent bool, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		var row struct {
			Notified sql.NullTime `db:"notified_at"`
			Through  int64        `db:"noticed_through"`
			Pending  sql.NullTime `db:"pending_since"`
		}
		err := tx.GetContext(ctx, &row, tx.Rebind(`SELECT notified_at, noticed_through, pending_since FROM sender_notices
			WHERE sender = ?`+s.forUpdate()), sender)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: lock digest of %s: %w", sender, err)
		}
		if !row.Pending.Valid || (row.Notified.Valid && now.Sub(row.Notified.Time) < domain.NotifyEvery) {
			return nil
		}
		d := Digest{Sender: sender, Since: row.Pending.Time.UTC()}
		var rows []requestRow
		if err := tx.SelectContext(ctx, &rows, tx.Rebind(selectRequests+` WHERE d.sender = ? AND d.id > ?
			AND d.authenticated = ? ORDER BY ri.id LIMIT ?`), sender, row.Through, false, maxDigestItems+1); err != nil {
			return fmt.Errorf("store: digest items of %s: %w", sender, err)
		}
		for _, r := range rows {
			d.Requests = append(d.Requests, r.request())
		}
		if len(d.Requests) > maxDigestItems {
			var total int
			if err := tx.GetContext(ctx, &total, tx.Rebind(`SELECT count(*) FROM request_items ri JOIN decisions d ON d.id = ri.decision_id
				WHERE d.sender = ? AND d.id > ? AND d.authenticated = ?`), sender, row.Through, false); err != nil {
				return fmt.Errorf("store: digest size of %s: %w", sender, err)
			}
			d.Requests, d.More = d.Requests[:maxDigestItems], total-maxDigestItems
		}
		if len(d.Requests) > 0 && render != nil {
			mails, err := render(d)
			if err != nil {
				return fmt.Errorf("store: render digest of %s: %w", sender, err)
			}
			for _, m := range mails {
				if err := s.queueMail(ctx, tx, m); err != nil {
					return err
				}
			}
			sent = len(mails) > 0
		}
		// Everything up to now is covered: listed, or counted in More.
		var through int64
		if err := tx.GetContext(ctx, &through, tx.Rebind(`SELECT coalesce(max(id), 0) FROM decisions WHERE sender = ?`), sender); err != nil {
			return fmt.Errorf("store: digest end of %s: %w", sender, err)
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE sender_notices SET notified_at = ?, noticed_through = ?, pending_since = NULL
			WHERE sender = ?`), now, through, sender)
		if err != nil {
			return fmt.Errorf("store: mark digest of %s sent: %w", sender, err)
		}
		return nil
	})
	return sent, err
}
