package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

// Answer is what became of an applying item (domain.ApplyOutcome).
type Answer struct {
	State  domain.ItemState
	Reason domain.QueueReason
	Note   string
}

// RecordApply records the directory's answer for owner's applying item a,
// in one transaction: the item's new state, the audit entry naming the
// directory, and the reply when it is due — for a decision, once no item
// of the request is applying any more (all its items, FollowUpApplied,
// with the request's link if it asked for one); for an approval that was
// applied, the "approved" answer; for a use of the request's link, once
// none of the items it made applying is (FollowUpConfirmed). An item queued
// again (the lock changed, the directory refused) gets no answer of its
// own: staff are told (FollowUpRequeued) and decide it, as any queued
// item. ErrClaimLost when the item is no longer owner's.
func (s *Store) RecordApply(ctx context.Context, owner string, a Applying, ans Answer, render FollowUpRenderer) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE request_items SET state = ?, reason = ?, note = ?, decided_at = ?,
			apply_claimed_by = NULL, apply_due_at = NULL WHERE id = ? AND state = 'applying' AND apply_claimed_by = ?`),
			string(ans.State), string(ans.Reason), text(joinNote(a.Note, ans.Note)), now, a.ID, owner)
		if err != nil {
			return fmt.Errorf("store: record apply of item %d: %w", a.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: record apply of item %d: %w", a.ID, err)
		} else if n == 0 {
			return ErrClaimLost
		}
		// Answers for items of one decision take turns, so that the last
		// one sees every other and writes the reply (PostgreSQL; SQLite
		// writes one transaction at a time).
		var id int64
		if err := tx.GetContext(ctx, &id, tx.Rebind(`SELECT id FROM decisions WHERE id = ?`+s.forUpdate()), a.DecisionID); err != nil {
			return fmt.Errorf("store: decision of item %d: %w", a.ID, err)
		}
		r, err := s.request(ctx, tx, a.ID, "")
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, applyAudit(a, ans, r.MessageID)); err != nil {
			return err
		}
		if ans.State == domain.ItemPending && render != nil {
			it := r.Item
			m, err := render(FollowUp{Kind: FollowUpRequeued, DecisionID: r.DecisionID, Subject: r.Subject,
				MessageID: r.MessageID, Sender: r.Sender, Items: []domain.Item{it}})
			if err != nil {
				return fmt.Errorf("store: render the notice of request %d: %w", r.ID, err)
			}
			m.DecisionID = r.DecisionID
			if err := s.queueMail(ctx, tx, m); err != nil {
				return err
			}
		}
		switch {
		case a.For == ApplyForApproval && ans.State == domain.ItemApplied:
			return s.queueFollowUp(ctx, tx, render, r, domain.ResolveApprove, a.Note, a.Username)
		case a.For == ApplyForDecision:
			return s.queueAppliedReply(ctx, tx, render, r)
		case a.For == ApplyForConfirm:
			return s.queueLinkApplied(ctx, tx, render, r)
		}
		return nil
	})
}

// applyAudit is the audit entry of a directory's answer: an unlock when
// the lock was lifted, otherwise what happened instead.
func applyAudit(a Applying, ans Answer, messageID string) domain.AuditEntry {
	e := domain.AuditEntry{OrgID: a.Org.ID, Actor: a.DecidedBy, Action: domain.ActionUnlock, Target: a.Username,
		Source: "message-id:" + messageID}
	switch a.For {
	case ApplyForApproval:
		e.Source = fmt.Sprintf("request:%d", a.ID)
	case ApplyForConfirm:
		e.Source = SourceConfirmLink
	}
	switch ans.State {
	case domain.ItemApplied:
		e.Note = fmt.Sprintf("unlocked in directory %s (lock %s)", a.Directory, a.Lock.Reason)
		switch a.For {
		case ApplyForDecision:
			e.Note = "verified email request; " + e.Note
		case ApplyForConfirm:
			e.Note = "request confirmed by link; " + e.Note
		}
	case domain.ItemNotLocked:
		e.Note = fmt.Sprintf("directory %s: the account was not locked any more; nothing to lift", a.Directory)
	default:
		e.Action, e.Actor = domain.ActionConfirm, domain.ActorSystem
		e.Note = fmt.Sprintf("directory %s: nothing lifted, queued for review (%s): %s", a.Directory, ans.Reason, ans.Note)
	}
	return e
}

// queueAppliedReply queues the reply to request r's message once none of
// its items is applying any more: every item as it ended, and the
// request's confirmation link when it asked for one (replyLink).
func (s *Store) queueAppliedReply(ctx context.Context, tx *sqlx.Tx, render FollowUpRenderer, r Request) error {
	var rows []requestRow
	if err := sqlx.SelectContext(ctx, tx, &rows, tx.Rebind(selectRequests+` WHERE ri.decision_id = ? ORDER BY ri.id`), r.DecisionID); err != nil {
		return fmt.Errorf("store: items of decision %d: %w", r.DecisionID, err)
	}
	items := make([]domain.Item, len(rows))
	for i, row := range rows {
		items[i] = row.request().Item
		if items[i].State == domain.ItemApplying {
			return nil // the reply waits for the last answer
		}
	}
	if render == nil || r.ContactEmail == "" {
		return nil
	}
	link, err := s.replyLink(ctx, tx, r.DecisionID, items) // confirm_apply.go
	if err != nil {
		return err
	}
	m, err := render(FollowUp{Kind: FollowUpApplied, DecisionID: r.DecisionID, To: r.ContactEmail, Subject: r.Subject,
		MessageID: r.MessageID, Items: items, Confirm: link})
	if err != nil {
		return fmt.Errorf("store: render the reply to decision %d: %w", r.DecisionID, err)
	}
	m.DecisionID = r.DecisionID
	return s.queueMail(ctx, tx, m)
}

// itemDirectory returns the remote directory of request r's org (the one
// the item was decided in, else the org's), or "" for builtin.
func (s *Store) itemDirectory(ctx context.Context, tx *sqlx.Tx, r Request) (string, error) {
	if r.OrgID == 0 {
		return "", nil
	}
	var row struct {
		Item string `db:"item"`
		Org  string `db:"org"`
	}
	if err := tx.GetContext(ctx, &row, tx.Rebind(`SELECT ri.directory AS item, o.directory AS org FROM request_items ri
		JOIN orgs o ON o.id = ri.org_id WHERE ri.id = ?`), r.ID); err != nil {
		return "", fmt.Errorf("store: directory of request %d: %w", r.ID, err)
	}
	for _, d := range []string{row.Item, row.Org} {
		if o := (domain.Org{Directory: d}); o.Remote() {
			return d, nil
		}
	}
	return "", nil
}
