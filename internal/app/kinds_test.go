package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
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
			u := domain.User{Username: username}
			if reason != "" {
				u.Lock = &domain.Lock{Reason: domain.LockReason(reason), At: time.Now(), By: "test", Note: "set by the test"}
			}
			if u.Lock != nil && u.Lock.Reason == domain.LockFailedLogins {
				u.FailedLogins, u.LastFailedAt = 5, time.Now() // as the failures that locked it left it
			}
			if _, err := r.App.Store.CreateUser(r.Ctx, "acme", u, "test", "cli"); err != nil {
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
// lock; the API's unlock, then the UI's unlock (signed in as the org's admin)
// and its bulk reset, change the directory, audited naming it; the admin
// lock survives all of it.
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
				acc.lock(t, "fred", "failed_logins")
				if code, body := post(t, r.App, token, "/api/v1/orgs/acme/users/ann/unlock"); code != http.StatusOK || !strings.Contains(body, `"status":"active"`) {
					t.Errorf("the API's unlock = %d %s", code, body)
				}
				// The UI, as acme's admin: unlock erin from her page, then the
				// bulk reset on the org page lifts fred's lock and not boss's.
				ui := uiSignIn(t, r.App, "admin@acme.example")
				if p := ui.submit(t, "/orgs/acme/users/erin", "/orgs/acme/users/erin/unlock"); p.status != http.StatusOK {
					t.Errorf("the UI's unlock = %d\n%s", p.status, p.body)
				}
				if s := acc.state(t, "erin"); s != "active" {
					t.Errorf("erin after the UI's unlock: %s", s)
				}
				if p := ui.submit(t, "/orgs/acme", "/orgs/acme/reset-failed-logins"); p.status != http.StatusOK {
					t.Errorf("the UI's bulk reset = %d\n%s", p.status, p.body)
				}
				for user, want := range map[string]string{"ann": "active", "erin": "active", "fred": "active", "boss": "locked admin", "jsmith": "active"} {
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
				if got := strings.Join(unlocked, " "); got != "fred erin ann" {
					t.Errorf("HTTP unlocks audited with %q: %q, want fred erin ann", k.apiAudit, got)
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

// uiClient is a browser's cookies, signed in to the web UI.
type uiClient struct {
	c    *http.Client
	base string
}

// uiSignIn adds email as an admin of acme and signs in through the form.
func uiSignIn(t *testing.T, a *app.App, email string) *uiClient {
	t.Helper()
	const pw = "correct horse battery staple 7"
	hash, err := password.Hash(pw, password.Params{Time: 1, Memory: 64, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.AddOperator(context.Background(), store.Operator{Email: email, Role: domain.RoleAdmin, OrgSlug: "acme"}, hash, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	u := &uiClient{c: &http.Client{Jar: jar}, base: "http://" + a.Addr()}
	if p := u.submitForm(t, "/signin", "/signin", url.Values{"email": {email}, "password": {pw}}); p.status != http.StatusOK || strings.Contains(p.body, `action="/signin"`) {
		t.Fatalf("sign-in = %d\n%s", p.status, p.body)
	}
	return u
}

// submit opens page and posts the form whose action is action, with the
// page's CSRF token; redirects are followed.
func (u *uiClient) submit(t *testing.T, page, action string) page {
	t.Helper()
	return u.submitForm(t, page, action, url.Values{})
}

func (u *uiClient) submitForm(t *testing.T, pagePath, action string, form url.Values) page {
	t.Helper()
	p := fetch(t, u.c, http.MethodGet, u.base+pagePath, nil)
	if !strings.Contains(p.body, `action="`+action+`"`) {
		t.Fatalf("%s (%d) has no form posting to %s:\n%s", pagePath, p.status, action, p.body)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(p.body)
	if csrf == nil {
		t.Fatalf("%s has no CSRF token", pagePath)
	}
	form.Set("csrf", csrf[1])
	req, _ := http.NewRequest(http.MethodPost, u.base+action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", u.base)
	resp, err := u.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(b)}
}
