package outbox

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/unlockd/unlockd/internal/store"
)

// claims are the rows of one batch this worker holds and has not yet
// recorded. A heartbeat renews them five times per ClaimTTL; check says
// whether a mail may still be sent.
type claims struct {
	w    *Worker
	stop func()

	mu sync.Mutex
	// held are the ids still claimed and not yet recorded.
	held map[int64]bool
	// lost are ids a renewal found gone: recorded, or claimed by another
	// worker after ours ran out.
	lost map[int64]bool
	// confirmed is when the last successful renewal began, on the
	// monotonic clock: the store keeps the claims until about ClaimTTL
	// after it.
	confirmed time.Time
}

// Claim checks.
const (
	claimHeld  = iota
	claimLost  // not ours any more: skip it
	claimStale // ours, but unconfirmed for half a ClaimTTL: send no more
)

// hold starts the heartbeat for a claimed batch; stop ends it.
func (w *Worker) hold(batch []store.OutboxMail) *claims {
	c := &claims{w: w, held: map[int64]bool{}, lost: map[int64]bool{}, confirmed: time.Now()}
	for _, m := range batch {
		c.held[m.ID] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go c.heartbeat(ctx, done)
	c.stop = func() { cancel(); <-done }
	return c
}

// heartbeat renews the held claims until ctx ends. A renewal that fails
// leaves confirmed where it was, so check turns stale in time.
func (c *claims) heartbeat(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	ttl := c.w.cfg.ClaimTTL
	t := time.NewTicker(ttl / 5)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		ids := make([]int64, 0, len(c.held))
		for id := range c.held {
			ids = append(ids, id)
		}
		c.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		began := time.Now()
		rctx, cancel := context.WithTimeout(ctx, ttl/2)
		still, err := c.w.q.RenewClaims(rctx, c.w.owner, ids, ttl)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				c.w.log.Warn("outbox: renew claims", slog.Int("mails", len(ids)), slog.Any("error", err))
			}
			continue
		}
		kept := make(map[int64]bool, len(still))
		for _, id := range still {
			kept[id] = true
		}
		c.mu.Lock()
		c.confirmed = began
		for _, id := range ids {
			if !kept[id] && c.held[id] {
				delete(c.held, id)
				c.lost[id] = true
			}
		}
		c.mu.Unlock()
	}
}

// check says whether mail id may be sent now.
func (c *claims) check(id int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.lost[id] || !c.held[id]:
		return claimLost
	case time.Since(c.confirmed) > c.w.cfg.ClaimTTL/2:
		return claimStale
	}
	return claimHeld
}

// done stops renewing id, once its outcome is recorded or it is released,
// and reports whether it was still held.
func (c *claims) done(id int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	was := c.held[id]
	delete(c.held, id)
	return was
}
