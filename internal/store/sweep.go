package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

// Swept counts what SweepRequests resolved.
type Swept struct {
	// Closed requests were pending for a user unlocked by other means.
	Closed int
	// Expired requests waited longer than the time to live.
	Expired int
}

// sweepBatch bounds the requests one sweep considers per kind; the next
// sweep takes the rest.
const sweepBatch = 500

// SweepRequests resolves pending requests nobody needs to decide any more
// (SPEC §3): those whose user is no longer locked close themselves as
// applied, and those older than ttl expire. Each request message's items
// are resolved in one transaction that also queues one answer for them.
func (s *Store) SweepRequests(ctx context.Context, ttl time.Duration, render FollowUpRenderer) (Swept, error) {
	var out Swept
	now := s.now()
	steps := []struct {
		kind  string
		where string
		arg   time.Time
		count *int
	}{
		{FollowUpClosed, `JOIN users u ON u.id = ri.user_id
			WHERE ri.state = 'pending' AND (u.lock_reason IS NULL OR u.lock_expires_at <= ?)`, now, &out.Closed},
		{FollowUpExpired, `JOIN decisions d ON d.id = ri.decision_id
			WHERE ri.state = 'pending' AND d.decided_at <= ?`, now.Add(-ttl), &out.Expired},
	}
	for _, step := range steps {
		groups, err := s.pendingIDs(ctx, step.where, step.arg)
		if err != nil {
			return out, err
		}
		for decision, ids := range groups {
			n, err := s.sweepDecision(ctx, decision, ids, step.kind, render)
			if err != nil {
				return out, err
			}
			*step.count += n
		}
	}
	return out, nil
}

// pendingIDs returns the ids of request items matching the join and
// condition, grouped by decision.
func (s *Store) pendingIDs(ctx context.Context, where string, arg any) (map[int64][]int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var rows []struct {
		ID         int64 `db:"id"`
		DecisionID int64 `db:"decision_id"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT ri.id, ri.decision_id FROM request_items ri `+
		where+` ORDER BY ri.id LIMIT ?`), arg, sweepBatch); err != nil {
		return nil, fmt.Errorf("store: requests to sweep: %w", err)
	}
	out := map[int64][]int64{}
	for _, r := range rows {
		out[r.DecisionID] = append(out[r.DecisionID], r.ID)
	}
	return out, nil
}

// sweepDecision closes or expires the given items of one request message
// that are still pending and still qualify, and queues one answer.
func (s *Store) sweepDecision(ctx context.Context, decision int64, ids []int64, kind string, render FollowUpRenderer) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockItems(ctx, tx, ids); err != nil {
			return err
		}
		now := s.now()
		var done []Request
		for _, id := range ids {
			r, err := s.request(ctx, tx, id, "")
			if err != nil {
				return err
			}
			if r.State != domain.ItemPending {
				continue // decided by someone else since the query
			}
			if kind == FollowUpClosed {
				u, err := s.userByName(ctx, tx, r.OrgID, r.Username, "")
				if err != nil || u.LockedAt(now) {
					continue // gone, or locked again since the query
				}
			}
			done = append(done, r)
		}
		if len(done) == 0 {
			return nil
		}
		state, note := domain.ItemApplied, "the user was unlocked meanwhile"
		if kind == FollowUpExpired {
			state, note = domain.ItemExpired, "nobody decided within request_ttl"
		}
		action := domain.ActionExpire
		if kind == FollowUpClosed {
			action = domain.ActionClose
		}
		ids, usernames := make([]int64, len(done)), make([]string, len(done))
		for i, r := range done {
			ids[i], usernames[i] = r.ID, r.Username
			if err := s.audit(ctx, tx, domain.AuditEntry{OrgID: r.OrgID, Actor: domain.ActorSystem, Action: action,
				Target: r.Username, Source: fmt.Sprintf("decision %d", decision), Note: fmt.Sprintf("request %d: %s", r.ID, note)}); err != nil {
				return err
			}
		}
		if err := s.setItemState(ctx, tx, ids, state, domain.ActorSystem, note, now); err != nil {
			return err
		}
		n = len(done)
		return s.queueFollowUp(ctx, tx, render, done[0], kind, "", usernames...)
	})
	return n, err
}
