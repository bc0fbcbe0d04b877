package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/app"
	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// testConfig is a full configuration pointing at in-process peers.
func testConfig(t *testing.T, e storetest.Engine, imapAddr, smtpAddr string) *config.Config {
	cfg := config.Default()
	cfg.Database = config.Database{Driver: e.Name, DSN: storetest.DSN(t, e)}
	mb := config.DefaultMailbox("support")
	mb.IMAP.Address, mb.IMAP.TLS = imapAddr, config.TLSNone
	mb.IMAP.Username, mb.IMAP.Password = mailtest.IMAPUser, mailtest.IMAPPassword
	mb.IMAP.ProcessedFolder, mb.IMAP.RejectedFolder = "Processed", "Rejected"
	cfg.Mailboxes = []config.Mailbox{mb}
	cfg.SMTP.Address, cfg.SMTP.TLS, cfg.SMTP.From = smtpAddr, config.TLSNone, "support@unlockd.example"
	cfg.SenderAuth.Mode = config.SenderAuthDKIM
	cfg.HTTP.Listen = "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	return cfg
}

// TestServeEndToEnd starts the whole program through app.New and Run and
// drives it only through its peers: mail in over IMAP, replies out over
// SMTP, health over HTTP.
func TestServeEndToEnd(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			r := startApp(t, e)
			a, ctx, imapSrv, smtpSrv := r.App, r.Ctx, r.IMAP, r.SMTP

			imapSrv.Append(t, "INBOX", r.Signer.Sign([]byte("From: IT <it@acme.example>\r\nTo: support@unlockd.example\r\n"+
				"Subject: Unlock: jsmith\r\nMessage-ID: <e2e-1@acme.example>\r\n\r\nPlease unlock jsmith.\r\n")))
			msgs := smtpSrv.WaitMessages(t, 1, 10*time.Second)
			if to := msgs[0].To; len(to) != 1 || to[0] != "it@acme.example" {
				t.Errorf("reply to %v, want it@acme.example", to)
			}
			if body := string(msgs[0].Data); !strings.Contains(body, "In-Reply-To: <e2e-1@acme.example>") || !strings.Contains(body, "jsmith: unlocked") {
				t.Errorf("reply does not answer the request:\n%s", body)
			}
			if u, err := a.Store.User(ctx, "acme", "jsmith"); err != nil || u.Lock != nil {
				t.Errorf("jsmith after the request: %+v, %v", u, err)
			}

			if code, _ := get(t, a, "/healthz"); code != http.StatusOK {
				t.Errorf("/healthz = %d", code)
			}
			code, body := get(t, a, "/readyz")
			var ready readiness
			if err := json.Unmarshal([]byte(body), &ready); err != nil || code != http.StatusOK || ready.Store.State != "ok" ||
				ready.SMTP.State != "ok" || ready.Mailboxes["support"].State != "connected" || ready.Mailboxes["support"].Since.IsZero() {
				t.Errorf("/readyz = %d %s (%v)", code, body, err)
			}

			// The API answers through the same server, with the user's new state.
			token, hash := password.NewToken()
			if _, err := a.Store.CreateToken(ctx, store.Token{Name: "e2e", Role: domain.RoleStaff}, hash, "test", "cli"); err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, "http://"+a.Addr()+"/api/v1/orgs/acme/users/jsmith", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			apiBody, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(apiBody), `"status":"active"`) {
				t.Errorf("GET user through the API = %d %s, want 200 and active", resp.StatusCode, apiBody)
			}

			code, body = get(t, a, "/metrics")
			for _, want := range []string{
				`unlockd_decisions_total{verdict="accepted"} 1`,
				`unlockd_unlocks_total{channel="email"} 1`,
				`unlockd_decision_duration_seconds_count 1`,
				`unlockd_queue_depth 0`,
				`unlockd_outbox_mail{status="dead"} 0`,
				`unlockd_imap_reconnects_total{mailbox="support"} 0`,
				`unlockd_mailbox_connected{mailbox="support"} 1`,
				`unlockd_peer_failures_total{kind="timeout",peer="imap"} 0`,
			} {
				if code != http.StatusOK || !strings.Contains(body, want) {
					t.Errorf("/metrics (%d) lacks %q", code, want)
				}
			}

			r.stop(t)
		})
	}
}

func seed(t *testing.T, a *app.App) {
	t.Helper()
	ctx := context.Background()
	if _, err := a.Store.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: domain.DefaultPolicy()}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.AddContact(ctx, "acme", domain.Contact{Email: "it@acme.example"}, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.CreateUser(ctx, "acme", domain.User{Username: "jsmith",
		Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: time.Now()}}, "test", "cli"); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, a *app.App, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s%s", a.Addr(), path))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
