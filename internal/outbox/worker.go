package outbox

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/unlockd/unlockd/internal/claim"
	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/store"
)

// Queue is the part of the store the worker delivers from;
// *store.Store implements it.
type Queue interface {
	ClaimMail(ctx context.Context, owner string, limit int, ttl time.Duration) ([]store.OutboxMail, error)
	RenewClaims(ctx context.Context, owner string, ids []int64, ttl time.Duration) ([]int64, error)
	MailSent(ctx context.Context, id int64, response string) error
	MailFailed(ctx context.Context, id int64, reason string, retryAt time.Time, dead bool) error
	ReleaseMail(ctx context.Context, owner string, ids []int64) error
	NextMailDue(ctx context.Context) (time.Time, bool, error)
}

// Defaults for the zero fields of Config.
const (
	DefaultPollInterval   = 10 * time.Second
	DefaultBatchSize      = 50
	DefaultClaimTTL       = 5 * time.Second
	DefaultMinBackoff     = time.Minute
	DefaultMaxBackoff     = time.Hour
	DefaultConnMinBackoff = time.Second
	DefaultConnMaxBackoff = 5 * time.Minute
	DefaultTimeout        = config.DefaultSMTPTimeout
)

// Config configures a Worker. Only SMTP is required.
type Config struct {
	// SMTP is the smtp configuration section (address, tls, ca_file,
	// username, password, from, max_attempts, timeout).
	SMTP config.SMTP
	// LoopID is the X-Loop header value stamped on every mail.
	LoopID string
	// PollInterval is the longest wait between passes when nobody calls
	// Wake; the worker wakes sooner when the next mail falls due.
	PollInterval time.Duration
	// BatchSize is how many mails one pass claims and sends over one
	// connection.
	BatchSize int
	// ClaimTTL is how long a claim hides mail from other workers unless
	// renewed; the worker renews its claims five times per ClaimTTL while
	// it works, so the mail of a worker that died is due again within it.
	ClaimTTL time.Duration
	// MinBackoff and MaxBackoff bound the wait before retrying a mail that
	// failed temporarily: MinBackoff doubled per failed attempt, capped at
	// MaxBackoff, with jitter taking off up to half.
	MinBackoff, MaxBackoff time.Duration
	// ConnMinBackoff and ConnMaxBackoff bound the wait after a failed
	// connection (refused, no greeting, TLS or AUTH failure): no mail was
	// tried, so no attempt is counted; the worker itself waits, doubling
	// from ConnMinBackoff up to ConnMaxBackoff, however long the outage.
	ConnMinBackoff, ConnMaxBackoff time.Duration
	// Timeout bounds connecting and each mail transaction; zero means
	// smtp.timeout, or DefaultTimeout.
	Timeout time.Duration
	// Now is the clock (time.Now when nil); it must agree with the store's.
	Now func() time.Time
	// OnState, when set, is told the SMTP state when it changes, and every
	// failed connection or lost transaction with its cause: StateRetrying
	// until a connection (after failed ones) or a delivery (after a lost
	// transaction) works again, then StateOK. It must not block.
	OnState func(State, error)
	// OnFailure, when set, is told every failed connection or transaction
	// with its cause, for metrics. It must not block.
	OnFailure func(error)
}

// State is the SMTP side as readiness reports it.
type State string

// Worker states.
const (
	StateOK       State = "ok"       // the last connection worked (or none was needed yet)
	StateRetrying State = "retrying" // the last connection failed; waiting to try again
)

// Worker delivers the outbox over SMTP.
type Worker struct {
	cfg    Config
	q      Queue
	log    *slog.Logger
	dialer *dialer
	wake   chan struct{}
	// owner names this worker's claims in the store.
	owner string

	// Used by the delivering goroutine only.
	unrecorded map[int64]string // sent, but MailSent failed: id → response
	conn       connState
	state      State // as last reported
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
	if cfg.ClaimTTL <= 0 {
		cfg.ClaimTTL = DefaultClaimTTL
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.ConnMinBackoff <= 0 {
		cfg.ConnMinBackoff = DefaultConnMinBackoff
	}
	if cfg.ConnMaxBackoff < cfg.ConnMinBackoff {
		cfg.ConnMaxBackoff = max(DefaultConnMaxBackoff, cfg.ConnMinBackoff)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = cfg.SMTP.Timeout.Std()
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
	return &Worker{cfg: cfg, q: q, log: log, dialer: d, wake: make(chan struct{}, 1),
		owner: ownerID(), unrecorded: map[int64]string{}, state: StateOK}, nil
}

// ownerID names one worker for as long as its process lives.
func ownerID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8])
}

