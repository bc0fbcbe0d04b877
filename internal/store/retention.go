package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

// Retention says how long records are kept; a zero duration keeps them
// for good.
type Retention struct {
	// Records (limits.retention) applies to decisions with their request
	// items and signature keys, to sent and dead mail, and to the notice
	// state of senders told nothing since.
	Records time.Duration
	// MailBodies (limits.mail_retention) applies to the text and HTML
	// bodies of sent mail; the row (recipient, subject, server response)
	// stays for Records.
	MailBodies time.Duration
	// Audit (limits.audit_retention) applies to audit entries.
	Audit time.Duration
	// Batch is how many rows one transaction deletes; 0 means
	// DefaultRetentionBatch.
	Batch int
}

// DefaultRetentionBatch bounds one transaction of the retention sweep, so
// that the sweep never holds locks for long or builds a large undo log.
const DefaultRetentionBatch = 1000

// RetentionSwept counts what SweepRetention deleted.
type RetentionSwept struct {
	Decisions    int // with their request items and signature keys
	RequestItems int
	Mail         int // sent and dead mail deleted
	MailBodies   int // sent mail whose bodies were emptied
	Audit        int
	// Batches counts the transactions that changed something.
	Batches int
}

// retentionStep is one kind of row the sweep deletes or empties: pick
// selects the ids of a batch past the cutoff (its arguments: the cutoff,
// then the batch size), apply changes the rows of "id IN (?)".
type retentionStep struct {
	what  string // names the rows in the audit entry
	keep  time.Duration
	pick  string
	apply string
	count *int
	// before, when set, runs on each batch's ids before apply.
	before func(ctx context.Context, tx *sqlx.Tx, ids []int64) error
}

// SweepRetention deletes what is older than r says, oldest first, in
// batches of r.Batch rows, each in its own transaction, and writes one
// audit entry per kind of row (actor system). Nothing that is still needed
// goes: a decision with a queued item, or one still waiting for its
// directory (applying), stays, and so do the newest
// decision, request item and outbox row, so that SQLite, which reuses the
// highest id once its row is deleted, never hands an id out twice.
//
// Deleting a decision deletes its signature keys, and with them the
// replay protection they give (SPEC §3.2); r.Records must therefore be
// longer than any signature counts (sender_auth.max_signature_age plus
// the hour a signature may be dated ahead), which config.Validate checks.
func (s *Store) SweepRetention(ctx context.Context, r Retention) (RetentionSwept, error) {
	var out RetentionSwept
	batch := r.Batch
	if batch <= 0 {
		batch = DefaultRetentionBatch
	}
	steps := []retentionStep{
		{what: "decisions", keep: r.Records, count: &out.Decisions,
			pick: `SELECT d.id FROM decisions d WHERE d.decided_at < ? AND d.id < (SELECT max(id) FROM decisions)
				AND NOT EXISTS (SELECT 1 FROM request_items ri WHERE ri.decision_id = d.id
					AND (ri.state IN ('pending', 'applying') OR ri.id = (SELECT max(id) FROM request_items)))
				ORDER BY d.id LIMIT ?`,
			apply: `DELETE FROM decisions WHERE id IN (?)`,
			before: func(ctx context.Context, tx *sqlx.Tx, ids []int64) error {
				n, err := countIn(ctx, tx, `SELECT count(*) FROM request_items WHERE decision_id IN (?)`, ids)
				out.RequestItems += n
				return err
			}},
		{what: "sent mail", keep: r.Records, count: &out.Mail,
			pick: `SELECT id FROM outbox WHERE status = 'sent' AND sent_at < ? AND id < (SELECT max(id) FROM outbox)
				ORDER BY sent_at LIMIT ?`,
			apply: `DELETE FROM outbox WHERE id IN (?)`},
		{what: "dead mail", keep: r.Records, count: &out.Mail,
			pick: `SELECT id FROM outbox WHERE status = 'dead' AND created_at < ? AND id < (SELECT max(id) FROM outbox)
				ORDER BY created_at LIMIT ?`,
			apply: `DELETE FROM outbox WHERE id IN (?)`},
		{what: "bodies of sent mail", keep: r.MailBodies, count: &out.MailBodies,
			pick: `SELECT id FROM outbox WHERE status = 'sent' AND text_body <> '' AND sent_at < ?
				ORDER BY sent_at LIMIT ?`,
			apply: `UPDATE outbox SET text_body = '', html_body = '' WHERE id IN (?)`},
		{what: "audit entries", keep: r.Audit, count: &out.Audit,
			pick:  `SELECT id FROM audit WHERE at < ? ORDER BY at LIMIT ?`,
			apply: `DELETE FROM audit WHERE id IN (?)`},
	}
	now := s.now()
	var entries []domain.AuditEntry
	for _, st := range steps {
		if st.keep <= 0 {
			continue
		}
		cutoff := now.Add(-st.keep)
		n, batches, err := s.sweepStep(ctx, st, cutoff, batch)
		*st.count += n
		out.Batches += batches
		if n > 0 {
			note := fmt.Sprintf("%d %s older than %s (before %s)", n, st.what, days(st.keep), cutoff.Format(time.RFC3339))
			if st.what == "decisions" {
				note = fmt.Sprintf("%d decisions with %d request items older than %s (before %s)",
					n, out.RequestItems, days(st.keep), cutoff.Format(time.RFC3339))
			}
			entries = append(entries, domain.AuditEntry{Actor: domain.ActorSystem, Action: domain.ActionRetention,
				Target: st.what, Source: "retention", Note: note})
		}
		if err != nil {
			return out, s.auditRetention(ctx, entries, err)
		}
	}
	if r.Records > 0 {
		if err := s.sweepNotices(ctx, now.Add(-r.Records)); err != nil {
			return out, s.auditRetention(ctx, entries, err)
		}
	}
	return out, s.auditRetention(ctx, entries, nil)
}

