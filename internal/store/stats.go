package store

import (
	"context"
	"fmt"
)

// Stats are the store's gauges for monitoring.
type Stats struct {
	// PendingRequests is the queue depth: request items waiting for a human.
	PendingRequests int
	// OutboxPending and OutboxDead count mail waiting for delivery and mail
	// given up on.
	OutboxPending int
	OutboxDead    int
}

// Stats counts the queue and the outbox.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var st Stats
	err := s.db.QueryRowxContext(ctx, `SELECT
		(SELECT count(*) FROM request_items WHERE state = 'pending'),
		(SELECT count(*) FROM outbox WHERE status = 'pending'),
		(SELECT count(*) FROM outbox WHERE status = 'dead')`).Scan(&st.PendingRequests, &st.OutboxPending, &st.OutboxDead)
	if err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	return st, nil
}

// PendingByOrg counts the request items waiting for a human, per org slug,
// with one query; orgs with none are left out. A non-empty slug counts that
// org's only.
func (s *Store) PendingByOrg(ctx context.Context, slug string) (map[string]int, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	q := `SELECT o.slug, count(*) AS n FROM request_items ri JOIN orgs o ON o.id = ri.org_id WHERE ri.state = 'pending'`
	var args []any
	if slug != "" {
		q += ` AND o.slug = ?`
		args = append(args, slug)
	}
	var rows []struct {
		Slug string `db:"slug"`
		N    int    `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q+` GROUP BY o.slug`), args...); err != nil {
		return nil, fmt.Errorf("store: count pending requests: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Slug] = r.N
	}
	return out, nil
}
