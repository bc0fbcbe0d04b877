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

// outboxInsertColumns are the columns queueMails writes.
var outboxInsertColumns = []string{"decision_id", "kind", "to_addr", "subject", "message_id", "in_reply_to", "refs",
	"text_body", "html_body", "status", "next_attempt_at", "created_at"}

// queueMail writes m inside tx (queueMails of one).
func (s *Store) queueMail(ctx context.Context, tx *sqlx.Tx, m domain.Mail) error {
	return s.queueMails(ctx, tx, []domain.Mail{m})
}

// queueMails writes the mails inside tx, one row per recipient, with
// multi-row statements: a notification goes to every admin operator of its
// org, or to every staff operator (each list read once). A notification
// with nobody to tell writes nothing.
func (s *Store) queueMails(ctx context.Context, tx *sqlx.Tx, mails []domain.Mail) error {
	var staff []string
	staffRead := false
	admins := map[int64][]string{}
	now := s.now()
	var rows [][]any
	for _, m := range mails {
		recipients := []string{m.To}
		switch m.Kind {
		case domain.MailNotifyStaff:
			if !staffRead {
				if err := sqlx.SelectContext(ctx, tx, &staff, `SELECT email FROM operators WHERE role = 'staff' ORDER BY email`); err != nil {
					return fmt.Errorf("store: notification recipients: %w", err)
				}
				staffRead = true
			}
			recipients = staff
		case domain.MailNotifyAdmins:
			list, ok := admins[m.OrgID]
			if !ok {
				if err := sqlx.SelectContext(ctx, tx, &list, tx.Rebind(`SELECT email FROM operators WHERE role = 'admin' AND org_id = ? ORDER BY email`), m.OrgID); err != nil {
					return fmt.Errorf("store: notification recipients: %w", err)
				}
				admins[m.OrgID] = list
			}
			recipients = list
		}
		for i, to := range recipients {
			if to == "" {
				return fmt.Errorf("store: mail %q has no recipient", m.Subject)
			}
			id := m.MessageID
			if i > 0 { // one Message-ID per delivered copy
				id = fmt.Sprintf("%d.%s", i, m.MessageID)
			}
			rows = append(rows, []any{nullID(m.DecisionID), string(m.Kind), to, text(m.Subject), id, text(m.InReplyTo),
				text(strings.Join(m.References, " ")), text(m.Text), text(m.HTML), MailPending, now, now})
		}
	}
	if err := insertRows(ctx, tx, "outbox", outboxInsertColumns, rows, "", nil); err != nil {
		return fmt.Errorf("store: queue mail: %w", mapErr(err))
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

// MailSent records a delivery with the server's response.
func (s *Store) MailSent(ctx context.Context, id int64, response string) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE outbox SET status = 'sent', attempts = attempts + 1,
		smtp_response = ?, sent_at = ?, last_error = '', claimed_by = NULL WHERE id = ?`), text(response), s.now(), id)
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
		last_error = ?, next_attempt_at = ?, claimed_by = NULL WHERE id = ?`), status, text(reason), retryAt.UTC(), id)
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
