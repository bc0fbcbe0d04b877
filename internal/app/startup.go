package app

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/unlockd/unlockd/internal/store"
)

// Backoff while the database is awaited at start.
const (
	dbMinBackoff = 500 * time.Millisecond
	dbMaxBackoff = 10 * time.Second
)

// prepare checks that the database answers, applies pending migrations
// and, on SQLite, hands back the outbox claims of a dead predecessor
// (LockFile makes them orphans). Once it succeeds the app is prepared.
func (a *App) prepare(ctx context.Context) error {
	if a.prepared.Load() {
		return nil
	}
	// The ping bounds the wait for a silent server; a migration's own
	// statements may then run long.
	if err := a.Store.Ping(ctx); err != nil {
		a.health.setStore(storeUnreachable, err)
		return err
	}
	n, err := a.Store.Migrate(ctx)
	if err != nil {
		a.health.setStore(storeUnreachable, err)
		return err
	}
	a.log.Info("database ready", "driver", a.cfg.Database.Driver, "migrations_applied", n)
	if err := a.checkOrgDirectories(ctx); err != nil {
		return err
	}
	if a.Store.Dialect() == store.SQLite {
		released, err := a.Store.ReleaseClaims(ctx)
		if err != nil {
			return err
		}
		if released > 0 {
			a.log.Warn("mail and directory unlocks claimed by a process that died are due again", "rows", released)
		}
	}
	a.health.setStore(storeOK, nil)
	a.prepared.Store(true)
	return nil
}

// awaitDatabase retries prepare, with backoff, while the database is
// unreachable; /readyz says 503 with the cause meanwhile. A database that
// answers with a permanent error (bad credentials, no such database, a
// failed migration) ends the wait with that error.
func (a *App) awaitDatabase(ctx context.Context) error {
	backoff := dbMinBackoff
	logged := ""
	for {
		err := a.prepare(ctx)
		if err == nil || ctx.Err() != nil || !store.IsUnavailable(err) {
			if err == nil && logged != "" {
				a.log.Info("database reachable; starting")
			}
			return err
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		if msg := err.Error(); msg != logged {
			logged = msg
			a.log.Warn("database unreachable; waiting for it", slog.Any("error", err), slog.Duration("retry_in", wait))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(backoff*2, dbMaxBackoff)
	}
}
