package web_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/web"
)

// TestUISignInThrottleIgnoresForgedForwarding: from a peer that is not a
// trusted proxy, X-Forwarded-For is ignored, so forging a new address per
// try does not escape the per-client budget; over it, 429 with Retry-After.
func TestUISignInThrottleIgnoresForgedForwarding(t *testing.T) {
	f := newUIFixtureWith(t, func(c *web.Config) {
		c.SignIn.ClientBurst, c.SignIn.ClientRefill = 3, time.Minute
	})
	b := f.browser(t)
	b.get("/signin")
	for i := range 3 {
		b.post("/signin", url.Values{"email": {uiAdminAcme}, "password": {"wrong password"}},
			"X-Forwarded-For", "198.51.100."+string(rune('1'+i))).want(http.StatusUnauthorized, "invalid email, password or code")
	}
	p := b.post("/signin", url.Values{"email": {uiAdminAcme}, "password": {uiPassword}}, "X-Forwarded-For", "198.51.100.9")
	p.want(http.StatusTooManyRequests, "too many sign-in attempts from your address")
	if got := p.Header.Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After = %q, want 60 (one attempt back a minute)", got)
	}
	f.Clock.Add(time.Minute)
	b.post("/signin", url.Values{"email": {uiAdminAcme}, "password": {uiPassword}}).want(http.StatusSeeOther, "/")
}

// TestUISignInBehindTrustedProxy: from a trusted proxy, the forwarded
// client address is the client: each has its own budget, and it is the
// audit entry's source.
func TestUISignInBehindTrustedProxy(t *testing.T) {
	f := newUIFixtureWith(t, func(c *web.Config) {
		c.SignIn.ClientBurst, c.SignIn.ClientRefill = store.MaxOperatorFailures, time.Hour
		c.Proxies = web.Proxies{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	})
	b := f.browser(t)
	b.get("/signin")
	// The client 198.51.100.7 locks the address; it has spent its budget.
	for range store.MaxOperatorFailures {
		b.post("/signin", url.Values{"email": {uiAdminAcme}, "password": {"wrong password"}},
			"X-Forwarded-For", "6.6.6.6, 198.51.100.7")
	}
	b.post("/signin", url.Values{"email": {uiStaff}, "password": {uiPassword}}, "X-Forwarded-For", "198.51.100.7").
		want(http.StatusTooManyRequests, "too many sign-in attempts from your address")
	// Another client behind the same proxy signs in.
	b.post("/signin", url.Values{"email": {uiStaff}, "password": {uiPassword}}, "X-Forwarded-For", "198.51.100.8").
		want(http.StatusSeeOther, "/")
	entries, err := f.Store.ListAudit(context.Background(), store.AuditFilter{Limit: 1})
	if err != nil || len(entries) != 1 || entries[0].Action != domain.ActionOperatorLock {
		t.Fatalf("audit = %+v, %v; want the operator_lock", entries, err)
	}
	if !strings.HasPrefix(entries[0].Source, "http:") || !strings.HasSuffix(entries[0].Source, " from 198.51.100.7") {
		t.Errorf("the lock's source is %q, want the forwarded client 198.51.100.7", entries[0].Source)
	}
}

// TestPasswordHashingBusy: with every slot of the sign-in share taken, a
// sign-in waits, then gets 429 with Retry-After and counts for nothing,
// while /authenticate, in its own share, still answers; and the other way
// round.
func TestPasswordHashingBusy(t *testing.T) {
	f := newUIFixtureWith(t, func(c *web.Config) { c.SignIn.HashWait = 50 * time.Millisecond })
	token := mustServiceToken(t, f)
	b := f.browser(t)
	b.get("/signin")

	release := web.HoldHashes(f.Site, false)
	for range store.MaxOperatorFailures + 1 {
		p := b.post("/signin", url.Values{"email": {uiAdminAcme}, "password": {"wrong password"}})
		p.want(http.StatusTooManyRequests, "too many password checks at once")
		if p.Header.Get("Retry-After") != "1" {
			t.Fatalf("Retry-After = %q, want 1", p.Header.Get("Retry-After"))
		}
	}
	if st, body := authenticate(t, f, token); st != http.StatusOK || !strings.Contains(body, `"invalid"`) {
		t.Errorf("/authenticate while sign-ins are busy: %d %s", st, body)
	}
	release()
	b.post("/signin", url.Values{"email": {uiAdminAcme}, "password": {uiPassword}}).want(http.StatusSeeOther, "/")

	release = web.HoldHashes(f.Site, true)
	defer release()
	st, body := authenticate(t, f, token)
	if st != http.StatusTooManyRequests || !strings.Contains(body, `"rate_limited"`) {
		t.Errorf("/authenticate with its share busy: %d %s", st, body)
	}
	f.signedIn(t, uiStaff)
}

func mustServiceToken(t *testing.T, f *uiFixture) string {
	t.Helper()
	token, hash := password.NewToken()
	if _, err := f.Store.CreateToken(context.Background(), store.Token{Name: "app", Role: domain.RoleService, OrgSlug: "acme"}, hash, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	return token
}

// authenticate asks /authenticate about bob with a wrong password.
func authenticate(t *testing.T, f *uiFixture, token string) (int, string) {
	t.Helper()
	status, header, body := uiFixtureAPI(t, f, token, http.MethodPost, "/api/v1/orgs/acme/authenticate",
		`{"username":"bob","password":"not bob's"}`)
	if status == http.StatusTooManyRequests && header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	return status, string(body)
}
