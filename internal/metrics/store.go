package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unlockd/unlockd/internal/store"
)

var (
	queueDepth = prometheus.NewDesc("unlockd_queue_depth",
		"Requests waiting for a human decision.", nil, nil)
	outboxMail = prometheus.NewDesc("unlockd_outbox_mail",
		"Outgoing mail by status: pending (not yet delivered) or dead (given up).", []string{"status"}, nil)
)

// storeCollector reads the gauges from the store at scrape time.
type storeCollector struct {
	stats func(context.Context) (store.Stats, error)
	log   *slog.Logger
}

// scrapeTimeout bounds the store query of one scrape.
const scrapeTimeout = 5 * time.Second

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepth
	ch <- outboxMail
}

// Collect reports the gauges, or, when the store does not answer, an
// invalid metric so that the scrape shows the failure instead of stale or
// zero values.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	st, err := c.stats(ctx)
	if err != nil {
		c.log.Warn("metrics: store stats failed", slog.Any("error", err))
		ch <- prometheus.NewInvalidMetric(queueDepth, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(queueDepth, prometheus.GaugeValue, float64(st.PendingRequests))
	ch <- prometheus.MustNewConstMetric(outboxMail, prometheus.GaugeValue, float64(st.OutboxPending), "pending")
	ch <- prometheus.MustNewConstMetric(outboxMail, prometheus.GaugeValue, float64(st.OutboxDead), "dead")
}
