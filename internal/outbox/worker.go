package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/store"
)

// Queue is the part of the store the worker delivers from;
// *store.Store implements it.
type Queue interface {
	ClaimMail(ctx context.Context, limit int, lease time.Duration) ([]store.OutboxMail, error)
	MailSent(ctx context.Context, id int64, response string) error
	MailFailed(ctx context.Context, id int64, reason string, retryAt time.Time, dead bool) error
	ReleaseMail(ctx context.Context, ids []int64) error
}

// Defaults for the zero fields of Config.
const (
	DefaultPollInterval = 10 * time.Second
	DefaultBatchSize    = 50
	DefaultLease        = 2 * time.Minute
	DefaultMinBackoff   = time.Minute
	DefaultMaxBackoff   = time.Hour
	DefaultTimeout      = 30 * time.Second
)

// Config configures a Worker. Only SMTP is required.
type Config struct {
	// SMTP is the smtp configuration section (address, tls, ca_file,
	// username, password, from, max_attempts).
	SMTP config.SMTP
	// LoopID is the X-Loop header value stamped on every mail.
	LoopID string
	// PollInterval is the wait between passes when nothing is due and
	// nobody calls Wake.
	PollInterval time.Duration
	// BatchSize is how many mails one pass claims and sends over one
	// connection.
	BatchSize int
	// Lease hides claimed mail from other workers; a worker that dies
	// mid-batch leaves its unsent mail due again after it.
	Lease time.Duration
	// MinBackoff and MaxBackoff bound the wait before retrying a
	// temporary failure: MinBackoff doubled per failed attempt, capped at
	// MaxBackoff, with jitter taking off up to half.
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds each SMTP connection step.
	Timeout time.Duration
	// Now is the clock (time.Now when nil); it must agree with the store's.
	Now func() time.Time
}

// Worker delivers the outbox over SMTP.
type Worker struct {
	cfg    Config
	q      Queue
	log    *slog.Logger
	dialer *dialer
	wake   chan struct{}
}

// New returns a worker for q. It checks the SMTP settings and reads
// smtp.ca_file; defaults fill the other zero fields of cfg.
func New(cfg Config, q Queue, log *slog.Logger) (*Worker, error) {
	if cfg.SMTP.From == "" {
		return nil, fmt.Errorf("outbox: smtp.from is required")
	}
	if cfg.SMTP.MaxAttempts <= 0 {
		cfg.SMTP.MaxAttempts = config.DefaultSMTPMaxAttempts
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d, err := newDialer(cfg.SMTP, cfg.Timeout)
	if err != nil {
		return nil, err
	}
	return &Worker{cfg: cfg, q: q, log: log, dialer: d, wake: make(chan struct{}, 1)}, nil
}

// Wake asks a running worker for a pass now, e.g. after a decision queued
// mail. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then returns nil; a message being sent when
// ctx ends is finished and recorded first, and mail claimed but not yet
// tried is released, due at once for the next worker. Only a worker that
// dies leaves its claimed mail hidden until the lease runs out.
func (w *Worker) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		n, err := w.DeliverOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			w.log.Error("outbox pass failed", slog.Any("error", err))
		}
		if err == nil && n == w.cfg.BatchSize {
			continue // more may be due
		}
		timer.Reset(w.cfg.PollInterval)
		select {
		case <-ctx.Done():
			return nil
		case <-w.wake:
		case <-timer.C:
		}
	}
}

// DeliverOnce claims one batch of due mail and tries each once over a
// single connection, recording every outcome. It returns how many mails it
// claimed.
func (w *Worker) DeliverOnce(ctx context.Context) (int, error) {
	batch, err := w.q.ClaimMail(ctx, w.cfg.BatchSize, w.cfg.Lease)
	if err != nil {
		return 0, fmt.Errorf("outbox: claim: %w", err)
	}
	if len(batch) == 0 {
		return 0, nil
	}
	// Outcomes are recorded even when ctx has just ended: a sent message
	// left unrecorded would be sent again.
	rec := context.WithoutCancel(ctx)
	var client *gomail.Client
	defer func() {
		if client != nil {
			client.Close()
		}
	}()
	for i, m := range batch {
		if ctx.Err() != nil {
			w.release(rec, batch[i:])
			break
		}
		if client == nil {
			client, err = w.dialer.dial(ctx)
			if err != nil && ctx.Err() != nil {
				w.release(rec, batch[i:]) // stopping, not a failure of the mail
				break
			}
			if err != nil {
				// Nothing was tried: each claimed mail counts one
				// temporary failure.
				w.log.Warn("smtp connection failed", slog.Any("error", err), slog.Int("mails", len(batch)-i))
				for _, rest := range batch[i:] {
					w.failed(rec, rest, failure{err: err})
				}
				return len(batch), nil
			}
		}
		var f *failure
		client, f = w.send(ctx, client, m)
		if f != nil {
			w.failed(rec, m, *f)
		}
	}
	return len(batch), nil
}

