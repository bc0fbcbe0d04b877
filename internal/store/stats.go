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
