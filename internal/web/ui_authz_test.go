package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestUIAuthorisation runs every UI route as staff, an admin of acme, an
// admin of globex and an anonymous visitor. acme's data answers 404 to
// globex's admin, exactly like data that does not exist; anonymous
// visitors are sent to sign in. Expectations read "200", "404", or "303
// <location prefix>". Routes run in order on one fixture, so each admin
// and staff action either succeeds or finds the work done (a flash, still
// a 303).
func TestUIAuthorisation(t *testing.T) {
	f := newUIFixture(t)
	req := fmt.Sprint(f.Request)
	routes := []struct {
		method, path                string
		form                        url.Values
		staff, adminAcme, adminGlob string
	}{
		{"GET", "/static/style.css", nil, "200", "200", "200"},
		{"GET", "/", nil, "303 /queue", "303 /queue", "303 /queue"},
		{"GET", "/signin", nil, "303 /", "303 /", "303 /"},
		{"GET", "/queue", nil, "200", "200", "200"},
		{"GET", "/queue?org=acme", nil, "200", "200", "404"},
		{"GET", "/queue?org=nope", nil, "404", "404", "404"},
		{"GET", "/requests/" + req, nil, "200", "200", "404"},
		{"GET", "/requests/999999", nil, "404", "404", "404"},
		{"GET", "/requests/nope", nil, "404", "404", "404"},
		{"GET", "/orgs", nil, "200", "303 /orgs/acme", "303 /orgs/globex"},
		{"GET", "/orgs/acme", nil, "200", "200", "404"},
		{"GET", "/orgs/nope", nil, "404", "404", "404"},
		{"GET", "/orgs/acme/users", nil, "200", "200", "404"},
		{"GET", "/orgs/acme/users/alice", nil, "200", "200", "404"},
		{"GET", "/orgs/acme/users/nobody", nil, "404", "404", "404"},
		{"GET", "/orgs/acme/policy", nil, "200", "200", "404"},
		{"GET", "/orgs/acme/contacts", nil, "200", "200", "404"},
		{"GET", "/orgs/nope/contacts", nil, "404", "404", "404"},
		{"GET", "/orgs/acme/audit", nil, "200", "200", "404"},
		{"GET", "/orgs/globex/users/gus", nil, "200", "404", "200"},
		{"POST", "/requests/" + req + "/reject", url.Values{"note": {"not today"}}, "303 /queue", "303 /queue", "404"},
		{"POST", "/requests/" + req + "/approve", nil, "303 /queue", "303 /queue", "404"},
		{"POST", "/orgs/acme/users/bob/lock", url.Values{"note": {"audit"}}, "303 /orgs/acme/users/bob", "303 /orgs/acme/users/bob", "404"},
		{"POST", "/orgs/acme/users/bob/unlock", nil, "303 /orgs/acme/users/bob", "303 /orgs/acme/users/bob", "404"},
		{"POST", "/orgs/acme/users/bob/password", nil, "200", "200", "404"},
		{"POST", "/orgs/acme/reset-failed-logins", nil, "303 /orgs/acme", "303 /orgs/acme", "404"},
		{"POST", "/orgs/acme/policy", url.Values{"max_failed_logins": {"3"}, "lockout_duration": {"0"},
			"failure_window": {"1h"}, "max_requests_per_hour": {"10"}, "max_unverified_per_hour": {"5"}}, "303 /orgs/acme/policy", "303 /orgs/acme/policy", "404"},
		// Contacts are staff's to grant: an admin of the org is refused.
		{"POST", "/orgs/acme/contacts", url.Values{"email": {"boss@acme.example"}}, "303 /orgs/acme/contacts", "403", "404"},
		{"POST", "/orgs/acme/contacts/remove", url.Values{"email": {"boss@acme.example"}}, "303 /orgs/acme/contacts", "403", "404"},
		{"POST", "/orgs/globex/contacts", url.Values{"email": {"it@acme.example"}}, "303 /orgs/globex/contacts", "404", "403"},
		{"POST", "/orgs/globex/users/gus/unlock", nil, "303 /orgs/globex/users/gus", "404", "303 /orgs/globex/users/gus"},
		// Dead mail is staff's: mail of any org.
		{"GET", "/dead-mail", nil, "200", "403", "403"},
		{"POST", "/dead-mail/999999/retry", nil, "404", "403", "403"},
		{"POST", "/dead-mail/999999/discard", nil, "404", "403", "403"},
		{"POST", "/signout", nil, "303 /signin", "303 /signin", "303 /signin"},
	}
	browsers := []struct {
		name string
		want func(int) string
		b    *uiBrowser
	}{
		{"admin of globex", func(i int) string { return routes[i].adminGlob }, f.signedIn(t, uiAdminGlobex)},
		{"anonymous", func(i int) string {
			if routes[i].path == "/signin" || strings.HasPrefix(routes[i].path, "/static/") {
				return "200"
			}
			return "303 /signin"
		}, f.browser(t)},
		{"admin of acme", func(i int) string { return routes[i].adminAcme }, f.signedIn(t, uiAdminAcme)},
		{"staff", func(i int) string { return routes[i].staff }, f.signedIn(t, uiStaff)},
	}
	for i, r := range routes {
		for _, who := range browsers {
			var p *uiPage
			if r.method == http.MethodGet {
				p = who.b.get(r.path)
			} else {
				p = who.b.post(r.path, r.form)
			}
			got := fmt.Sprint(p.Status)
			if p.Status == http.StatusSeeOther {
				got += " " + p.Header.Get("Location")
			}
			if want := who.want(i); !strings.HasPrefix(got, want) || (p.Status != http.StatusSeeOther && got != want) {
				t.Errorf("%s %s as %s: %s, want %s", r.method, r.path, who.name, got, want)
			}
			if p.Status == http.StatusNotFound && !strings.Contains(p.Body, "Not Found") {
				t.Errorf("%s %s as %s: 404 without the error page:\n%s", r.method, r.path, who.name, p.Body)
			}
		}
	}
}
