package sqltable

import (
	"context"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
)

// A database that hangs, refuses connections, or holds the row in a lock
// makes every call fail Temporary within about the timeout.
func TestUnavailableIsTemporary(t *testing.T) {
	const timeout = time.Second
	// The answer is due within the timeout, plus pgGrace for a silent
	// PostgreSQL server; allow a little more for a busy machine.
	const slack = pgGrace + time.Second
	runEngines(t, func(t *testing.T, e engine) {
		seed(t, e)
		ctx := context.Background()
		within := func(t *testing.T, what string, call func() error) {
			t.Helper()
			start := time.Now()
			err := call()
			took := time.Since(start)
			if !domain.IsTemporary(err) {
				t.Errorf("%s = %v, want a temporary error", what, err)
			}
			if took > timeout+slack {
				t.Errorf("%s took %v, want about the timeout %v", what, took, timeout)
			}
			t.Logf("%s: %v after %v", what, err, took.Round(time.Millisecond))
		}

		t.Run("hanging", func(t *testing.T) {
			p := startProxy(t, serverAddr(t, e))
			c := appConfig(e)
			c.DSN, c.Timeout = viaAddr(t, e, p.addr()), timeout
			d := mustOpen(t, c)
			ann, ok := mustLookup(t, d, acme, "ann")
			if !ok {
				t.Fatal("ann not found through the proxy")
			}
			p.freeze()
			within(t, "lookup", func() error { _, err := d.Lookup(ctx, acme, []string{"ann"}); return err })
			within(t, "unlock", func() error { return d.Unlock(ctx, acme, "ann", *ann.Lock) })
			within(t, "ping", func() error { return d.Ping(ctx) })
			p.shut()
			if s := rowState(t, e, "acme", "ann"); len(s) != 1 || s[0] != "locked failed" {
				t.Errorf("acme/ann after unlocks that timed out: %v", s)
			}
		})

		t.Run("down", func(t *testing.T) {
			p := startProxy(t, serverAddr(t, e))
			c := appConfig(e)
			c.DSN, c.Timeout = viaAddr(t, e, p.addr()), timeout
			d := mustOpen(t, c)
			p.shut()
			within(t, "lookup", func() error { _, err := d.Lookup(ctx, acme, []string{"ann"}); return err })
			within(t, "lock", func() error { return d.Lock(ctx, acme, "carol", "x") })
			within(t, "open", func() error {
				d, err := Open(ctx, "app", c)
				if err == nil {
					d.Close()
				}
				return err
			})
		})

		t.Run("row held by another transaction", func(t *testing.T) {
			c := appConfig(e)
			c.Timeout = timeout
			d := mustOpen(t, c)
			ann, _ := mustLookup(t, d, acme, "ann")
			tx, err := mustDB(t, e).Begin()
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.Exec(`UPDATE app_users SET full_name = 'held' WHERE tenant = 'acme' AND login = 'ann'`); err != nil {
				t.Fatal(err)
			}
			within(t, "unlock", func() error { return d.Unlock(ctx, acme, "ann", *ann.Lock) })
			tx.Rollback()
			if err := d.Unlock(ctx, acme, "ann", *ann.Lock); err != nil {
				t.Errorf("unlock once the row is free: %v", err)
			}
		})
	})
}
