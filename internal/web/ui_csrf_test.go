package web_test

import (
	"net/http"
	"net/url"
	"testing"
)

func TestUICSRF(t *testing.T) {
	f := newUIFixture(t)
	b := f.signedIn(t, uiAdminAcme)
	other := f.signedIn(t, uiStaff)
	lock := "/orgs/acme/users/bob/lock"
	note := func(csrf ...string) url.Values {
		v := url.Values{"note": {"forged"}}
		if len(csrf) > 0 {
			v.Set("csrf", csrf[0])
		}
		return v
	}
	cases := []struct {
		name   string
		form   url.Values
		header []string
	}{
		{"missing token", note(""), nil},
		{"wrong token", note(b.csrf + "x"), nil},
		{"another session's token", note(other.csrf), nil},
		{"cross-site fetch", note(), []string{"Sec-Fetch-Site", "cross-site"}},
		{"foreign origin", note(), []string{"Origin", "https://evil.example"}},
	}
	for _, c := range cases {
		if p := b.post(lock, c.form, c.header...); p.Status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", c.name, p.Status)
		}
	}
	if u := f.user(t, "acme", "bob"); u.Lock != nil {
		t.Fatalf("a refused form locked bob: %+v", u.Lock)
	}
	// The same form with the session's own token, from the site, works.
	b.post(lock, note()).want(http.StatusSeeOther, "/orgs/acme/users/bob")
	if u := f.user(t, "acme", "bob"); u.Lock == nil {
		t.Fatal("the genuine form did not lock bob")
	}
}

func TestUISignInCSRF(t *testing.T) {
	f := newUIFixture(t)
	creds := url.Values{"email": {uiStaff}, "password": {uiPassword}}

	// No form loaded: no double-submit cookie, whatever the field says.
	fresh := f.browser(t)
	fresh.post("/signin", creds).want(http.StatusForbidden, "403")

	b := f.browser(t)
	b.get("/signin")
	wrong := url.Values{"email": creds["email"], "password": creds["password"], "csrf": {b.csrf + "x"}}
	b.post("/signin", wrong).want(http.StatusForbidden, "403")
	b.post("/signin", creds, "Sec-Fetch-Site", "cross-site").want(http.StatusForbidden, "403")
	b.get("/queue").want(http.StatusSeeOther, "/signin")
	b.post("/signin", creds).want(http.StatusSeeOther, "/")
}
