package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/web"
)

func TestUISignIn(t *testing.T) {
	f := newUIFixture(t)
	b := f.browser(t)
	b.get("/queue").want(http.StatusSeeOther, "/signin?next=%2Fqueue")
	form := b.get("/signin?next=/orgs/acme").want(http.StatusOK, `name="password"`)
	if strings.Contains(form.Body, "Sign out") {
		t.Error("the sign-in page offers to sign out")
	}

	b.post("/signin", url.Values{"email": {uiStaff}, "password": {"wrong password"}, "next": {"/orgs/acme"}}).
		want(http.StatusUnauthorized, "invalid email, password or code")
	b.post("/signin", url.Values{"email": {"nobody@unlockd.example"}, "password": {uiPassword}}).
		want(http.StatusUnauthorized, "invalid email, password or code")
	b.get("/queue").want(http.StatusSeeOther, "/signin")

	// The form keeps next; signing in goes there, under a new session
	// cookie that scripts cannot read.
	resp := b.post("/signin", url.Values{"email": {"STAFF@unlockd.example"}, "password": {uiPassword}, "next": {"/orgs/acme"}})
	resp.want(http.StatusSeeOther, "/orgs/acme")
	cookie := resp.Header.Get("Set-Cookie")
	for _, attr := range []string{"unlockd_session=", "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q lacks %s", cookie, attr)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("session cookie %q is Secure over plain http", cookie)
	}
	b.get("/queue").want(http.StatusOK, uiStaff)
	// Signed in, the sign-in page moves on; next never leaves the site.
	b.get("/signin?next=//evil.example/").want(http.StatusSeeOther, "/")
	if loc := b.get("/signin?next=//evil.example/").Header.Get("Location"); loc != "/" {
		t.Errorf("next=//evil.example/ redirects to %q, want /", loc)
	}
}

func TestUISignInLockout(t *testing.T) {
	f := newUIFixture(t)
	b := f.browser(t)
	for i := 1; i < store.MaxOperatorFailures; i++ {
		b.signIn(uiAdminAcme, "wrong password").want(http.StatusUnauthorized, "invalid email, password or code")
	}
	locked := b.signIn(uiAdminAcme, "wrong password").want(http.StatusTooManyRequests, "too many failed sign-ins, try again later")
	if got := locked.Header.Get("Retry-After"); got != "900" {
		t.Errorf("Retry-After = %q, want 900 (the lock's 15 minutes)", got)
	}
	// Locked, the right password is refused too, and says no more.
	p := b.signIn(uiAdminAcme, uiPassword).want(http.StatusTooManyRequests, "too many failed sign-ins, try again later")
	if strings.Contains(p.Body, "minute") {
		t.Errorf("the lockout page says more than it should:\n%s", p.Body)
	}
	b.get("/queue").want(http.StatusSeeOther, "/signin")
	// Other operators are not affected; the lock lifts by itself.
	f.signedIn(t, uiStaff)
	f.Clock.Add(store.OperatorLockout)
	b.signIn(uiAdminAcme, uiPassword).want(http.StatusSeeOther, "/")
}

func TestUISessionIdleExpiry(t *testing.T) {
	f := newUIFixture(t)
	b := f.signedIn(t, uiStaff)
	for range 3 {
		f.Clock.Add(store.SessionIdle - time.Minute)
		b.get("/queue").want(http.StatusOK, "Queue")
	}
	f.Clock.Add(store.SessionIdle)
	b.get("/queue").want(http.StatusSeeOther, "/signin")
}

func TestUISessionAbsoluteExpiry(t *testing.T) {
	f := newUIFixture(t)
	b := f.signedIn(t, uiStaff)
	for elapsed := 20 * time.Minute; elapsed < store.SessionMaxAge; elapsed += 20 * time.Minute {
		f.Clock.Add(20 * time.Minute)
		b.get("/queue").want(http.StatusOK, "Queue")
	}
	f.Clock.Add(20 * time.Minute)
	b.get("/queue").want(http.StatusSeeOther, "/signin")
}

func TestUISignOut(t *testing.T) {
	f := newUIFixture(t)
	b := f.signedIn(t, uiStaff)
	u, _ := url.Parse(f.Server.URL)
	stolen := b.http.Jar.Cookies(u)
	b.follow(b.post("/signout", nil).want(http.StatusSeeOther, "/signin")).want(http.StatusOK, "You are signed out.")
	b.get("/queue").want(http.StatusSeeOther, "/signin")

	// The old cookie is dead in the store, not only in the browser.
	replay := f.browser(t)
	replay.http.Jar.SetCookies(u, stolen)
	replay.get("/queue").want(http.StatusSeeOther, "/signin")
}

func TestUISecureCookiesOverHTTPS(t *testing.T) {
	f := newUIFixture(t)
	srv, err := web.New(web.Config{Store: f.Store, Now: f.Clock.Now, PublicURL: "https://unlockd.example", RequireTOTP: web.RequireTOTPNone})
	if err != nil {
		t.Fatal(err)
	}
	get := httptest.NewRequest(http.MethodGet, "https://unlockd.example/signin", nil)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, get)
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != "__Host-unlockd_signin" || !cookies[0].Secure || !cookies[0].HttpOnly {
		t.Fatalf("sign-in form cookies = %+v, want a Secure, HttpOnly __Host-unlockd_signin", cookies)
	}
	form := url.Values{"csrf": {cookies[0].Value}, "email": {uiStaff}, "password": {uiPassword}}
	post := httptest.NewRequest(http.MethodPost, "https://unlockd.example/signin", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.AddCookie(cookies[0])
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, post)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign-in over https: status %d:\n%s", rec.Code, rec.Body)
	}
	var session *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "__Host-unlockd_session" {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
		t.Fatalf("session cookie over https = %+v, want Secure, HttpOnly, SameSite=Lax, Path=/", session)
	}
}
