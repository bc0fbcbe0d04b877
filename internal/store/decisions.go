package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

// Message identifies one mailbox message and what intake learned about it.
type Message struct {
	Mailbox string
	// Key is the duplicate key: the Message-ID, or a hash of the headers
	// for a message without one.
	Key         string
	MessageID   string
	UIDValidity uint32
	UID         uint32
	Subject     string
	ReceivedAt  time.Time
	// AuthReason explains the sender-authentication verdict in Facts.
	AuthReason string
	// References are the message's own References, for threading the reply.
	References []string
}

// Renderer turns a recorded decision into the mail it sends: the reply and
// any notifications. It runs inside the decision's transaction, so the mail
// is queued exactly when the decision commits; it must do no I/O.
type Renderer func(DecisionMail) ([]domain.Mail, error)

// DecisionMail is what a Renderer renders from.
type DecisionMail struct {
	DecisionID int64
	Message    Message
	Facts      domain.Facts
	Decision   domain.Decision
}

// ErrDuplicate is returned by Decide for a message already decided. It is
// its own sentinel, not a domain conflict, so that no other conflict can be
// mistaken for a duplicate.
var ErrDuplicate = errors.New("store: message already decided")

// Decided is what Decide recorded.
type Decided struct {
	ID       int64
	Decision domain.Decision
}