// sweepStep runs one step until a batch comes back short, and returns how
// many rows it changed in how many transactions.
func (s *Store) sweepStep(ctx context.Context, st retentionStep, cutoff time.Time, batch int) (n, batches int, err error) {
	for {
		var got int
		err := s.inTx(ctx, func(tx *sqlx.Tx) error {
			var ids []int64
			if err := tx.SelectContext(ctx, &ids, tx.Rebind(st.pick), cutoff, batch); err != nil {
				return fmt.Errorf("store: retention of %s: %w", st.what, err)
			}
			if got = len(ids); got == 0 {
				return nil
			}
			if st.before != nil {
				if err := st.before(ctx, tx, ids); err != nil {
					return err
				}
			}
			q, args, err := sqlx.In(st.apply, ids)
			if err != nil {
				return fmt.Errorf("store: retention of %s: %w", st.what, err)
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
				return fmt.Errorf("store: retention of %s: %w", st.what, err)
			}
			return nil
		})
		if err != nil {
			return n, batches, err
		}
		if got > 0 {
			n, batches = n+got, batches+1
		}
		if got < batch {
			return n, batches, nil
		}
	}
}

// sweepNotices forgets senders nobody was told about since cutoff and who
// have nothing waiting: their next notice is due at once anyway, so the
// row holds nothing but an address.
func (s *Store) sweepNotices(ctx context.Context, cutoff time.Time) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM sender_notices
		WHERE pending_since IS NULL AND (notified_at IS NULL OR notified_at < ?)`), cutoff); err != nil {
		return fmt.Errorf("store: retention of sender notices: %w", err)
	}
	return nil
}

// auditRetention writes the sweep's audit entries and returns sweepErr,
// or the error writing them.
func (s *Store) auditRetention(ctx context.Context, entries []domain.AuditEntry, sweepErr error) error {
	if len(entries) == 0 {
		return sweepErr
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, e := range entries {
			if err := s.audit(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if sweepErr != nil {
		return sweepErr
	}
	return err
}

// countIn runs a count query with "IN (?)" over ids.
func countIn(ctx context.Context, tx *sqlx.Tx, query string, ids []int64) (int, error) {
	q, args, err := sqlx.In(query, ids)
	if err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind(q), args...); err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	return n, nil
}

// days writes d in whole days when it is one ("400d"), else as Go does.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
