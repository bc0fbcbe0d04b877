package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/web"
)

var ctx = context.Background()

// The two orgs of every API test: A, whose admin and service tokens the
// tests hold, and B, another org.
const (
	orgA = "acme"
	orgB = "globex"
)

// contactOf is the authorised contact of each test org.
func contactOf(org string) string { return "it@" + org + ".example" }

// Principals of the tests.
const (
	asStaff    = "staff"
	asAdminA   = "admin-a"
	asServiceA = "service-a"
	asNone     = "none"
	asRevoked  = "revoked"
)

// apiFixture is a store with orgs A and B, their contacts, API tokens for
// every principal, and an HTTP server over web.New.
type apiFixture struct {
	store  *store.Store
	url    string
	tokens map[string]string
	// answers counts the follow-up answers the server rendered.
	answers atomic.Int64
	seq     atomic.Int64
	// mu guards now, the clock of server and store.
	mu  sync.Mutex
	now time.Time
}

func newAPIFixture(t testing.TB, s *store.Store) *apiFixture {
	t.Helper()
	return newAPIFixtureWith(t, s, nil)
}

// newAPIFixtureWith is newAPIFixture with the server rendering answers with
// render; nil means the fixture's plain answers.
func newAPIFixtureWith(t testing.TB, s *store.Store, render store.FollowUpRenderer) *apiFixture {
	t.Helper()
	return newAPIFixtureConfig(t, s, render, nil)
}

