package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TLS modes, as in the configuration.
const (
	TLSImplicit = "implicit"
	TLSStartTLS = "starttls"
	TLSNone     = "none"
)

// Config is one mailbox to watch.
type Config struct {
	Name     string // names the mailbox in the store and logs
	Address  string // host:port
	TLS      string // implicit, starttls or none (loopback only; config validates)
	CAFile   string
	Username string
	Password string
	// OAuth2TokenCommand prints an OAuth 2.0 access token; when set it is
	// used instead of Password.
	OAuth2TokenCommand string
	Mailbox            string // default INBOX
	ProcessedFolder    string // empty: flag \Seen and leave in place
	RejectedFolder     string
	IDLE               bool
	PollInterval       time.Duration
	// MaxMessageBytes: larger messages are never downloaded whole; the
	// handler gets the header and the first part of the body, Truncated set.
	MaxMessageBytes int64
	// BatchSize is the number of messages fetched per command, decided in
	// one transaction and moved per folder in one command; zero means
	// DefaultBatchSize.
	BatchSize int
	// FetchBudget bounds the bytes of mail held in memory at once: batches
	// are cut by it as well as by BatchSize, and a message larger than
	// SpoolBytes is streamed to a temporary file, never held whole.
	FetchBudget int64
	// SpoolBytes is the size above which a message is spooled to disk.
	SpoolBytes int64
	// Timeout is how long the server may stay silent while an answer is
	// due: the greeting, TLS set-up, a command's reply, the next bytes of a
	// FETCH (deadline.go). Not applied while IDLE waits for mail.
	Timeout time.Duration
	// DeferTries and DeferMaxAge cap how often and how long a message the
	// handler defers (DeferError) is tried again; the last try is marked
	// Message.LastTry. DeferBackoff is the first pause, doubled after each
	// try up to ten minutes.
	DeferTries   int
	DeferMaxAge  time.Duration
	DeferBackoff time.Duration
}

// Message is one fetched mailbox message.
type Message struct {
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	Size        int64
	Received    time.Time
	// Raw is the whole message, or, when Truncated, its header followed by
	// the first part of its body.
	Raw       []byte
	Truncated bool
	// Spool, set in place of Raw for a message larger than
	// Config.SpoolBytes, is a temporary file holding the whole message; it
	// is removed once the handler's Prepare returns.
	Spool *os.File
	// LastTry is set when the message was deferred before and its tries or
	// time are up: the handler must decide it now, counting a temporary
	// failure as a failure.
	LastTry bool
}

// Folder is where a decided message goes.
type Folder int

// Folders.
const (
	Processed Folder = iota
	Rejected
)

// Watcher watches one mailbox.
type Watcher struct {
	cfg         Config
	handler     Handler
	checkpoints Checkpoints
	log         *slog.Logger
	// Lease, when set, must grant the mailbox before the watcher connects,
	// so that one instance at a time watches it (store.AcquireMailbox); it
	// calls standby whenever another instance holds the mailbox. The
	// context it returns ends when the lease is lost.
	Lease func(ctx context.Context, mailbox string, standby func()) (held context.Context, release func(), err error)
	// OnState, when set, is told the state on each change and on each
	// failure, with its cause when retrying; readiness reporting, metrics
	// and tests use it. It must not block.
	OnState func(st State, cause error)

	failures failureRun // used by the Run goroutine only
	// mayHaveDeferrals is false once a read found no deferred message and
	// none was deferred since, so that an idle mailbox's every wake-up
	// costs no query for them. Each session starts by reading them.
	mayHaveDeferrals bool
}

// State is where a watcher stands, for readiness reports.
type State string

// Watcher states.
const (
	StateConnecting State = "connecting" // first connection (or lease request) under way
	StateStandby    State = "standby"    // another instance holds the mailbox lease
	StateConnected  State = "connected"  // the mailbox is selected
	StateRetrying   State = "retrying"   // the last session or lease request failed; retrying
)

// New returns a watcher; defaults fill unset fields of cfg.
func New(cfg Config, h Handler, cp Checkpoints, log *slog.Logger) *Watcher {
	if cfg.Mailbox == "" {
		cfg.Mailbox = "INBOX"
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 30 * time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 10 << 20
	}
	if cfg.FetchBudget <= 0 {
		cfg.FetchBudget = DefaultFetchBudget
	}
	if cfg.SpoolBytes <= 0 {
		cfg.SpoolBytes = min(DefaultSpoolBytes, cfg.FetchBudget)
	}
	if cfg.DeferTries <= 0 {
		cfg.DeferTries = defaultDeferTries
	}
	if cfg.DeferMaxAge <= 0 {
		cfg.DeferMaxAge = defaultDeferMaxAge
	}
	if cfg.DeferBackoff <= 0 {
		cfg.DeferBackoff = defaultDeferBackoff
	}
	return &Watcher{cfg: cfg, handler: h, checkpoints: cp, log: log.With("mailbox", cfg.Name)}
}

// Backoff bounds for reconnecting, and for asking for the lease again
// while the database is unreachable.
const (
	minBackoff      = 500 * time.Millisecond
	maxBackoff      = 2 * time.Minute
	maxLeaseBackoff = 10 * time.Second
)

