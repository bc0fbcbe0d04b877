package app_test

import (
	"context"
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
	"github.com/unlockd/unlockd/internal/ldaptest"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/senderauth/senderauthtest"
	"github.com/unlockd/unlockd/internal/sqltabletest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
	"github.com/unlockd/unlockd/internal/webhooktest"
)

// startDirectoryApp starts the program with org acme (contact
// it@acme.example) in directory d; d.Name empty means builtin.
func startDirectoryApp(t *testing.T, e storetest.Engine, d config.Directory, opts app.Options, tries int) *running {
	t.Helper()
	r := &running{IMAP: mailtest.StartIMAP(t, mailtest.IMAPOptions{}), SMTP: mailtest.StartSMTP(t),
		Signer: senderauthtest.NewSigner(t, "acme.example"), done: make(chan error, 1)}
	r.Ctx, r.cancel = context.WithCancel(context.Background())
	t.Cleanup(r.cancel)
	cfg := testConfig(t, e, r.IMAP.Addr, r.SMTP.Addr)
	if d.Name != "" {
		cfg.Directories = []config.Directory{d}
	}
	cfg.Limits.DeferralTries = 50
	if tries > 0 {
		cfg.Limits.DeferralTries = tries
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	opts.LookupTXT = r.Signer.LookupTXT
	a, err := app.New(r.Ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	r.App = a
	ctx := context.Background()
	if _, err := a.Store.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: domain.DefaultPolicy(), Directory: d.Name}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.AddContact(ctx, "acme", domain.Contact{Email: "it@acme.example"}, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- a.Run(r.Ctx) }()
	return r
}

// accounts are org acme's accounts wherever its directory keeps them:
// lock sets a failed-login ("failed_logins") or admin ("admin") lock, or
// makes the account active (""); state reads it back, "active" or
// "locked <reason>", from the directory itself.
type accounts struct {
	lock  func(t *testing.T, username, reason string)
	state func(t *testing.T, username string) string
}

// kind is one directory kind of the end-to-end test: its directories
// entry (empty Name for builtin) and, once the program runs, its accounts.
type kind struct {
	name     string
	dir      func(t *testing.T) (config.Directory, func(r *running) accounts)
	apiAudit string // what the API's unlock's audit note says
}

var kinds = []kind{
	{name: "builtin", dir: func(t *testing.T) (config.Directory, func(r *running) accounts) {
		return config.Directory{}, func(r *running) accounts { return builtinAccounts(r) }
	}},
	{name: "ldap", apiAudit: "in directory corp", dir: func(t *testing.T) (config.Directory, func(r *running) accounts) {
		slapd := ldaptest.Start(t)
		orgDN := slapd.AddOrg(t, "acme")
		return corpDirectory(slapd), func(*running) accounts { return ldapAccounts(slapd, orgDN) }
	}},
	{name: "sql", apiAudit: "in directory appdb", dir: func(t *testing.T) (config.Directory, func(r *running) accounts) {
		db := sqltabletest.NewApp(t)
		return appDirectory(db), func(*running) accounts {
			return accounts{
				lock:  func(t *testing.T, username, reason string) { db.Add(t, "acme", username, reason) },
				state: func(t *testing.T, username string) string { return db.State(t, "acme", username) },
			}
		}
	}},
	{name: "webhook", apiAudit: "in directory hook", dir: func(t *testing.T) (config.Directory, func(r *running) accounts) {
		hook := webhooktest.Start(t)
		d := config.Directory{Name: "hook", Kind: config.DirectoryWebhook, URL: hook.URL, Secret: webhooktest.Secret,
			CAFile: hook.CAFile, Timeout: config.Duration(3 * time.Second)}
		return d, func(*running) accounts {
			return accounts{
				lock:  func(_ *testing.T, username, reason string) { hook.Set("acme", username, reason) },
				state: func(_ *testing.T, username string) string { return hook.State("acme", username) },
			}
		}
	}},
}

// builtinAccounts keeps acme's accounts in unlockd's own users table.
func builtinAccounts(r *running) accounts {
	return accounts{
		lock: func(t *testing.T, username, reason string) {
			var l *domain.Lock
			if reason != "" {
				l = &domain.Lock{Reason: domain.LockReason(reason), At: time.Now(), By: "test", Note: "set by the test"}
			}
			if _, err := r.App.Store.CreateUser(r.Ctx, "acme", domain.User{Username: username, Lock: l}, "test", "cli"); err != nil {
				t.Fatal(err)
			}
		},
		state: func(t *testing.T, username string) string {
			u, err := r.App.Store.User(r.Ctx, "acme", username)
			if err != nil {
				t.Fatal(err)
			}
			if u.Lock == nil {
				return "active"
			}
			return "locked " + string(u.Lock.Reason)
		},
	}
}

// ldapAccounts keeps acme's accounts in slapd, locked by real failed binds
// or with ppolicy's admin lock value.
func ldapAccounts(slapd *ldaptest.Server, orgDN string) accounts {
	dns := map[string]string{}
	return accounts{
		lock: func(t *testing.T, username, reason string) {
			switch reason {
			case "failed_logins":
				dns[username] = lockedByBinds(t, slapd, orgDN, username)
			case "admin":
				dns[username] = slapd.AddUser(t, orgDN, ldaptest.User{Username: username, Password: "pw-" + username,
					Attrs: map[string][]string{"pwdAccountLockedTime": {"000001010000Z"}}})
			default:
				dns[username] = slapd.AddUser(t, orgDN, ldaptest.User{Username: username, Password: "pw-" + username})
			}
		},
		state: func(t *testing.T, username string) string {
			switch v := slapd.Attr(t, dns[username], "pwdAccountLockedTime"); {
			case len(v) == 0:
				return "active"
			case v[0] == "000001010000Z":
				return "locked admin"
			}
			return "locked failed_logins"
		},
	}
}

// TestServeEndToEndPerDirectoryKind runs the program once per directory
// kind (builtin, ldap on a real slapd, sql on MariaDB, webhook on an
// in-process HTTPS application checking signatures) and engine: a signed
// request unlocks a failed-login lock in the directory and queues an admin
// lock; the API's unlock and bulk reset change the directory, audited
// naming it; the admin lock survives all of it.
func TestServeEndToEndPerDirectoryKind(t *testing.T) {
	for _, k := range kinds {
		for _, e := range storetest.Engines() {
			t.Run(k.name+"/"+e.Name, func(t *testing.T) {
				d, open := k.dir(t)
				r := startDirectoryApp(t, e, d, app.Options{}, 0)
				acc := open(r)
				acc.lock(t, "jsmith", "failed_logins")
				acc.lock(t, "boss", "admin")

				r.IMAP.Append(t, "INBOX", r.signedRequest("kind-1@acme.example", "jsmith", "boss"))
				got := waitReply(t, r.SMTP, "kind-1@acme.example", 1)
				for _, want := range []string{"jsmith: unlocked", "boss: queued for review: locked deliberately"} {
					if !strings.Contains(got.text, want) {
						t.Errorf("the reply does not say %q:\n%s", want, got.text)
					}
				}
				if s := acc.state(t, "jsmith"); s != "active" {
					t.Errorf("jsmith after the request: %s", s)
				}

				token, hash := password.NewToken()
				if _, err := r.App.Store.CreateToken(r.Ctx, store.Token{Name: "admin", Role: domain.RoleAdmin, OrgSlug: "acme"}, hash, "test", "cli"); err != nil {
					t.Fatal(err)
				}
				acc.lock(t, "ann", "failed_logins")
				acc.lock(t, "erin", "failed_logins")
				if code, body := post(t, r.App, token, "/api/v1/orgs/acme/users/ann/unlock"); code != http.StatusOK || !strings.Contains(body, `"status":"active"`) {
					t.Errorf("the API's unlock = %d %s", code, body)
				}
				code, body := post(t, r.App, token, "/api/v1/orgs/acme/users/reset-failed-logins")
				if code != http.StatusOK || body != `{"unlocked":["erin"]}` {
					t.Errorf("the bulk reset = %d %s", code, body)
				}
				for user, want := range map[string]string{"ann": "active", "erin": "active", "boss": "locked admin", "jsmith": "active"} {
					if s := acc.state(t, user); s != want {
						t.Errorf("%s = %s, want %s", user, s, want)
					}
				}
				entries, err := r.App.Store.ListAudit(r.Ctx, store.AuditFilter{OrgSlug: "acme", Limit: 50})
				if err != nil {
					t.Fatal(err)
				}
				var unlocked []string
				for _, en := range entries {
					if en.Action == domain.ActionUnlock && strings.HasPrefix(en.Source, "http:") && strings.Contains(en.Note, k.apiAudit) {
						unlocked = append(unlocked, en.Target)
					}
				}
				if got := strings.Join(unlocked, " "); got != "erin ann" {
					t.Errorf("HTTP unlocks audited with %q: %q, want erin ann", k.apiAudit, got)
				}
				r.stop(t)
			})
		}
	}
}

// post POSTs {} to path with the bearer token and returns the status and
// the body.
func post(t *testing.T, a *app.App, token, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://%s%s", a.Addr(), path), strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}
