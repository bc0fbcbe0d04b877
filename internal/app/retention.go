package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/unlockd/unlockd/internal/store"
)

// retentionEvery is how often the retention sweep runs: at start, then
// daily. Several instances may each run it; a row deleted by one is
// simply not found by the other.
const retentionEvery = 24 * time.Hour

// sweepRetention deletes what is past limits.retention, mail_retention
// and audit_retention (store.SweepRetention), logging what went.
func (a *App) sweepRetention(ctx context.Context) {
	l := a.cfg.Limits
	r := store.Retention{Records: l.Retention.Std(), MailBodies: l.MailRetention.Std(), Audit: l.AuditRetention.Std()}
	if r.Records <= 0 && r.MailBodies <= 0 && r.Audit <= 0 {
		return
	}
	start := time.Now()
	swept, err := a.Store.SweepRetention(ctx, r)
	if err != nil && ctx.Err() == nil {
		a.log.Warn("retention sweep failed; tried again tomorrow", slog.Any("error", err))
	}
	if swept.Batches > 0 {
		a.log.Info("retention sweep", "decisions", swept.Decisions, "request_items", swept.RequestItems,
			"mail", swept.Mail, "mail_bodies", swept.MailBodies, "audit", swept.Audit,
			"batches", swept.Batches, "took", time.Since(start).Round(time.Millisecond))
	}
}