// Run watches until ctx ends, holding the mailbox lease when one is set
// and reconnecting after failures. It returns nil when ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	w.setState(StateConnecting, nil)
	if w.Lease == nil {
		w.watch(ctx)
		return nil
	}
	backoff := minBackoff
	for ctx.Err() == nil {
		held, release, err := w.Lease(ctx, w.cfg.Name, func() { w.setState(StateStandby, nil) })
		if err != nil {
			if ctx.Err() == nil {
				wait := backoff/2 + rand.N(backoff/2+1)
				w.failed("mailbox lease unavailable; retrying", err, wait)
				sleep(ctx, wait)
				backoff = min(backoff*2, maxLeaseBackoff)
			}
			continue
		}
		backoff = minBackoff
		w.log.Info("mailbox lease held")
		w.setState(StateConnecting, nil)
		w.watch(held)
		release()
		if ctx.Err() == nil {
			w.log.Warn("mailbox lease lost; standing by")
		}
	}
	return nil
}

// watch runs sessions until ctx ends, reconnecting after failures.
func (w *Watcher) watch(ctx context.Context) {
	backoff := minBackoff
	for {
		start := time.Now()
		err := w.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > maxBackoff {
			backoff = minBackoff // the session was healthy for a while
		}
		wait := backoff/2 + rand.N(backoff/2+1) // jitter
		w.failed("imap session ended; reconnecting", err, wait)
		if !sleep(ctx, wait) {
			return
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// sleep waits for d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// session runs one connection: connect, select, then drain and wait until
// an error or ctx ends.
func (w *Watcher) session(ctx context.Context) (err error) {
	wake := make(chan struct{}, 1)
	c, conn, err := w.dial(wake)
	if err != nil {
		return err
	}
	defer c.Close()
	defer func() { err = conn.explain(err) }()
	// go-imap calls take no context: closing the client unblocks them. Until
	// the first wait, a stop request closes the connection at once; while
	// draining, the batch in hand is finished first (see drain).
	stop := context.AfterFunc(ctx, func() { c.Close() })
	if err := w.login(ctx, c); err != nil {
		return err
	}
	for _, f := range []string{w.cfg.ProcessedFolder, w.cfg.RejectedFolder} {
		if err := ensureFolder(c, f); err != nil {
			return err
		}
	}
	sel, err := c.Select(w.cfg.Mailbox, nil).Wait()
	if err != nil {
		return fmt.Errorf("intake: select %s: %w", w.cfg.Mailbox, err)
	}
	w.log.Info("imap mailbox selected", "uidvalidity", sel.UIDValidity, "messages", sel.NumMessages)
	stop()
	// A server that hangs while the batch in hand is finished still cannot
	// hold up a stop for longer than one command timeout.
	defer context.AfterFunc(ctx, func() { time.AfterFunc(w.cfg.Timeout, func() { c.Close() }) })()
	w.setState(StateConnected, nil)
	w.mayHaveDeferrals = true
	idle := w.cfg.IDLE && (c.Caps().Has(imap.CapIdle) || c.Caps().Has(imap.CapIMAP4rev2))
	for {
		nextDue, err := w.drain(ctx, c, sel.UIDValidity)
		if err != nil {
			return err
		}
		if err := w.wait(ctx, c, wake, idle, nextDue); err != nil {
			return err
		}
	}
}

// ensureFolder creates folder unless it is empty or already exists.
func ensureFolder(c *imapclient.Client, folder string) error {
	if folder == "" {
		return nil
	}
	// RFC 3501 wants at least one STATUS item; Dovecot rejects "()".
	if _, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait(); err == nil {
		return nil
	}
	err := c.Create(folder, nil).Wait()
	var imapErr *imap.Error
	if errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeAlreadyExists {
		return nil // created meanwhile, or STATUS failed for another reason
	}
	if err != nil {
		return fmt.Errorf("intake: create folder %s: %w", folder, err)
	}
	return nil
}

// wait returns when new mail may have arrived (an EXISTS during IDLE, or
// the poll interval elapsed) or a deferred message falls due (nextDue,
// unless zero).
func (w *Watcher) wait(ctx context.Context, c *imapclient.Client, wake chan struct{}, idle bool, nextDue time.Time) error {
	period := w.cfg.PollInterval
	if idle {
		period *= 10 // re-check now and then even if IDLE stays silent
	}
	if !nextDue.IsZero() {
		period = max(min(period, time.Until(nextDue)), 10*time.Millisecond)
	}
	timer := time.NewTimer(period)
	defer timer.Stop()
	if !idle {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-timer.C:
		}
		if err := c.Noop().Wait(); err != nil {
			return fmt.Errorf("intake: noop: %w", err)
		}
		return nil
	}
	cmd, err := c.Idle()
	if err != nil {
		return fmt.Errorf("intake: idle: %w", err)
	}
	select {
	case <-ctx.Done():
	case <-wake:
	case <-c.Closed():
	case <-timer.C:
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("intake: idle done: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("intake: idle: %w", err)
	}
	return ctx.Err()
}
