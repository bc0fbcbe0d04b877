package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

// Confirmation links and remote directories keep one reply per request
// message, and one "confirmed" answer per use of a link (SPEC §5):
//
//   - A decision with items applying in a remote directory has no reply
//     of its own: it is written once every applying item has the
//     directory's answer (queueAppliedReply). When that decision asks for
//     a link too (a contact of a builtin org confirming its requests and
//     of a remote one), the link is made in that transaction, and that
//     reply carries it (replyLink): a link exists exactly when the reply
//     that carries it is queued, and it works for ConfirmTTL from then.
//   - Using a link whose items live in a remote directory makes them
//     applying (domain.ConfirmLink.Confirm, ApplyForConfirm); the answer
//     saying what the link did is written in the transaction of the
//     directory's last answer for them (queueLinkApplied), never before.

// replyLink makes the confirmation link of decision id for the reply the
// last directory answer writes, when the decision asked for one and an
// item still waits for it (pending and bound to the link); nil otherwise,
// or when links are off (ConfirmTTL unset).
func (s *Store) replyLink(ctx context.Context, tx *sqlx.Tx, id int64, items []domain.Item) (*ConfirmMail, error) {
	ttl := s.ConfirmTTL
	if ttl <= 0 || !waitsForLink(items) {
		return nil, nil
	}
	token, hash := newConfirmToken()
	now := s.now()
	expires := now.Add(ttl)
	if err := insertRows(ctx, tx, "confirmations", confirmColumns, [][]any{{id, hash, now, expires}}, "", nil); err != nil {
		return nil, fmt.Errorf("store: confirmation link of decision %d: %w", id, err)
	}
	return &ConfirmMail{Token: token, ExpiresAt: expires, TTL: ttl}, nil
}

// waitsForLink reports whether an item is pending and bound to the link.
func waitsForLink(items []domain.Item) bool {
	for _, it := range items {
		if it.State == domain.ItemPending && it.Confirmable {
			return true
		}
	}
	return false
}

// queueLinkApplied queues the answer to request r's link once none of the
// items it made applying is applying any more: the link's items as they
// ended, leaving out those someone else (staff) decided.
func (s *Store) queueLinkApplied(ctx context.Context, tx *sqlx.Tx, render FollowUpRenderer, r Request) error {
	var rows []requestRow
	if err := sqlx.SelectContext(ctx, tx, &rows, tx.Rebind(selectRequests+` WHERE ri.decision_id = ? AND ri.confirm ORDER BY ri.id`),
		r.DecisionID); err != nil {
		return fmt.Errorf("store: items of the link of decision %d: %w", r.DecisionID, err)
	}
	by := emailActor(r.Sender)
	var items []domain.Item
	for _, row := range rows {
		it := row.request().Item
		switch {
		case it.State == domain.ItemApplying:
			return nil // the answer waits for the last one
		case it.State == domain.ItemPending || it.DecidedBy == by:
			items = append(items, it)
		}
	}
	return s.queueLinkAnswer(ctx, tx, render, FollowUp{Kind: FollowUpConfirmed, DecisionID: r.DecisionID, To: r.Sender,
		Subject: r.Subject, MessageID: r.MessageID}, items)
}

// queueLinkAnswer renders and queues f, the answer saying what a link did
// to items.
func (s *Store) queueLinkAnswer(ctx context.Context, tx *sqlx.Tx, render FollowUpRenderer, f FollowUp, items []domain.Item) error {
	if render == nil {
		return nil
	}
	for _, it := range items {
		f.Usernames = append(f.Usernames, it.Username)
		f.Items = append(f.Items, it)
	}
	m, err := render(f)
	if err != nil {
		return fmt.Errorf("store: render confirmed answer to decision %d: %w", f.DecisionID, err)
	}
	m.DecisionID = f.DecisionID
	return s.queueMail(ctx, tx, m)
}
