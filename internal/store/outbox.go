package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

// Outbox row states.
const (
	MailPending = "pending"
	MailSent    = "sent"
	MailDead    = "dead"
)

// OutboxMail is a queued mail with its delivery state.
type OutboxMail struct {
	domain.Mail
	Status    string
	Attempts  int
	LastError string
}

const insertMail = `INSERT INTO outbox (decision_id, kind, to_addr, subject, message_id, in_reply_to, refs,
	text_body, html_body, status, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`

// queueMail writes m inside tx, one row per recipient: a notification goes
// to every admin operator of its org, or to every staff operator. A
// notification with nobody to tell writes nothing.
func (s *Store) queueMail(ctx context.Context, tx *sqlx.Tx, m domain.Mail) error {
	recipients := []string{m.To}
	switch m.Kind {
	case domain.MailNotifyAdmins, domain.MailNotifyStaff:
		q, args := `SELECT email FROM operators WHERE role = 'staff' ORDER BY email`, []any{}
		if m.Kind == domain.MailNotifyAdmins {
			q, args = `SELECT email FROM operators WHERE role = 'admin' AND org_id = ? ORDER BY email`, []any{m.OrgID}
		}
		recipients = nil
		if err := sqlx.SelectContext(ctx, tx, &recipients, tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("store: notification recipients: %w", err)
		}
	}
	now := s.now()
	for i, to := range recipients {
		if to == "" {
			return fmt.Errorf("store: mail %q has no recipient", m.Subject)
		}
		id := m.MessageID
		if i > 0 { // one Message-ID per delivered copy
			id = fmt.Sprintf("%d.%s", i, m.MessageID)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(insertMail), nullID(m.DecisionID), string(m.Kind), to, text(m.Subject), id,
			text(m.InReplyTo), text(strings.Join(m.References, " ")), text(m.Text), text(m.HTML), now, now); err != nil {
			return fmt.Errorf("store: queue mail: %w", mapErr(err))
		}
	}
	return nil
}

// QueueMail queues mail that no mailbox decision causes (approvals,
// rejections, expiries), each in its own transaction with nothing else.
func (s *Store) QueueMail(ctx context.Context, mails ...domain.Mail) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, m := range mails {
			if err := s.queueMail(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

type outboxRow struct {
	ID         int64  `db:"id"`
	DecisionID *int64 `db:"decision_id"`
	Kind       string `db:"kind"`
	To         string `db:"to_addr"`
	Subject    string `db:"subject"`
	MessageID  string `db:"message_id"`
	InReplyTo  string `db:"in_reply_to"`
	Refs       string `db:"refs"`
	Text       string `db:"text_body"`
	HTML       string `db:"html_body"`
	Status     string `db:"status"`
	Attempts   int    `db:"attempts"`
	LastError  string `db:"last_error"`
}

func (r outboxRow) mail() OutboxMail {
	m := OutboxMail{Status: r.Status, Attempts: r.Attempts, LastError: r.LastError, Mail: domain.Mail{
		ID: r.ID, Kind: domain.MailKind(r.Kind), To: r.To, Subject: r.Subject, MessageID: r.MessageID,
		InReplyTo: r.InReplyTo, References: strings.Fields(r.Refs), Text: r.Text, HTML: r.HTML,
	}}
	if r.DecisionID != nil {
		m.DecisionID = *r.DecisionID
	}
	return m
}

const outboxColumns = `id, decision_id, kind, to_addr, subject, message_id, in_reply_to, refs, text_body,
	html_body, status, attempts, last_error`

// ClaimMail returns up to limit due mails, oldest first, and hides them from
// other workers for lease: if this worker dies, they become due again then.
// On PostgreSQL, FOR UPDATE SKIP LOCKED keeps concurrent instances from
// claiming the same rows.
func (s *Store) ClaimMail(ctx context.Context, limit int, lease time.Duration) ([]OutboxMail, error) {
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
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE outbox SET next_attempt_at = ? WHERE id = ?`), now.Add(lease), r.ID); err != nil {
				return fmt.Errorf("store: lease mail %d: %w", r.ID, err)
			}
			out = append(out, r.mail())
		}
		return nil
	})
	return out, err
}

// ReleaseMail makes claimed mail that was not tried due again at once, so a
// worker that stops hands its batch on without waiting for the lease.
func (s *Store) ReleaseMail(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	q, args, err := sqlx.In(`UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending' AND id IN (?)`, s.now(), ids)
	if err != nil {
		return fmt.Errorf("store: release mail: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(q), args...); err != nil {
		return fmt.Errorf("store: release mail: %w", err)
	}
	return nil
}

// MailSent records a delivery with the server's response.
func (s *Store) MailSent(ctx context.Context, id int64, response string) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE outbox SET status = 'sent', attempts = attempts + 1,
		smtp_response = ?, sent_at = ?, last_error = '' WHERE id = ?`), text(response), s.now(), id)
	if err != nil {
		return fmt.Errorf("store: mail %d sent: %w", id, err)
	}
	return nil
}

// MailFailed records a failed attempt: the mail is tried again at retryAt,
// or, when dead, never again.
func (s *Store) MailFailed(ctx context.Context, id int64, reason string, retryAt time.Time, dead bool) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	status := MailPending
	if dead {
		status = MailDead
	}
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE outbox SET status = ?, attempts = attempts + 1,
		last_error = ?, next_attempt_at = ? WHERE id = ?`), status, text(reason), retryAt.UTC(), id)
	if err != nil {
		return fmt.Errorf("store: mail %d failed: %w", id, err)
	}
	return nil
}

// Outbox lists queued mail in id order, for tests and the admin views.
func (s *Store) Outbox(ctx context.Context, status string) ([]OutboxMail, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	q, args := `SELECT `+outboxColumns+` FROM outbox ORDER BY id`, []any{}
	if status != "" {
		q, args = `SELECT `+outboxColumns+` FROM outbox WHERE status = ? ORDER BY id`, []any{status}
	}
	var rows []outboxRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: list outbox: %w", err)
	}
	out := make([]OutboxMail, len(rows))
	for i, r := range rows {
		out[i] = r.mail()
	}
	return out, nil
}
