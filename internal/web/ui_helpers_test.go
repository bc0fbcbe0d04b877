package web_test

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
	"github.com/unlockd/unlockd/internal/web"
)

// Operators of the UI fixture; all share uiPassword.
const (
	uiStaff       = "staff@unlockd.example"
	uiAdminAcme   = "admin@acme.example"
	uiAdminGlobex = "admin@globex.example"
	uiPassword    = "correct horse battery"
)

// uiClock is the fixture's settable clock, shared by the server and the
// store.
type uiClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *uiClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *uiClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// uiFixture is a UI server over a seeded SQLite store: orgs acme and globex;
// acme's alice locked for failed logins, with one request for her queued
// (from a contact whose mail was not authenticated), and bob active;
// globex's gus locked by an admin; a staff operator and one admin per org.
type uiFixture struct {
	Store   *store.Store
	Clock   *uiClock
	Server  *httptest.Server
	Site    *web.Server
	Request int64 // the queued request for acme's alice
}

func newUIFixture(t *testing.T) *uiFixture {
	t.Helper()
	return newUIFixtureWith(t, nil)
}

// newUIFixtureWith is newUIFixture with the server's configuration changed
// by tweak. Unless tweak says otherwise, nobody must enrol a second factor
// and a client may try signing in a thousand times at once: the tests of
// those rules set them.
func newUIFixtureWith(t *testing.T, tweak func(*web.Config)) *uiFixture {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, storetest.Engine{Name: store.SQLite})
	clock := &uiClock{t: time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)}
	st.Now = clock.Now
	f := &uiFixture{Store: st, Clock: clock}
	for _, slug := range []string{"acme", "globex"} {
		if _, err := st.CreateOrg(ctx, domain.Org{Slug: slug, Name: strings.ToUpper(slug[:1]) + slug[1:] + " Ltd", Policy: domain.DefaultPolicy()}); err != nil {
			t.Fatal(err)
		}
	}
	now := clock.Now()
	users := []struct {
		org  string
		user domain.User
	}{
		{"acme", domain.User{Username: "alice", DisplayName: "Alice Archer", FailedLogins: 5, LastFailedAt: now,
			Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: now.Add(-time.Hour), By: domain.ActorSystem, Note: "too many failed logins"}}},
		{"acme", domain.User{Username: "bob", DisplayName: "Bob Baker", FailedLogins: 2, LastFailedAt: now}},
		{"globex", domain.User{Username: "gus", Lock: &domain.Lock{Reason: domain.LockAdmin, At: now, By: "operator:x@globex.example", Note: "left"}}},
	}
	for _, u := range users {
		if _, err := st.CreateUser(ctx, u.org, u.user, "test", "cli"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.AddContact(ctx, "acme", domain.Contact{Email: "it@acme.example", Name: "IT desk"}, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	msg := store.Message{Mailbox: "support", Key: "<req-1@acme.example>", MessageID: "<req-1@acme.example>",
		Subject: "Please unlock alice", ReceivedAt: now.Add(-5 * time.Minute)}
	d, err := st.Decide(ctx, msg, domain.Facts{Sender: "it@acme.example",
		Proof: domain.Proof{Detail: "no DKIM signature"}, Usernames: domain.NamesIn(domain.InSubject, "alice")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := st.ListRequests(ctx, store.RequestFilter{State: domain.ItemPending})
	if err != nil || len(reqs) != 1 || reqs[0].DecisionID != d.ID {
		t.Fatalf("seeded queue = %+v, %v; want alice's request", reqs, err)
	}
	f.Request = reqs[0].ID
	hash, err := password.Hash(uiPassword, password.Params{Time: 1, Memory: 1024, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []store.Operator{{Email: uiStaff, Role: domain.RoleStaff},
		{Email: uiAdminAcme, Role: domain.RoleAdmin, OrgSlug: "acme"},
		{Email: uiAdminGlobex, Role: domain.RoleAdmin, OrgSlug: "globex"}} {
		if _, err := st.AddOperator(ctx, op, hash, "test", "cli"); err != nil {
			t.Fatal(err)
		}
	}
	cfg := web.Config{Store: st, Now: clock.Now, RequireTOTP: web.RequireTOTPNone, SignIn: web.SignInLimits{ClientBurst: 1000}}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.Site = srv
	f.Server = httptest.NewServer(srv)
	t.Cleanup(f.Server.Close)
	return f
}

// uiBrowser is an HTTP client with cookies that does not follow redirects
// and remembers the CSRF token of the last page it read.
type uiBrowser struct {
	t    *testing.T
	f    *uiFixture
	http *http.Client
	csrf string
}

func (f *uiFixture) browser(t *testing.T) *uiBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &uiBrowser{t: t, f: f, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signedIn returns a browser signed in as email.
func (f *uiFixture) signedIn(t *testing.T, email string) *uiBrowser {
	t.Helper()
	b := f.browser(t)
	b.signIn(email, uiPassword).want(http.StatusSeeOther, "/")
	b.get("/queue").want(http.StatusOK, "")
	return b
}

// uiPage is a response, its body read.
type uiPage struct {
	t      *testing.T
	Status int
	Header http.Header
	Body   string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *uiBrowser) do(req *http.Request) *uiPage {
	b.t.Helper()
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	if m := csrfField.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return &uiPage{t: b.t, Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

func (b *uiBrowser) get(path string) *uiPage {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.f.Server.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post submits a copy of form with the browser's CSRF token unless form
// has one; header adds headers as name, value pairs.
func (b *uiBrowser) post(path string, form url.Values, header ...string) *uiPage {
	b.t.Helper()
	form = maps.Clone(form)
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, b.f.Server.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// signIn loads the sign-in form, for its token, and submits it.
func (b *uiBrowser) signIn(email, pw string) *uiPage {
	b.t.Helper()
	b.get("/signin")
	return b.post("/signin", url.Values{"email": {email}, "password": {pw}})
}

// follow reads the page a redirect points to.
func (b *uiBrowser) follow(p *uiPage) *uiPage {
	b.t.Helper()
	if p.Status != http.StatusSeeOther {
		b.t.Fatalf("status %d, want a redirect (303); body:\n%s", p.Status, p.Body)
	}
	return b.get(p.Header.Get("Location"))
}

// want checks the status and, for a redirect, that Location starts with
// location; for another status, that the body contains location when set.
func (p *uiPage) want(status int, location string) *uiPage {
	p.t.Helper()
	if p.Status != status {
		p.t.Fatalf("status %d, want %d; Location %q; body:\n%s", p.Status, status, p.Header.Get("Location"), p.Body)
	}
	if status == http.StatusSeeOther && !strings.HasPrefix(p.Header.Get("Location"), location) {
		p.t.Fatalf("redirect to %q, want %q", p.Header.Get("Location"), location)
	}
	if status != http.StatusSeeOther && !strings.Contains(p.Body, location) {
		p.t.Fatalf("page does not contain %q:\n%s", location, p.Body)
	}
	return p
}

// user returns a user of the fixture's store.
func (f *uiFixture) user(t *testing.T, org, username string) domain.User {
	t.Helper()
	u, err := f.Store.User(context.Background(), org, username)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
