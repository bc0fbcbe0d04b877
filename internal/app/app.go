// Package app wires unlockd together: the store, one IMAP watcher per
// configured mailbox, the outbox worker and the HTTP server. main, the demo
// and end-to-end tests all start the real program through New and Run.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/intake"
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
}

// App is a running unlockd.
type App struct {
	cfg      *config.Config
	log      *slog.Logger
	Store    *store.Store
	watchers []*intake.Watcher
	worker   *outbox.Worker
	ln       net.Listener
	srv      *http.Server

	mu        sync.Mutex
	connected map[string]time.Time // mailbox name -> last successful select
}

// New opens the store, applies pending migrations, builds every component
// and binds the HTTP listener; Run starts them.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, opts Options) (*App, error) {
	st, err := store.Open(ctx, cfg.Database.Driver, cfg.Database.DSN)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, Store: st, connected: map[string]time.Time{}}
	if err := a.build(ctx, opts); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) build(ctx context.Context, opts Options) error {
	n, err := a.Store.Migrate(ctx)
	if err != nil {
		return err
	}
	a.log.Info("database ready", "driver", a.cfg.Database.Driver, "migrations_applied", n)
	if a.cfg.SMTP.Address != "" {
		if a.worker, err = outbox.New(outbox.Config{SMTP: a.cfg.SMTP, LoopID: LoopID}, a.Store, a.log.With("component", "outbox")); err != nil {
			return err
		}
	}
	if len(a.cfg.Mailboxes) > 0 {
		if err := a.buildWatchers(opts); err != nil {
			return err
		}
	}
	a.ln, err = net.Listen("tcp", a.cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("app: http.listen %s: %w", a.cfg.HTTP.Listen, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", a.readyz)
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return nil
}

func (a *App) buildWatchers(opts Options) error {
	if a.worker == nil {
		return errors.New("app: mailboxes need smtp.address for their replies")
	}
	renderer, err := outbox.NewRenderer(a.cfg.TemplatesDir, a.cfg.SMTP.From, LoopID)
	if err != nil {
		return err
	}
	verifier := &senderauth.Verifier{Mode: senderauth.Mode(a.cfg.SenderAuth.Mode), AuthservID: a.cfg.SenderAuth.AuthservID,
		DNSResolver: a.cfg.SenderAuth.DNSResolver, LookupTXT: opts.LookupTXT, Logger: a.log}
	for _, mb := range a.cfg.Mailboxes {
		log := a.log.With("component", "intake")
		pipe := &intake.Pipeline{Store: a.Store, Verifier: verifier, Render: renderer.Decision, Decided: a.worker.Wake, Log: log}
		w := intake.New(intake.Config{
			Name: mb.Name, Address: mb.IMAP.Address, TLS: mb.IMAP.TLS, CAFile: mb.IMAP.CAFile,
			Username: mb.IMAP.Username, Password: mb.IMAP.Password, OAuth2TokenCommand: mb.IMAP.OAuth2TokenCommand,
			Mailbox: mb.IMAP.Mailbox, ProcessedFolder: mb.IMAP.ProcessedFolder, RejectedFolder: mb.IMAP.RejectedFolder,
			IDLE: mb.IMAP.IDLE, PollInterval: mb.IMAP.PollInterval.Std(), MaxMessageBytes: int64(a.cfg.Limits.MaxMessageBytes),
		}, pipe, a.Store, log)
		name := mb.Name
		w.OnConnect = func() {
			a.mu.Lock()
			a.connected[name] = time.Now()
			a.mu.Unlock()
		}
		a.watchers = append(a.watchers, w)
	}
	return nil
}

// Addr is the HTTP server's address.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Run runs every component until ctx ends, then stops them gracefully:
// watchers finish the message in hand, the worker the mail in hand, and the
// HTTP server its requests. It returns the first component failure.
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
	for _, w := range a.watchers {
		run("intake", w.Run)
	}
	if a.worker != nil {
		run("outbox", a.worker.Run)
	}
	run("http", func(ctx context.Context) error {
		go func() {
			<-ctx.Done()
			shutdown, done := context.WithTimeout(context.Background(), 10*time.Second)
			defer done()
			a.srv.Shutdown(shutdown)
		}()
		if err := a.srv.Serve(a.ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	a.log.Info("unlockd running", "http", a.Addr(), "mailboxes", len(a.watchers))
	<-ctx.Done()
	wg.Wait()
	if parent.Err() != nil {
		return nil // asked to stop
	}
	return context.Cause(ctx) // a component failed
}

// Close releases the store and the listener.
func (a *App) Close() error {
	a.ln.Close()
	return a.Store.Close()
}

// readyz reports the store and each mailbox: 200 when the store answers,
// 503 otherwise; mailboxes that are retrying do not make it unready.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	status := map[string]any{}
	code := http.StatusOK
	if err := a.Store.Ping(r.Context()); err != nil {
		status["store"], code = "unreachable", http.StatusServiceUnavailable
	} else {
		status["store"] = "ok"
	}
	mailboxes := map[string]string{}
	a.mu.Lock()
	for _, mb := range a.cfg.Mailboxes {
		if at, ok := a.connected[mb.Name]; ok {
			mailboxes[mb.Name] = "connected since " + at.UTC().Format(time.RFC3339)
		} else {
			mailboxes[mb.Name] = "connecting or retrying"
		}
	}
	a.mu.Unlock()
	status["mailboxes"] = mailboxes
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(status)
}