// newAPIFixtureConfig is newAPIFixtureWith with the server's configuration
// changed by tweak, when it is not nil.
func newAPIFixtureConfig(t testing.TB, s *store.Store, render store.FollowUpRenderer, tweak func(*web.Config)) *apiFixture {
	t.Helper()
	f := &apiFixture{store: s, tokens: map[string]string{}, now: time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)}
	s.Now = f.clock
	for _, org := range []string{orgA, orgB} {
		if _, err := s.CreateOrg(ctx, domain.Org{Slug: org, Name: "Org " + org, Policy: domain.DefaultPolicy()}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddContact(ctx, org, domain.Contact{Email: contactOf(org), Name: "IT"}, "test", "cli"); err != nil {
			t.Fatal(err)
		}
	}
	f.tokens[asStaff] = f.mustToken(t, store.Token{Name: "staff", Role: domain.RoleStaff})
	f.tokens[asAdminA] = f.mustToken(t, store.Token{Name: "admin-a", Role: domain.RoleAdmin, OrgSlug: orgA})
	f.tokens[asServiceA] = f.mustToken(t, store.Token{Name: "service-a", Role: domain.RoleService, OrgSlug: orgA})
	f.tokens[asRevoked] = f.mustToken(t, store.Token{Name: "revoked", Role: domain.RoleStaff})
	revoked, err := s.TokenByHash(ctx, password.HashToken(f.tokens[asRevoked]))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, revoked.ID, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	if render == nil {
		render = f.answer
	}
	cfg := web.Config{Store: s, Answer: render, Now: f.clock, Directories: []string{"corp"}}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

func (f *apiFixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *apiFixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// answer is the test's store.FollowUpRenderer: a plain reply to the
// contact.
func (f *apiFixture) answer(a store.FollowUp) (domain.Mail, error) {
	n := f.answers.Add(1)
	return domain.Mail{Kind: domain.MailReply, To: a.To, Subject: "Re: " + a.Subject,
		MessageID: fmt.Sprintf("answer-%d@unlockd.test", n), InReplyTo: a.MessageID,
		Text: a.Kind + ": " + strings.Join(a.Usernames, ", ") + " " + a.Note}, nil
}

func (f *apiFixture) mustToken(t testing.TB, tok store.Token) string {
	t.Helper()
	token, hash := password.NewToken()
	if _, err := f.store.CreateToken(ctx, tok, hash, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	return token
}

// unique returns a fresh name with prefix.
func (f *apiFixture) unique(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, f.seq.Add(1))
}

// testPassword is the password of users made by mustUser; its hash uses
// cheap parameters so that authentication tests stay fast.
const testPassword = "correct horse battery"

var cheapHash = sync.OnceValue(func() string {
	h, err := password.Hash(testPassword, password.Params{Time: 1, Memory: 1024, Threads: 1})
	if err != nil {
		panic(err)
	}
	return h
})

// mustUser creates a fresh user in org, locked for failed logins when
// locked is set, and returns its username.
func (f *apiFixture) mustUser(t testing.TB, org string, locked bool) string {
	t.Helper()
	u := domain.User{Username: f.unique("user"), PasswordHash: cheapHash()}
	if locked {
		now := f.clock()
		u.FailedLogins, u.LastFailedAt = 5, now
		u.Lock = &domain.Lock{Reason: domain.LockFailedLogins, At: now, By: domain.ActorSystem, Note: "too many failed logins"}
	}
	if _, err := f.store.CreateUser(ctx, org, u, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// mustRequest queues a request of org's contact, unverified, for a fresh
// user locked for failed logins, and returns the request's id and the
// username.
func (f *apiFixture) mustRequest(t *testing.T, org string) (int64, string) {
	t.Helper()
	username := f.mustUser(t, org, true)
	key := "<" + f.unique("req") + "@" + org + ".example>"
	d, err := f.store.Decide(ctx, store.Message{Mailbox: "support", Key: key, MessageID: key, Subject: "Unlock " + username},
		domain.Facts{Sender: contactOf(org), Usernames: domain.NamesIn(domain.InSubject, username)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := f.store.ListRequests(ctx, store.RequestFilter{OrgSlug: org, State: domain.ItemPending, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		if r.DecisionID == d.ID {
			return r.ID, username
		}
	}
	t.Fatalf("no pending request for %s in %s", username, org)
	return 0, ""
}

// apiResponse is what the server answered.
type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

// call sends a request as principal who (asNone: no Authorization). A
// non-empty body is sent as application/json.
func (f *apiFixture) call(t testing.TB, who, method, path, body string) apiResponse {
	t.Helper()
	return f.send(t, who, method, path, "application/json", body)
}

// send is call with an explicit Content-Type.
func (f *apiFixture) send(t testing.TB, who, method, path, contentType, body string) apiResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, f.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if tok := f.tokens[who]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// want checks the status and, when v is not nil, decodes the body into it.
func (r apiResponse) want(t testing.TB, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("body %s: %v", r.body, err)
		}
	}
}

// wantError checks the status and the error shape, and returns the code.
func (r apiResponse) wantError(t *testing.T, status int) string {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	var e struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("body %s is not the error shape (%v)", r.body, err)
	}
	if strings.Contains(e.Error.Message, "Go ") || strings.Contains(e.Error.Message, "web.") {
		t.Errorf("error message %q shows Go internals", e.Error.Message)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type = %q", ct)
	}
	return e.Error.Code
}

// snapshot renders everything the API can change, to check that a refused
// request wrote nothing.
func (f *apiFixture) snapshot(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	orgs, err := f.store.Orgs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range orgs {
		fmt.Fprintf(&b, "org %+v\n", o)
		users, err := f.store.ListUsers(ctx, o.Slug, store.UserFilter{Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			lock := u.Lock
			u.Lock = nil
			fmt.Fprintf(&b, "user %+v", u)
			if lock != nil {
				fmt.Fprintf(&b, " lock %+v", *lock)
			}
			b.WriteByte('\n')
		}
		contacts, err := f.store.Contacts(ctx, o.Slug)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "contacts %+v\n", contacts)
	}
	reqs, err := f.store.ListRequests(ctx, store.RequestFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		fmt.Fprintf(&b, "request %+v\n", r)
	}
	audit, err := f.store.ListAudit(ctx, store.AuditFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range audit {
		fmt.Fprintf(&b, "audit %+v\n", a)
	}
	mail, err := f.store.Outbox(ctx, "pending")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "outbox %d\n", len(mail))
	return b.String()
}

func contact(email string) domain.Contact { return domain.Contact{Email: email, Name: "Someone"} }

// wantUnchanged fails when after differs from before, naming the lines
// that differ.
func wantUnchanged(t *testing.T, before, after string) {
	t.Helper()
	if before == after {
		return
	}
	old := map[string]bool{}
	for _, l := range strings.Split(before, "\n") {
		old[l] = true
	}
	var diff []string
	for _, l := range strings.Split(after, "\n") {
		if !old[l] {
			diff = append(diff, "+ "+l)
		}
	}
	t.Errorf("a refused call changed the store:\n%s", strings.Join(diff, "\n"))
}
