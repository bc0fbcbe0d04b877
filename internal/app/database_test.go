package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/app"
	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// clusterConfig is testConfig on a private PostgreSQL cluster, with
// senders vouched for by Authentication-Results so that nothing but the
// database is under test.
func clusterConfig(t *testing.T, c *storetest.Cluster, imapAddr, smtpAddr string) *config.Config {
	cfg := testConfig(t, storetest.Engines()[0], imapAddr, smtpAddr)
	cfg.Database = config.Database{Driver: store.Postgres, DSN: c.DSN()}
	cfg.SenderAuth.Mode, cfg.SenderAuth.AuthservID = config.SenderAuthResults, "mx.unlockd.test"
	return cfg
}

func request(i int) []byte {
	return fmt.Appendf(nil, "From: it@acme.example\r\nAuthentication-Results: mx.unlockd.test; dmarc=pass header.from=acme.example\r\n"+
		"Subject: Unlock: user%d\r\nMessage-ID: <db-%d@acme.example>\r\n\r\nPlease.\r\n", i, i)
}

// seedN creates org acme, its contact, and users user0..user(n-1) locked
// for failed logins, with no hourly limit.
func seedN(t *testing.T, a *app.App, n int) {
	t.Helper()
	p := domain.DefaultPolicy()
	p.MaxRequestsPerHour = 0
	ctx := context.Background()
	if _, err := a.Store.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: p}); err != nil {
		t.Fatal(err)
	}
	users := make([]domain.User, n)
	for i := range users {
		users[i] = domain.User{Username: fmt.Sprintf("user%d", i), Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: time.Now()}}
	}
	if _, err := a.Store.Import(ctx, "acme", []domain.Contact{{Email: "it@acme.example"}}, users, "test", "cli"); err != nil {
		t.Fatal(err)
	}
}

// TestServeWaitsForPostgreSQL starts the program before its database:
// it does not exit, says why it waits in the log and in /readyz (503),
// and starts work once the server is up.
func TestServeWaitsForPostgreSQL(t *testing.T) {
	cluster := storetest.NewCluster(t) // created, not started
	imapSrv, smtpSrv := mailtest.StartIMAP(t, mailtest.IMAPOptions{}), mailtest.StartSMTP(t)
	logs := &syncBuffer{}
	ctx := context.Background()
	a, err := app.New(ctx, clusterConfig(t, cluster, imapSrv.Addr, smtpSrv.Addr), slog.New(slog.NewTextHandler(logs, nil)), app.Options{})
	if err != nil {
		t.Fatalf("New before the database is up: %v", err)
	}
	start(t, ctx, a)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "database unreachable; waiting for it") {
		if time.Now().After(deadline) {
			t.Fatalf("no log line about the wait:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	code, r := ready(t, a)
	if code != http.StatusServiceUnavailable || r.Store.State != "unreachable" || !strings.Contains(r.Store.Error, "refused") {
		t.Errorf("/readyz while waiting = %d %+v; want 503, store unreachable with the cause", code, r.Store)
	}
	cluster.Start(t)
	up := time.Now()
	waitReady(t, a, "connected")
	t.Logf("connected %v after PostgreSQL came up", time.Since(up).Round(time.Millisecond))
	if code, r := ready(t, a); code != http.StatusOK || r.Store.State != "ok" {
		t.Errorf("/readyz once up = %d %+v", code, r.Store)
	}
	seedN(t, a, 1)
	imapSrv.Append(t, "INBOX", request(0))
	smtpSrv.WaitMessages(t, 1, 10*time.Second)
}

// restartBacklog is how many requests wait when PostgreSQL is restarted:
// four intake batches, so that the restart lands in the middle of intake.
const restartBacklog = 4 * intake.DefaultBatchSize

// TestPostgreSQLRestartUnderBacklog stops PostgreSQL (as a crash would)
// in the middle of a backlog and starts it again: meanwhile intake pauses,
// the API answers 503 with the error shape at once, and /readyz says 503;
// afterwards every request is decided once and answered once.
func TestPostgreSQLRestartUnderBacklog(t *testing.T) {
	cluster := storetest.NewCluster(t)
	cluster.Start(t)
	imapSrv, smtpSrv := mailtest.StartIMAP(t, mailtest.IMAPOptions{}), mailtest.StartSMTP(t)
	ctx := context.Background()
	a := newApp(t, ctx, clusterConfig(t, cluster, imapSrv.Addr, smtpSrv.Addr), app.Options{})
	seedN(t, a, restartBacklog)
	token, hash := password.NewToken()
	if _, err := a.Store.CreateToken(ctx, store.Token{Name: "ops", Role: domain.RoleStaff}, hash, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	for i := range restartBacklog {
		imapSrv.Append(t, "INBOX", request(i))
	}
	start(t, ctx, a)
	decided := func() int {
		n, err := a.Store.CountDecisions(ctx, "support")
		if err != nil {
			return -1
		}
		return n
	}
	waitUntil(t, 30*time.Second, "the first decisions", func() bool { return decided() >= 30 })
	before := decided()
	cluster.Stop(t)
	t.Logf("PostgreSQL stopped after %d decisions and %d replies", before, len(smtpSrv.Messages()))
	if before >= restartBacklog {
		t.Fatalf("every request was decided before PostgreSQL stopped; make the backlog larger")
	}

	// The API answers at once, with the error shape.
	req, _ := http.NewRequest(http.MethodGet, "http://"+a.Addr()+"/api/v1/orgs", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	began := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var shape struct{ Error struct{ Code string } }
	if resp.StatusCode != http.StatusServiceUnavailable || json.Unmarshal(body, &shape) != nil || shape.Error.Code != "unavailable" {
		t.Errorf("API with PostgreSQL down = %d %s; want 503 with code unavailable", resp.StatusCode, body)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("the API took %v to answer", took)
	}
	if code, _ := ready(t, a); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with PostgreSQL down = %d, want 503", code)
	}
	waitReady(t, a, "retrying")
	time.Sleep(time.Second)
	cluster.Start(t)
	up := time.Now()
	waitUntil(t, 60*time.Second, "every decision and reply", func() bool {
		return decided() == restartBacklog && len(smtpSrv.Messages()) >= restartBacklog
	})
	t.Logf("backlog finished %v after PostgreSQL came back", time.Since(up).Round(time.Millisecond))
	time.Sleep(300 * time.Millisecond) // room for wrong extra replies
	replies := map[string]int{}
	for _, m := range smtpSrv.Messages() {
		for _, line := range strings.Split(string(m.Data), "\r\n") {
			if v, ok := strings.CutPrefix(line, "In-Reply-To: "); ok {
				replies[v]++
			}
		}
	}
	for i := range restartBacklog {
		if n := replies[fmt.Sprintf("<db-%d@acme.example>", i)]; n != 1 {
			t.Errorf("request %d got %d replies, want 1", i, n)
		}
	}
	if n := decided(); n != restartBacklog {
		t.Errorf("%d decisions for %d requests", n, restartBacklog)
	}
	locked, err := a.Store.ListUsers(ctx, "acme", store.UserFilter{Status: domain.StatusLocked, Limit: store.MaxLimit})
	if err != nil || len(locked) != 0 {
		t.Errorf("%d users still locked (%v), want none", len(locked), err)
	}
	if in := imapSrv.Count(t, "INBOX"); in != 0 {
		t.Errorf("%d messages left in INBOX", in)
	}
}

func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
