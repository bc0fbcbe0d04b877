// Package metrics holds unlockd's Prometheus metrics (SPEC §8, /metrics):
// counters the components report to, and gauges read from the store at
// each scrape, so that they agree across instances sharing one database.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// Channels through which a user gets unlocked, the label of
// unlockd_unlocks_total.
const (
	ChannelEmail  = "email"  // a verified email request, applied at once
	ChannelReview = "review" // a queued request approved by a human
	ChannelHTTP   = "http"   // an admin or staff unlock through the API or UI
	ChannelLink   = "link"   // a request its contact confirmed by link
)

// Metrics is one registry of unlockd's metrics. Its methods are safe for
// concurrent use.
type Metrics struct {
	reg        *prometheus.Registry
	decisions  *prometheus.CounterVec
	unlocks    *prometheus.CounterVec
	reconnects *prometheus.CounterVec
	connected  *prometheus.GaugeVec
	failures   *prometheus.CounterVec
	latency    prometheus.Histogram
	// directoryUp is 1 while a directory answers (its last call or ping
	// worked), 0 while it cannot.
	directoryUp *prometheus.GaugeVec
}

// Peers, the label of unlockd_peer_failures_total.
const (
	PeerIMAP     = "imap"
	PeerSMTP     = "smtp"
	PeerDNS      = "dns"
	PeerDatabase = "database"
	// PeerDirectory: a remote user directory (LDAP, ...) that could not
	// answer.
	PeerDirectory = "directory"
)

// New registers every metric; stats is read at each scrape for the queue
// and outbox gauges.
func New(stats func(context.Context) (store.Stats, error), log *slog.Logger) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unlockd_decisions_total", Help: "Mailbox messages decided, by verdict.",
		}, []string{"verdict"}),
		unlocks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unlockd_unlocks_total", Help: "Users unlocked, by channel (email, review, http).",
		}, []string{"channel"}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unlockd_imap_reconnects_total", Help: "IMAP sessions that ended in failure and were retried, by mailbox.",
		}, []string{"mailbox"}),
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "unlockd_mailbox_connected", Help: "1 while this instance has the mailbox selected, else 0.",
		}, []string{"mailbox"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unlockd_peer_failures_total",
			Help: "Failed exchanges with a peer (imap, smtp, dns, database), each followed by a reconnect or retry; kind timeout when the peer went silent.",
		}, []string{"peer", "kind"}),
		directoryUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "unlockd_directory_up",
			Help: "1 while the directory answers (its last lookup, unlock or ping worked), else 0; builtin is not listed.",
		}, []string{"directory"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "unlockd_decision_duration_seconds", Help: "Time from a fetched message to its committed decision.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
	}
	for _, v := range []domain.Verdict{domain.VerdictIgnored, domain.VerdictRejected, domain.VerdictNoUsername, domain.VerdictAccepted} {
		m.decisions.WithLabelValues(string(v))
	}
	for _, c := range []string{ChannelEmail, ChannelReview, ChannelHTTP, ChannelLink} {
		m.unlocks.WithLabelValues(c)
	}
	for _, p := range []string{PeerIMAP, PeerSMTP, PeerDNS, PeerDatabase, PeerDirectory} {
		for _, k := range []string{"timeout", "error"} {
			m.failures.WithLabelValues(p, k)
		}
	}
	m.reg.MustRegister(m.decisions, m.unlocks, m.directoryUp, m.reconnects, m.connected, m.failures, m.latency, &storeCollector{stats: stats, log: log},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Decided records one committed decision and how long it took.
func (m *Metrics) Decided(d store.Decided, took time.Duration) {
	m.decisions.WithLabelValues(string(d.Decision.Verdict)).Inc()
	m.latency.Observe(took.Seconds())
	for _, it := range d.Decision.Items {
		if it.State == domain.ItemApplied {
			m.unlocks.WithLabelValues(ChannelEmail).Inc()
		}
	}
}

// Directory records whether the directory answered: its last call
// worked (up) or could not reach it. A temporary failure counts as a
// failure of peer "directory".
func (m *Metrics) Directory(name string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.directoryUp.WithLabelValues(name).Set(v)
	if !up {
		m.PeerFailure(PeerDirectory, false)
	}
}

// Unlocked records n users unlocked through channel.
func (m *Metrics) Unlocked(channel string, n int) {
	m.unlocks.WithLabelValues(channel).Add(float64(n))
}

// Watching makes the mailbox's counters and gauge show from the start, at
// zero.
func (m *Metrics) Watching(mailbox string) {
	m.reconnects.WithLabelValues(mailbox)
	m.connected.WithLabelValues(mailbox)
}

// Connected sets whether this instance has mailbox selected.
func (m *Metrics) Connected(mailbox string, yes bool) {
	v := 0.0
	if yes {
		v = 1
	}
	m.connected.WithLabelValues(mailbox).Set(v)
}

// PeerFailure records a failed exchange with peer; timeout says the peer
// went silent rather than answering with an error.
func (m *Metrics) PeerFailure(peer string, timeout bool) {
	kind := "error"
	if timeout {
		kind = "timeout"
	}
	m.failures.WithLabelValues(peer, kind).Inc()
}

// Reconnecting records a failed IMAP session of mailbox.
func (m *Metrics) Reconnecting(mailbox string) {
	m.reconnects.WithLabelValues(mailbox).Inc()
}
