package app

import (
	"context"
	"log/slog"
	"time"
)

// sweep closes and expires queued requests (SPEC §3: request_ttl) at start
// and then every Options.SweepInterval until ctx ends, and deletes old
// records (retention.go) at start and then daily. A failed sweep is
// logged and tried again at the next tick; several instances may sweep the
// same database, since each request is re-checked under its row lock.
func (a *App) sweep(ctx context.Context) error {
	t := time.NewTicker(a.opts.SweepInterval)
	defer t.Stop()
	var retentionDue time.Time
	for {
		a.sweepOnce(ctx)
		if now := time.Now(); !now.Before(retentionDue) {
			a.sweepRetention(ctx)
			retentionDue = now.Add(retentionEvery)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (a *App) sweepOnce(ctx context.Context) {
	a.sweepDigests(ctx)
	swept, err := a.Store.SweepRequests(ctx, a.cfg.Limits.RequestTTL.Std(), a.answerRenderer())
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("request sweep failed", slog.Any("error", err))
		}
		return
	}
	if swept.Closed+swept.Expired == 0 {
		return
	}
	a.log.Info("requests swept", "closed", swept.Closed, "expired", swept.Expired)
	if a.worker != nil {
		a.worker.Wake()
	}
}

// sweepDigests sends the combined notices about unverified requests that
// are due (domain.NotifyEvery).
func (a *App) sweepDigests(ctx context.Context) {
	n, err := a.Store.SweepDigests(ctx, a.renderer.Digest)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("digest sweep failed", slog.Any("error", err))
		}
		return
	}
	if n > 0 {
		a.log.Info("combined notices queued", "senders", n)
		if a.worker != nil {
			a.worker.Wake()
		}
	}
}