// Wake asks a running worker for a pass now, e.g. after a decision queued
// mail. It never blocks. A worker waiting out an SMTP outage stays waiting.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then returns nil; a message being sent when
// ctx ends is finished and recorded first, and mail claimed but not yet
// tried is released, due at once for the next worker. A worker that dies
// leaves its claims to run out within ClaimTTL.
func (w *Worker) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	var failing string // the failure last logged, while passes keep failing
	for {
		n, err := w.DeliverOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err != nil && err.Error() != failing:
			failing = err.Error()
			w.log.Error("outbox pass failed", slog.Any("error", err))
		case err != nil:
			w.log.Debug("outbox pass failed again", slog.Any("error", err))
		case failing != "":
			failing = ""
			w.log.Info("outbox passes work again")
		}
		backoff := w.conn.wait()
		if err == nil && n == w.cfg.BatchSize && backoff == 0 {
			continue // more may be due
		}
		wake := w.wake
		if backoff > 0 {
			wake = nil // an outage is waited out, whatever is queued meanwhile
		} else {
			backoff = w.untilDue(ctx)
		}
		timer.Reset(backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-timer.C:
		}
	}
}

// untilDue returns how long to sleep before the next pass: until the
// earliest pending mail falls due (a retry, or another worker's claim
// running out), at most PollInterval.
func (w *Worker) untilDue(ctx context.Context) time.Duration {
	due, ok, err := w.q.NextMailDue(ctx)
	if err != nil || !ok {
		return w.cfg.PollInterval
	}
	return min(max(due.Sub(w.cfg.Now()), 10*time.Millisecond), w.cfg.PollInterval)
}

// DeliverOnce claims one batch of due mail and tries each once over a
// single connection, recording every outcome as soon as it is known. It
// returns how many mails it claimed.
func (w *Worker) DeliverOnce(ctx context.Context) (int, error) {
	// Outcomes are recorded even when ctx has just ended: a sent message
	// left unrecorded would be sent again.
	rec := context.WithoutCancel(ctx)
	if err := w.recordUnrecorded(rec); err != nil {
		return 0, err
	}
	batch, err := w.q.ClaimMail(ctx, w.owner, w.cfg.BatchSize, w.cfg.ClaimTTL)
	if err != nil {
		return 0, fmt.Errorf("outbox: claim: %w", err)
	}
	if len(batch) == 0 {
		return 0, nil
	}
	held := w.hold(batch)
	defer held.Stop()
	var client *gomail.Client
	defer func() {
		if client != nil {
			client.Close()
		}
	}()
	for i, m := range batch {
		if ctx.Err() != nil {
			w.release(rec, held, batch[i:])
			break
		}
		switch held.Check(m.ID) {
		case claim.Lost:
			continue // recorded meanwhile, or another worker has it now
		case claim.Stale:
			// The store has not confirmed the claims for too long: another
			// worker may take them at any moment, so send nothing more.
			return len(batch), fmt.Errorf("outbox: claims not renewed for %v; %d mails left to other workers", w.cfg.ClaimTTL/2, len(batch)-i)
		}
		if client == nil {
			if client, err = w.connect(ctx); err != nil {
				w.connFailed(ctx, err)
				w.release(rec, held, batch[i:]) // nothing was tried: no attempt counts
				return len(batch), nil
			}
		}
		var f *failure
		var response string
		client, response, f = w.send(ctx, client, m)
		switch {
		case f == nil:
			w.report(StateOK, nil)
			if err := w.recordSent(rec, held, m.ID, response); err != nil {
				w.release(rec, held, batch[i+1:])
				return len(batch), err
			}
		case f.notTried:
			w.connFailed(ctx, f.err)
			w.release(rec, held, batch[i:])
			return len(batch), nil
		default:
			w.failed(rec, m, *f)
			held.Done(m.ID)
			if f.connLost {
				// The server hung up or went silent mid-transaction: it
				// is not known to be healthy until a mail gets through.
				w.report(StateRetrying, f.err)
			}
		}
	}
	return len(batch), nil
}

// release hands claimed mail that was not tried back to the queue.
func (w *Worker) release(ctx context.Context, held *claim.Set, mails []store.OutboxMail) {
	ids := make([]int64, 0, len(mails))
	for _, m := range mails {
		if held.Done(m.ID) {
			ids = append(ids, m.ID)
		}
	}
	if err := w.q.ReleaseMail(ctx, w.owner, ids); err != nil {
		w.log.Warn("outbox: release unsent mail; it is due again when its claims run out", slog.Int("mails", len(ids)), slog.Any("error", err))
	}
}