// release hands claimed mail that was not tried back to the queue.
func (w *Worker) release(ctx context.Context, mails []store.OutboxMail) {
	ids := make([]int64, len(mails))
	for i, m := range mails {
		ids[i] = m.ID
	}
	if err := w.q.ReleaseMail(ctx, ids); err != nil {
		w.log.Warn("outbox: release unsent mail; it is due again when its lease ends", slog.Int("mails", len(ids)), slog.Any("error", err))
	}
}

// send delivers one mail over client and records a success. It returns the
// client to use next (nil when the connection was lost) and the failure,
// if any.
func (w *Worker) send(ctx context.Context, client *gomail.Client, m store.OutboxMail) (*gomail.Client, *failure) {
	msg, err := message(m.Mail, w.cfg.SMTP.From, w.cfg.LoopID, w.cfg.Now())
	if err != nil {
		return client, &failure{err: err, permanent: true}
	}
	err = client.Send(msg)
	if err != nil && isConnCheck(err) {
		// The server hung up on an idle connection before this message:
		// it was not tried, so try it once on a fresh one.
		client.Close()
		if client, err = w.dialer.dial(ctx); err != nil {
			return nil, &failure{err: err, connLost: true}
		}
		err = client.Send(msg)
	}
	if err != nil && !msg.IsDelivered() {
		f := classify(err)
		if f.connLost {
			client.Close()
			client = nil
		}
		return client, &f
	}
	if err != nil {
		// Accepted, but the reset after it failed: the mail is sent; the
		// connection is not to be trusted.
		client.Close()
		client = nil
	}
	if rerr := w.q.MailSent(context.WithoutCancel(ctx), m.ID, msg.ServerResponse()); rerr != nil {
		w.log.Error("outbox: record sent mail", slog.Int64("mail_id", m.ID), slog.Any("error", rerr))
	} else {
		w.log.Debug("mail sent", slog.Int64("mail_id", m.ID), slog.String("kind", string(m.Kind)))
	}
	return client, nil
}

// failed records a failed attempt: dead when permanent or out of
// attempts, otherwise due again after a backoff.
func (w *Worker) failed(ctx context.Context, m store.OutboxMail, f failure) {
	attempt := m.Attempts + 1
	dead := f.permanent || attempt >= w.cfg.SMTP.MaxAttempts
	now := w.cfg.Now()
	retryAt := now
	if !dead {
		retryAt = now.Add(w.backoff(attempt))
	}
	reason := f.err.Error()
	if err := w.q.MailFailed(ctx, m.ID, reason, retryAt, dead); err != nil {
		w.log.Error("outbox: record failed mail", slog.Int64("mail_id", m.ID), slog.Any("error", err))
		return
	}
	lvl := slog.LevelWarn
	if dead {
		lvl = slog.LevelError
	}
	w.log.Log(ctx, lvl, "mail delivery failed", slog.Int64("mail_id", m.ID), slog.Int("attempt", attempt),
		slog.Bool("dead", dead), slog.Time("retry_at", retryAt), slog.Any("error", f.err))
}

// backoff returns the wait after the attempt-th failed attempt: MinBackoff
// doubled per attempt, capped at MaxBackoff, less a random part of up to
// half so that many mails failing together spread out.
func (w *Worker) backoff(attempt int) time.Duration {
	d := w.cfg.MinBackoff
	for i := 1; i < attempt && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.cfg.MaxBackoff)
	return d - rand.N(d/2+1)
}
