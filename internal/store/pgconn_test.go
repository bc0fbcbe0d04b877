package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestSilentDatabaseIsUnavailable: a PostgreSQL link that stops
// forwarding without a FIN cannot hold a query for long: lib/pq would wait
// for ever, the connection's silence limit ends it, and the error counts
// as the database being unavailable.
func TestSilentDatabaseIsUnavailable(t *testing.T) {
	dsn := postgresDSN(t)
	proxy := mailtest.StartProxy(t, pgAddr(t, dsn))
	s, err := store.Open(ctx, store.Postgres, viaProxy(t, dsn, proxy.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Timeout = 300 * time.Millisecond // silence limit: 5.3 s
	proxy.Stall()
	start := time.Now()
	err = s.Ping(context.Background())
	took := time.Since(start)
	t.Logf("ping over a silent link: %v after %v", err, took)
	if err == nil || !store.IsUnavailable(err) {
		t.Errorf("Ping = %v, want an unavailable error", err)
	}
	if took > 8*time.Second {
		t.Errorf("the query was held %v, want about the silence limit", took)
	}
}

func TestIsUnavailable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{fmt.Errorf("store: x: %w", &pq.Error{Code: "57P01"}), true},
		{fmt.Errorf("store: x: %w", &pq.Error{Code: "08006"}), true},
		{fmt.Errorf("store: x: %w", &pq.Error{Code: "23505"}), false},
		{fmt.Errorf("store: x: %w", context.DeadlineExceeded), true},
		{domain.ErrNotFound, false},
		{sql.ErrNoRows, false},
		{errors.New("pq: syntax error"), false},
	} {
		if got := store.IsUnavailable(c.err); got != c.want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// postgresDSN returns a fresh schema's DSN on the PostgreSQL server the
// tests were given, or skips the test, with the reason, without one.
func postgresDSN(t *testing.T) string {
	t.Helper()
	for _, e := range storetest.Engines() {
		if e.Name == store.Postgres {
			return storetest.DSN(t, e)
		}
	}
	t.Skip("PostgreSQL tests skipped: set " + storetest.EnvPostgres)
	return ""
}

// pgAddr returns the host:port a PostgreSQL URL DSN names.
func pgAddr(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Fatalf("%s must be a postgres:// URL for this test", storetest.EnvPostgres)
	}
	return u.Host
}

// viaProxy points a PostgreSQL URL DSN at addr.
func viaProxy(t *testing.T, dsn, addr string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}
