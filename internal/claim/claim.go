// Package claim holds the worker side of the claim-and-mark mechanism that
// every side effect leaving the process goes through (DESIGN.md "Exactly
// once, everywhere"): the outbox's mail and the remote directories'
// unlocks. A worker claims due rows in the store for a short time to live,
// renews the claims while it works (Hold), and ends each one by recording
// its outcome or handing it back; a worker that dies stops renewing, so its
// rows are due again within one time to live.
package claim

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Renew extends the claims on ids to ttl from now and returns the ids
// still held: one missing from the answer was recorded meanwhile, or its
// claim ran out and another worker took it.
type Renew func(ctx context.Context, ids []int64, ttl time.Duration) ([]int64, error)

// State is what Check says of one claimed row.
type State int

// Claim states.
const (
	// Held: the row is ours and confirmed lately: work on it.
	Held State = iota
	// Lost: not ours any more (recorded, or another worker's): skip it.
	Lost
	// Stale: ours, but the store has not confirmed it for half a time to
	// live: another worker may take it any moment, so do no more work.
	Stale
)

// Set is the rows of one batch a worker holds and has not yet recorded. A
// heartbeat renews them five times per time to live.
type Set struct {
	ttl   time.Duration
	renew Renew
	log   *slog.Logger
	what  string // "mails", "unlocks": for the log
	stop  func()

	mu sync.Mutex
	// held are the ids still claimed and not yet recorded.
	held map[int64]bool
	// lost are ids a renewal found gone.
	lost map[int64]bool
	// confirmed is when the last successful renewal began, on the
	// monotonic clock: the store keeps the claims until about ttl after it.
	confirmed time.Time
}

// Hold starts the heartbeat for a claimed batch of ids, claimed for ttl;
// Stop ends it. what names the rows in log lines.
func Hold(ids []int64, ttl time.Duration, renew Renew, log *slog.Logger, what string) *Set {
	c := &Set{ttl: ttl, renew: renew, log: log, what: what, held: map[int64]bool{}, lost: map[int64]bool{}, confirmed: time.Now()}
	for _, id := range ids {
		c.held[id] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go c.heartbeat(ctx, done)
	c.stop = func() { cancel(); <-done }
	return c
}

// Stop ends the heartbeat; it returns once no renewal runs.
func (c *Set) Stop() { c.stop() }

// heartbeat renews the held claims until ctx ends. A renewal that fails
// leaves confirmed where it was, so Check turns stale in time.
func (c *Set) heartbeat(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(c.ttl / 5)
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
		rctx, cancel := context.WithTimeout(ctx, c.ttl/2)
		still, err := c.renew(rctx, ids, c.ttl)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("renew claims", slog.String("rows", c.what), slog.Int("count", len(ids)), slog.Any("error", err))
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

// Check says whether the row id may be worked on now.
func (c *Set) Check(id int64) State {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.lost[id] || !c.held[id]:
		return Lost
	case time.Since(c.confirmed) > c.ttl/2:
		return Stale
	}
	return Held
}

// Done stops renewing id, once its outcome is recorded or it is released,
// and reports whether it was still held.
func (c *Set) Done(id int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	was := c.held[id]
	delete(c.held, id)
	return was
}

// Backoff is the wait before retry number attempt (from 1) of a row that
// failed temporarily: base doubled per attempt, capped at ceiling, with
// jitter taking off up to half, so that rows failed together do not all
// come back at once.
func Backoff(base, ceiling time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	return d - rand.N(d/2+1)
}