const insertDecision = `INSERT INTO decisions (mailbox, message_key, message_id, uidvalidity, uid, sender,
	subject, verdict, reason, authenticated, auth_reason, contact_id, received_at, decided_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

const insertItem = `INSERT INTO request_items (decision_id, org_id, user_id, username, state, reason,
	unverified_sender, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

// Decide records the decision on one message in a single transaction: it
// reads the sender's accounts under row locks, applies domain.Decide, writes
// the decision and its items, unlocks the users it applies, writes their
// audit entries, and queues the mail render returns (nil render: none). A message already decided for its mailbox returns
// ErrDuplicate and writes nothing. verdict overrides domain.Decide for
// messages decided before the sender is considered (ignored or unparsable
// mail); pass "" otherwise.
func (s *Store) Decide(ctx context.Context, m Message, f domain.Facts, verdict domain.Verdict, reason string, render Renderer) (Decided, error) {
	var out Decided
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var exists int
		err := tx.GetContext(ctx, &exists, tx.Rebind(`SELECT 1 FROM decisions WHERE mailbox = ? AND message_key = ?`), m.Mailbox, text(m.Key))
		if err == nil {
			return ErrDuplicate
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: duplicate check: %w", err)
		}
		now := s.now()
		d := domain.Decision{Verdict: verdict, Reason: reason}
		var contactID int64
		if verdict == "" {
			accounts, err := s.accounts(ctx, tx, f.Sender, f.Requested(), now)
			if err != nil {
				return err
			}
			d = domain.Decide(f, accounts, now)
			if len(accounts) > 0 {
				contactID = accounts[0].Contact.ID
			}
			if err := s.applyItems(ctx, tx, accounts, d, m, now); err != nil {
				return err
			}
		}
		out.ID, err = insertID(ctx, tx, insertDecision, m.Mailbox, text(m.Key), text(m.MessageID), int64(m.UIDValidity), int64(m.UID),
			text(f.Sender), text(m.Subject), string(d.Verdict), d.Reason, f.Authenticated, m.AuthReason, nullID(contactID),
			nullTime(m.ReceivedAt), now)
		if isUnique(err) {
			return ErrDuplicate
		}
		if err != nil {
			return fmt.Errorf("store: insert decision: %w", err)
		}
		for i, it := range d.Items {
			var decidedAt sql.NullTime
			if it.State != domain.ItemPending {
				decidedAt = nullTime(now)
				d.Items[i].DecidedBy, d.Items[i].DecidedAt = emailActor(f.Sender), now
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(insertItem), out.ID, nullID(it.OrgID), nullID(it.UserID), it.Username,
				string(it.State), string(it.Reason), it.UnverifiedSender, d.Items[i].DecidedBy, decidedAt); err != nil {
				return fmt.Errorf("store: insert request item: %w", err)
			}
		}
		out.Decision = d
		if render == nil {
			return nil
		}
		mails, err := render(DecisionMail{DecisionID: out.ID, Message: m, Facts: f, Decision: d})
		if err != nil {
			return fmt.Errorf("store: render mail for decision %d: %w", out.ID, err)
		}
		for _, mail := range mails {
			mail.DecisionID = out.ID
			if err := s.queueMail(ctx, tx, mail); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// emailActor names a contact acting by email in audit entries and items.
func emailActor(sender string) string { return "email:" + sender }

// applyItems unlocks the users whose items the decision applied.
func (s *Store) applyItems(ctx context.Context, tx *sqlx.Tx, accounts []domain.Account, d domain.Decision, m Message, now time.Time) error {
	for _, it := range d.Items {
		if it.State != domain.ItemApplied {
			continue
		}
		for _, a := range accounts {
			u, ok := a.Users[it.Username]
			if !ok || a.Org.ID != it.OrgID {
				continue
			}
			u.Unlock()
			if err := s.saveUser(ctx, tx, u); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, domain.AuditEntry{OrgID: a.Org.ID, Actor: emailActor(a.Contact.Email),
				Action: domain.ActionUnlock, Target: u.Username, Source: "message-id:" + m.MessageID,
				Note: "verified email request"}); err != nil {
				return err
			}
		}
	}
	return nil
}

// accounts loads, under row locks, every org where sender is an authorised
// contact, with the org's users among usernames and the contact's unlocks
// by email in the last hour. Users of other orgs are never read, so a
// decision cannot reveal them.
func (s *Store) accounts(ctx context.Context, tx *sqlx.Tx, sender string, usernames []string, now time.Time) ([]domain.Account, error) {
	if sender == "" {
		return nil, nil
	}
	var contacts []contactRow
	// Locking the contact rows serialises concurrent decisions for one
	// contact, so the hourly limit below cannot be raced past.
	if err := sqlx.SelectContext(ctx, tx, &contacts, tx.Rebind(`SELECT id, org_id, email, name FROM contacts
		WHERE lower(email) = ? ORDER BY org_id`+s.forUpdate()), sender); err != nil {
		return nil, fmt.Errorf("store: contacts of %s: %w", sender, err)
	}
	accounts := make([]domain.Account, 0, len(contacts))
	for _, c := range contacts {
		a := domain.Account{Contact: c.contact(), Users: map[string]domain.User{}}
		var org orgRow
		if err := sqlx.GetContext(ctx, tx, &org, tx.Rebind(`SELECT `+orgColumns+` FROM orgs WHERE id = ?`), c.OrgID); err != nil {
			return nil, fmt.Errorf("store: org of contact: %w", err)
		}
		a.Org = org.org()
		if len(usernames) > 0 {
			q, args, err := sqlx.In(`SELECT `+userColumns+` FROM users WHERE org_id = ? AND username IN (?)`+s.forUpdate(), c.OrgID, usernames)
			if err != nil {
				return nil, fmt.Errorf("store: users query: %w", err)
			}
			var rows []userRow
			if err := sqlx.SelectContext(ctx, tx, &rows, tx.Rebind(q), args...); err != nil {
				return nil, fmt.Errorf("store: requested users: %w", err)
			}
			for _, r := range rows {
				a.Users[r.Username] = r.user()
			}
		}
		if err := tx.GetContext(ctx, &a.RecentUnlocks, tx.Rebind(`SELECT count(*) FROM request_items
			WHERE org_id = ? AND decided_by = ? AND state = 'applied' AND decided_at > ?`),
			c.OrgID, emailActor(c.Email), now.Add(-time.Hour)); err != nil {
			return nil, fmt.Errorf("store: recent unlocks: %w", err)
		}
		accounts = append(accounts, a)
	}
	return accounts, nil
}

// text makes a string from mail safe for any engine: valid UTF-8 without
// NUL bytes (PostgreSQL rejects both; the message must still be decided).
func text(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// DecidedVerdict returns the verdict recorded for a message, or
// domain.ErrNotFound. Intake uses it to file a message again after a crash
// between the decision and the move.
func (s *Store) DecidedVerdict(ctx context.Context, mailbox, key string) (domain.Verdict, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var v string
	err := s.db.GetContext(ctx, &v, s.db.Rebind(`SELECT verdict FROM decisions WHERE mailbox = ? AND message_key = ?`), mailbox, text(key))
	if errors.Is(err, sql.ErrNoRows) {
		return "", domain.Errorf(domain.CodeNotFound, "no decision for %s", key)
	}
	if err != nil {
		return "", fmt.Errorf("store: decided verdict: %w", err)
	}
	return domain.Verdict(v), nil
}

// CountDecisions returns how many messages of mailbox have a decision.
func (s *Store) CountDecisions(ctx context.Context, mailbox string) (int, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var n int
	if err := s.db.GetContext(ctx, &n, s.db.Rebind(`SELECT count(*) FROM decisions WHERE mailbox = ?`), mailbox); err != nil {
		return 0, fmt.Errorf("store: count decisions: %w", err)
	}
	return n, nil
}
