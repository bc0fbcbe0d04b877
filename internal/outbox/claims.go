package outbox

import (
	"context"
	"time"

	"github.com/unlockd/unlockd/internal/claim"
	"github.com/unlockd/unlockd/internal/store"
)

// hold starts the heartbeat for a claimed batch (claim.Hold over
// Queue.RenewClaims).
func (w *Worker) hold(batch []store.OutboxMail) *claim.Set {
	ids := make([]int64, len(batch))
	for i, m := range batch {
		ids[i] = m.ID
	}
	renew := func(ctx context.Context, ids []int64, ttl time.Duration) ([]int64, error) {
		return w.q.RenewClaims(ctx, w.owner, ids, ttl)
	}
	return claim.Hold(ids, w.cfg.ClaimTTL, renew, w.log.With("worker", "outbox"), "mails")
}
