// Package app wires unlockd together: the store, one IMAP watcher per
// configured mailbox, the outbox worker, the request sweeper and the HTTP
// server. main, the demo and end-to-end tests all start the real program
// through New and Run.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/unlockd/unlockd/internal/apply"
	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/metrics"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/senderauth"
	"github.com/unlockd/unlockd/internal/store"
)

// LoopID is the X-Loop value of our own mail.
const LoopID = "unlockd"

// Options are the seams tests and the demo use; production passes zero.
type Options struct {
	// LookupTXT replaces DNS for DKIM keys.
	LookupTXT func(ctx context.Context, name string) ([]string, error)
	// SweepInterval is how often queued requests are swept (closed or
	// expired); zero means every minute.
	SweepInterval time.Duration
	// Outbox, when set, adjusts the outbox worker's configuration (its
	// backoffs, say) before it is built.
	Outbox func(*outbox.Config)
	// Intake, when set, adjusts each watcher's configuration (the pause
	// before a deferred message is tried again, say) before it is built.
	Intake func(*intake.Config)
	// Apply, when set, adjusts the remote-unlock worker's configuration
	// (its backoffs, say) before it is built.
	Apply func(*apply.Config)
}

// App is a running unlockd.
type App struct {
	cfg      *config.Config
	opts     Options
	log      *slog.Logger
	Store    *store.Store
	metrics  *metrics.Metrics
	renderer *outbox.Renderer
	watchers []*intake.Watcher
	worker   *outbox.Worker
	// directories are the configured remote directories, by name, and
	// applier the worker carrying out their unlocks (nil without any).
	directories map[string]domain.Directory
	applier     *apply.Worker
	ln          net.Listener
	srv         *http.Server
	// metricsLn and metricsSrv serve /metrics alone, with
	// http.metrics_listen; nil otherwise.
	metricsLn  net.Listener
	metricsSrv *http.Server

	// prepared is set once the database answered and is migrated: the
	// watchers, worker and sweeper start then.
	prepared atomic.Bool
	health   health
}

// New opens the store, applies pending migrations when the database
// answers, builds every component and binds the HTTP listener; Run starts
// them. A database that is not reachable yet is no error: Run waits for it.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, opts Options) (*App, error) {
	st, err := store.New(cfg.Database.Driver, cfg.Database.DSN)
	if err != nil {
		return nil, err
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = time.Minute
	}
	st.SetPool(store.Pool{MaxOpen: cfg.Database.MaxOpenConns, MaxIdle: cfg.Database.MaxIdleConns})
	st.ReserveConns(len(cfg.Mailboxes)) // each mailbox lease holds one
	a := &App{cfg: cfg, opts: opts, log: log, Store: st}
	a.health.init()
	a.metrics = metrics.New(st.Stats, log)
	if err := a.build(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) build(ctx context.Context) error {
	// SQLite: one serving process per database file, so that the outbox
	// claims it finds are orphans of a dead predecessor.
	if err := a.Store.LockFile(); err != nil {
		return err
	}
	if err := a.prepare(ctx); err != nil && !store.IsUnavailable(err) {
		return err
	}
	var err error
	if a.directories, err = openDirectories(ctx, a.cfg, a.log); err != nil {
		return err
	}
	if a.cfg.SMTP.Address != "" {
		if err := a.buildWorker(); err != nil {
			return err
		}
	}
	a.buildApplier()
	if len(a.cfg.Mailboxes) > 0 {
		if a.worker == nil {
			return errors.New("app: mailboxes need smtp.address for their replies")
		}
		a.buildWatchers()
	}
	handler, err := a.handler()
	if err != nil {
		return err
	}
	if err := a.listen(handler); err != nil {
		return err
	}
	a.confirmLinks()
	return nil
}

func (a *App) buildWorker() error {
	cfg := outbox.Config{SMTP: a.cfg.SMTP, LoopID: LoopID,
		OnState:   a.smtpState,
		OnFailure: func(err error) { a.metrics.PeerFailure(metrics.PeerSMTP, isTimeout(err)) }}
	if a.opts.Outbox != nil {
		a.opts.Outbox(&cfg)
	}
	var err error
	if a.worker, err = outbox.New(cfg, a.Store, a.log.With("component", "outbox")); err != nil {
		return err
	}
	a.renderer, err = outbox.NewRenderer(a.cfg.TemplatesDir, a.cfg.SMTP.From, LoopID)
	return err
}

