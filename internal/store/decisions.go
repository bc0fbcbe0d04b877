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
	// References are the message's own References, for threading the reply.
	References []string
	// SignatureKeys identify the passing DKIM signatures the sender proof
	// rests on (senderauth.Signature.Key): a message carrying one already
	// decided, in any mailbox, is a replay.
	SignatureKeys []string
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
	// Confirm is the confirmation link created with the decision
	// (domain.Decision.Confirm), for the reply to carry; nil when there is
	// none.
	Confirm *ConfirmMail
}

// ConfirmMail is a new confirmation link as the reply shows it. Token is
// the only copy of the token: the store keeps its hash.
type ConfirmMail struct {
	Token     string
	ExpiresAt time.Time
	// TTL is how long the link works from the decision.
	TTL time.Duration
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

// emailActor names a contact acting by email in audit entries and items.
func emailActor(sender string) string { return "email:" + sender }

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

// ReplayedVerdict returns the verdict recorded for the message that first
// carried one of the signature keys, or domain.ErrNotFound. Intake uses it
// to file a replay where its original went.
func (s *Store) ReplayedVerdict(ctx context.Context, keys []string) (domain.Verdict, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	return s.replayed(ctx, s.db, keys)
}

// replayed looks the signature keys up among decided messages.
func (s *Store) replayed(ctx context.Context, q sqlx.ExtContext, keys []string) (domain.Verdict, error) {
	if len(keys) == 0 {
		return "", domain.ErrNotFound
	}
	query, args, err := sqlx.In(`SELECT d.verdict FROM signature_keys k JOIN decisions d ON d.id = k.decision_id
		WHERE k.sig_key IN (?) ORDER BY d.id LIMIT 1`, keys)
	if err != nil {
		return "", fmt.Errorf("store: replay query: %w", err)
	}
	var v string
	err = sqlx.GetContext(ctx, q, &v, q.Rebind(query), args...)
	if errors.Is(err, sql.ErrNoRows) {
		return "", domain.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: replay check: %w", err)
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
