package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/app"
	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// start runs a over ctx until the test ends.
func start(t *testing.T, ctx context.Context, a *app.App) {
	t.Helper()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		a.Close()
	})
}

func newApp(t *testing.T, ctx context.Context, cfg *config.Config, opts app.Options) *app.App {
	t.Helper()
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestQueuedRequestExpiresWithAnswer: an unverified request is queued and
// answered; once request_ttl passes, the sweeper expires it and answers
// again, in the same thread.
func TestQueuedRequestExpiresWithAnswer(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			imapSrv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
			smtpSrv := mailtest.StartSMTP(t)
			ctx := context.Background()
			cfg := testConfig(t, e, imapSrv.Addr, smtpSrv.Addr)
			cfg.Limits.RequestTTL = config.Duration(time.Second)
			a := newApp(t, ctx, cfg, app.Options{SweepInterval: 100 * time.Millisecond})
			seed(t, a)
			start(t, ctx, a)

			imapSrv.Append(t, "INBOX", []byte("From: it@acme.example\r\nSubject: Unlock: jsmith\r\n"+
				"Message-ID: <ttl-1@acme.example>\r\n\r\nPlease.\r\n")) // unsigned: queued as unverified
			msgs := smtpSrv.WaitMessages(t, 2, 15*time.Second)
			first, second := string(msgs[0].Data), string(msgs[1].Data)
			if !strings.Contains(first, "jsmith: waiting for you to confirm") { // queued, with a confirmation link
				t.Errorf("first answer is not the queued reply:\n%s", first)
			}
			if !strings.Contains(second, "expired") || !strings.Contains(second, "In-Reply-To: <ttl-1@acme.example>") {
				t.Errorf("second answer is not the threaded expiry:\n%s", second)
			}
			if u, err := a.Store.User(ctx, "acme", "jsmith"); err != nil || u.Lock == nil {
				t.Errorf("jsmith after expiry = %+v, %v; want still locked", u, err)
			}
		})
	}
}

// TestTwoInstancesShareAMailbox runs two instances on one PostgreSQL
// database: one watches the mailbox, the other stands by, and takes over
// when the first stops. Every message is decided and answered once.
func TestTwoInstancesShareAMailbox(t *testing.T) {
	e := storetest.Engine{Name: store.Postgres}
	dsn := storetest.DSN(t, e)
	store.LeaseRetry = 100 * time.Millisecond
	imapSrv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
	smtpSrv := mailtest.StartSMTP(t)
	ctx := context.Background()
	cfg := testConfig(t, e, imapSrv.Addr, smtpSrv.Addr)
	cfg.Database.DSN = dsn
	cfg.SenderAuth.Mode = config.SenderAuthOff // the lease is under test, not DKIM

	first := newApp(t, ctx, cfg, app.Options{})
	seed(t, first)
	firstCtx, stopFirst := context.WithCancel(ctx)
	firstDone := make(chan error, 1)
	go func() { firstDone <- first.Run(firstCtx) }()
	waitReady(t, first, "connected")
	second := newApp(t, ctx, cfg, app.Options{})
	start(t, ctx, second)
	waitReady(t, second, "standby")

	imapSrv.Append(t, "INBOX", []byte("From: it@acme.example\r\nSubject: Unlock: jsmith\r\nMessage-ID: <i-1@acme.example>\r\n\r\n.\r\n"))
	smtpSrv.WaitMessages(t, 1, 10*time.Second)
	stopFirst()
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	first.Close()
	waitReady(t, second, "connected")
	imapSrv.Append(t, "INBOX", []byte("From: it@acme.example\r\nSubject: Unlock: jsmith\r\nMessage-ID: <i-2@acme.example>\r\n\r\n.\r\n"))
	msgs := smtpSrv.WaitMessages(t, 2, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // room for a wrong third reply
	if n := len(smtpSrv.Messages()); n != 2 {
		t.Errorf("%d replies for 2 requests, want 2", n)
	}
	if !strings.Contains(string(msgs[1].Data), "In-Reply-To: <i-2@acme.example>") {
		t.Errorf("second reply does not answer the second request:\n%s", msgs[1].Data)
	}
	if n, err := second.Store.CountDecisions(ctx, "support"); err != nil || n != 2 {
		t.Errorf("decisions = %d, %v; want 2", n, err)
	}
}

// readiness is the body of /readyz.
type readiness struct {
	Store     component            `json:"store"`
	SMTP      component            `json:"smtp"`
	DNS       component            `json:"dns"`
	Mailboxes map[string]component `json:"mailboxes"`
}

type component struct {
	State string    `json:"state"`
	Error string    `json:"error"`
	Since time.Time `json:"since"`
}

// ready returns /readyz's status and body.
func ready(t *testing.T, a *app.App) (int, readiness) {
	t.Helper()
	code, body := get(t, a, "/readyz")
	var r readiness
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("/readyz = %d %q: %v", code, body, err)
	}
	return code, r
}

// waitReady waits until /readyz reports the support mailbox in state and
// returns that report.
func waitReady(t *testing.T, a *app.App, state string) component {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, r := ready(t, a)
		if c := r.Mailboxes["support"]; c.State == state {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailbox never reached %s: %+v", state, r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