func (a *App) buildWatchers() {
	verifier := &senderauth.Verifier{Mode: senderauth.Mode(a.cfg.SenderAuth.Mode), AuthservID: a.cfg.SenderAuth.AuthservID,
		DNSResolver: a.cfg.SenderAuth.DNSResolver, DNSTimeout: a.cfg.SenderAuth.DNSTimeout.Std(), LookupTXT: a.opts.LookupTXT, Logger: a.log,
		MaxSignatureAge: a.cfg.SenderAuth.MaxSignatureAge.Std(), OnLookup: a.dnsState}
	log := a.log.With("component", "intake")
	pipe := &intake.Pipeline{Store: a.Store, Verifier: verifier, Render: a.renderer.Decision, Log: log,
		Directories: a.directories, LookedUp: a.directoryState,
		Decided: func(d store.Decided, took time.Duration) {
			a.metrics.Decided(d, took)
			a.worker.Wake()
			if a.applier != nil && d.Decision.Applying() {
				a.applier.Wake()
			}
		}}
	for _, mb := range a.cfg.Mailboxes {
		ic := intakeConfig(a.cfg, mb)
		if a.opts.Intake != nil {
			a.opts.Intake(&ic)
		}
		w := intake.New(ic, sourced{pipe}, sourcedCheckpoints{a.Store}, log)
		w.Lease = a.lease
		a.metrics.Watching(mb.Name)
		name := mb.Name
		w.OnState = func(st intake.State, cause error) { a.mailboxState(name, st, cause) }
		a.watchers = append(a.watchers, w)
	}
}

// intakeConfig is the watcher configuration of one mailbox.
func intakeConfig(cfg *config.Config, mb config.Mailbox) intake.Config {
	return intake.Config{
		Name: mb.Name, Address: mb.IMAP.Address, TLS: mb.IMAP.TLS, CAFile: mb.IMAP.CAFile,
		Username: mb.IMAP.Username, Password: mb.IMAP.Password, OAuth2TokenCommand: mb.IMAP.OAuth2TokenCommand,
		Mailbox: mb.IMAP.Mailbox, ProcessedFolder: mb.IMAP.ProcessedFolder, RejectedFolder: mb.IMAP.RejectedFolder,
		IDLE: mb.IMAP.IDLE, PollInterval: mb.IMAP.PollInterval.Std(), MaxMessageBytes: int64(cfg.Limits.MaxMessageBytes),
		Timeout:    mb.IMAP.Timeout.Std(),
		DeferTries: cfg.Limits.DeferralTries, DeferMaxAge: cfg.Limits.DeferralMaxAge.Std(),
		FetchBudget: int64(cfg.Limits.FetchBudget),
	}
}

// Addr is the HTTP server's address.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Run runs every component until ctx ends, then stops them gracefully:
// watchers finish the message in hand, the worker the mail in hand, and the
// HTTP server its requests. The HTTP server starts at once; the others
// once the database answers and is migrated, which Run waits for, retrying,
// while /readyz says 503. It returns the first component failure.
func (a *App) Run(parent context.Context) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	var wg sync.WaitGroup
	run := func(name string, fn func(context.Context) error) {
		wg.Go(func() {
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				cancel(fmt.Errorf("app: %s: %w", name, err))
			}
		})
	}
	run("http", serve(a.srv, a.ln))
	if a.metricsSrv != nil {
		run("metrics", serve(a.metricsSrv, a.metricsLn))
	}
	run("start", func(ctx context.Context) error {
		if err := a.awaitDatabase(ctx); err != nil {
			return err
		}
		for _, w := range a.watchers {
			run("intake", w.Run)
		}
		if a.worker != nil {
			run("outbox", a.worker.Run)
		}
		if a.applier != nil {
			run("apply", a.applier.Run)
		}
		run("sweeper", a.sweep)
		a.log.Info("unlockd running", "http", a.Addr(), "mailboxes", len(a.watchers))
		return nil
	})
	<-ctx.Done()
	wg.Wait()
	if parent.Err() != nil {
		return nil // asked to stop
	}
	return context.Cause(ctx) // a component failed
}

// Close releases the store and the listeners.
func (a *App) Close() error {
	a.closeDirectories()
	a.ln.Close()
	if a.metricsLn != nil {
		a.metricsLn.Close()
	}
	return a.Store.Close()
}
