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
// (SPEC §3): as domain.Item.Due says, those whose user is no longer locked
// close themselves as applied, and those older than ttl expire. The
// queries below only pick candidates; the rule decides each under its row
// locks. Each request message's items are resolved in one transaction that
// also queues one answer for them.
func (s *Store) SweepRequests(ctx context.Context, ttl time.Duration, render FollowUpRenderer) (Swept, error) {
	var out Swept
	now := s.now()
	steps := []struct {
		res   domain.Resolution
		where string
		arg   time.Time
		count *int
	}{
		{domain.ResolveClose, `JOIN users u ON u.id = ri.user_id
			WHERE ri.state = 'pending' AND (u.lock_reason IS NULL OR u.lock_expires_at <= ?)`, now, &out.Closed},
		{domain.ResolveExpire, `JOIN decisions d ON d.id = ri.decision_id
			WHERE ri.state = 'pending' AND d.decided_at <= ?`, now.Add(-ttl), &out.Expired},
	}
	for _, step := range steps {
		groups, err := s.pendingIDs(ctx, step.where, step.arg)
		if err != nil {
			return out, err
		}
		for decision, ids := range groups {
			n, err := s.sweepDecision(ctx, decision, ids, step.res, ttl, render)
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

// sweepDecision resolves as res the given items of one request message
// for which domain.Item.Due still says res, and queues one answer.
func (s *Store) sweepDecision(ctx context.Context, decision int64, ids []int64, res domain.Resolution, ttl time.Duration, render FollowUpRenderer) (int, error) {
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
			u, err := s.itemUser(ctx, tx, r, "")
			if err != nil {
				return err
			}
			if due, ok := r.Item.Due(u, r.CreatedAt, ttl, now); !ok || due != res {
				continue // decided by someone else, or no longer due, since the query
			}
			if _, err := r.Item.Resolve(res, u, domain.ActorSystem, "", now); err != nil {
				return err
			}
			done = append(done, r)
		}
		if len(done) == 0 {
			return nil
		}
		ids, usernames := make([]int64, len(done)), make([]string, len(done))
		for i, r := range done {
			ids[i], usernames[i] = r.ID, r.Username
			if err := s.audit(ctx, tx, domain.AuditEntry{OrgID: r.OrgID, Actor: domain.ActorSystem, Action: res.Action(),
				Target: r.Username, Source: fmt.Sprintf("decision %d", decision), Note: fmt.Sprintf("request %d: %s", r.ID, r.Note)}); err != nil {
				return err
			}
		}
		if err := s.setItemState(ctx, tx, ids, done[0].Item); err != nil {
			return err
		}
		n = len(done)
		return s.queueFollowUp(ctx, tx, render, done[0], res, "", usernames...)
	})
	return n, err
}
