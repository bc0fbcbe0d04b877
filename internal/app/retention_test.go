package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/app"
	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestSweeperRunsRetention: a started app deletes, at once, the decisions
// past limits.retention and writes the audit entry, by system.
func TestSweeperRunsRetention(t *testing.T) {
	e := storetest.Engines()[0]
	cfg := config.Default()
	cfg.Database = config.Database{Driver: e.Name, DSN: storetest.DSN(t, e)}
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Limits.Retention = config.Duration(9 * 24 * time.Hour)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Two decisions ten days old and one of today, written beforehand.
	old := time.Now().Add(-10 * 24 * time.Hour)
	s, err := store.Open(ctx, cfg.Database.Driver, cfg.Database.DSN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return old }
	for _, key := range []string{"<a@x.example>", "<b@x.example>", "<c@x.example>"} {
		if key == "<c@x.example>" {
			s.Now = time.Now
		}
		if _, err := s.Decide(ctx, store.Message{Mailbox: "support", Key: key, MessageID: key}, domain.Facts{Sender: "x@x.example"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := a.Store.CountDecisions(ctx, "support")
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d decisions left after 20 s, want the one of today", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var entries []domain.AuditEntry
	for time.Now().Before(deadline) {
		if entries, err = a.Store.ListAudit(ctx, store.AuditFilter{Limit: 1}); err == nil && len(entries) == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(entries) != 1 || entries[0].Action != domain.ActionRetention || entries[0].Actor != domain.ActorSystem || entries[0].Target != "decisions" {
		t.Errorf("audit = %+v, want the retention entry", entries)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}
