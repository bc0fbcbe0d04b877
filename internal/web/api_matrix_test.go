package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
	"github.com/unlockd/unlockd/internal/web"
)

// matrixRoute is one API route in the authorisation matrix.
type matrixRoute struct {
	pattern string
	// request prepares what a call on org needs (a fresh user, a pending
	// request...) so that an allowed call succeeds, and returns its path
	// and body.
	request func(t *testing.T, f *apiFixture, org string) (path, body string)
	// own and other are the statuses for staff, the admin of A and the
	// service of A, on org A and on org B. Without a token, or with a
	// revoked one, every call answers 401.
	own, other [3]int
}

// Expected statuses, by principal: staff, admin of A, service of A.
var (
	staffOnly    = [3]int{200, 403, 403}
	managed      = [3]int{200, 200, 403}
	managedOther = [3]int{200, 404, 404} // org in the path
	scopedOther  = [3]int{200, 404, 403} // org reached without the path: role first
	hostOwn      = [3]int{200, 403, 200}
	created      = [3]int{201, 201, 403}
	createdOther = [3]int{201, 404, 404}
	deletedOther = [3]int{204, 404, 404}
	staffCreated = [3]int{201, 403, 403}
	staffDeleted = [3]int{204, 403, 403}
	managedGone  = [3]int{204, 204, 403}
	freshOrg     = [3]int{200, 404, 404} // a fresh org each call: nobody's but staff's
)

// userPath creates a fresh user in org and returns its path.
func userPath(f *apiFixture, t *testing.T, org string, locked bool) string {
	return "/api/v1/orgs/" + org + "/users/" + f.mustUser(t, org, locked)
}

func matrixRoutes() []matrixRoute {
	// plain calls path, with {org} replaced, without a body.
	plain := func(path string) func(*testing.T, *apiFixture, string) (string, string) {
		return func(_ *testing.T, _ *apiFixture, org string) (string, string) {
			return strings.ReplaceAll(path, "{org}", org), ""
		}
	}
	onUser := func(suffix, body string, locked bool) func(*testing.T, *apiFixture, string) (string, string) {
		return func(t *testing.T, f *apiFixture, org string) (string, string) {
			return userPath(f, t, org, locked) + suffix, body
		}
	}
	onRequest := func(suffix, body string) func(*testing.T, *apiFixture, string) (string, string) {
		return func(t *testing.T, f *apiFixture, org string) (string, string) {
			id, _ := f.mustRequest(t, org)
			return fmt.Sprintf("/api/v1/requests/%d%s", id, suffix), body
		}
	}
	return []matrixRoute{
		{"GET /api/v1/orgs", plain("/api/v1/orgs"), staffOnly, staffOnly},
		{"POST /api/v1/orgs", func(_ *testing.T, f *apiFixture, _ string) (string, string) {
			return "/api/v1/orgs", `{"slug":"` + f.unique("org") + `","name":"New"}`
		}, staffCreated, staffCreated},
		{"GET /api/v1/orgs/{org}", plain("/api/v1/orgs/{org}"), managed, managedOther},
		{"PATCH /api/v1/orgs/{org}", func(_ *testing.T, _ *apiFixture, org string) (string, string) {
			return "/api/v1/orgs/" + org, `{"max_requests_per_hour":20}`
		}, managed, managedOther},
		{"GET /api/v1/orgs/{org}/contacts", plain("/api/v1/orgs/{org}/contacts"), managed, managedOther},
		{"POST /api/v1/orgs/{org}/contacts", func(_ *testing.T, f *apiFixture, org string) (string, string) {
			return "/api/v1/orgs/" + org + "/contacts", `{"email":"` + f.unique("c") + `@example.org","name":"C"}`
		}, staffCreated, createdOther},
		{"DELETE /api/v1/orgs/{org}/contacts/{email}", func(t *testing.T, f *apiFixture, org string) (string, string) {
			email := f.unique("gone") + "@example.org"
			if _, err := f.store.AddContact(ctx, org, contact(email), "test", "cli"); err != nil {
				t.Fatal(err)
			}
			return "/api/v1/orgs/" + org + "/contacts/" + url.PathEscape(email), ""
		}, staffDeleted, deletedOther},
		{"GET /api/v1/orgs/{org}/users", plain("/api/v1/orgs/{org}/users"), managed, managedOther},
		{"POST /api/v1/orgs/{org}/users", func(_ *testing.T, f *apiFixture, org string) (string, string) {
			return "/api/v1/orgs/" + org + "/users", `{"username":"` + f.unique("new") + `"}`
		}, created, createdOther},
		{"POST /api/v1/orgs/{org}/users/reset-failed-logins", plain("/api/v1/orgs/{org}/users/reset-failed-logins"), managed, managedOther},
		{"GET /api/v1/orgs/{org}/users/{username}", onUser("", "", false), managed, managedOther},
		{"POST /api/v1/orgs/{org}/users/{username}/lock", onUser("/lock", `{"note":"left the company"}`, false), managed, managedOther},
		{"POST /api/v1/orgs/{org}/users/{username}/unlock", onUser("/unlock", "", true), managed, managedOther},
		{"POST /api/v1/orgs/{org}/users/{username}/password", onUser("/password", "{}", false), managed, managedOther},
		{"POST /api/v1/orgs/{org}/users/{username}/failed-logins", onUser("/failed-logins", "", false), hostOwn, managedOther},
		{"POST /api/v1/orgs/{org}/authenticate", func(t *testing.T, f *apiFixture, org string) (string, string) {
			return "/api/v1/orgs/" + org + "/authenticate", `{"username":"` + f.mustUser(t, org, false) + `","password":"` + testPassword + `"}`
		}, hostOwn, managedOther},
		{"GET /api/v1/requests", plain("/api/v1/requests?org={org}"), managed, scopedOther},
		{"GET /api/v1/requests/{id}", onRequest("", ""), managed, scopedOther},
		{"POST /api/v1/requests/{id}/approve", onRequest("/approve", ""), managed, scopedOther},
		{"POST /api/v1/requests/{id}/reject", onRequest("/reject", `{"note":"not from you"}`), managed, scopedOther},
		{"GET /api/v1/audit", plain("/api/v1/audit?org={org}"), managed, scopedOther},
		{"DELETE /api/v1/orgs/{org}", func(t *testing.T, f *apiFixture, _ string) (string, string) {
			slug := f.unique("gone")
			if _, err := f.store.CreateOrg(ctx, domain.Org{Slug: slug, Name: "Gone", Policy: domain.DefaultPolicy()}); err != nil {
				t.Fatal(err)
			}
			return "/api/v1/orgs/" + slug, ""
		}, freshOrg, freshOrg},
		{"PATCH /api/v1/orgs/{org}/contacts/{email}", func(_ *testing.T, f *apiFixture, org string) (string, string) {
			return "/api/v1/orgs/" + org + "/contacts/" + url.PathEscape(contactOf(org)), `{"name":"` + f.unique("IT ") + `"}`
		}, staffOnly, managedOther},
		{"PATCH /api/v1/orgs/{org}/users/{username}", onUser("", `{"display_name":"Renamed"}`, false), managed, managedOther},
		{"DELETE /api/v1/orgs/{org}/users/{username}", onUser("", "", false), managedGone, deletedOther},
		{"GET /api/v1/dead-mail", plain("/api/v1/dead-mail"), staffOnly, staffOnly},
		{"POST /api/v1/dead-mail/{id}/retry", func(t *testing.T, f *apiFixture, _ string) (string, string) {
			return fmt.Sprintf("/api/v1/dead-mail/%d/retry", f.mustDeadMail(t)), ""
		}, staffOnly, staffOnly},
		{"DELETE /api/v1/dead-mail/{id}", func(t *testing.T, f *apiFixture, _ string) (string, string) {
			return fmt.Sprintf("/api/v1/dead-mail/%d", f.mustDeadMail(t)), ""
		}, staffDeleted, staffDeleted},
	}
}

// TestAPIAuthorisationMatrix calls every API route as every principal, on
// the principal's own org and on another, and checks the status; a refused
// call must write nothing. It fails when a route is registered without
// rows here.
func TestAPIAuthorisationMatrix(t *testing.T) {
	routes := matrixRoutes()
	var covered []string
	for _, rt := range routes {
		covered = append(covered, rt.pattern)
	}
	registered := web.APIRoutes()
	slices.Sort(covered)
	slices.Sort(registered)
	if !slices.Equal(covered, registered) {
		t.Fatalf("the matrix covers routes\n%s\nbut the API registers\n%s", strings.Join(covered, "\n"), strings.Join(registered, "\n"))
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		rows := 0
		for _, rt := range routes {
			method, _, _ := strings.Cut(rt.pattern, " ")
			for _, target := range []struct {
				name string
				org  string
				want [3]int
			}{{"own", orgA, rt.own}, {"other", orgB, rt.other}} {
				whos := []string{asStaff, asAdminA, asServiceA, asNone, asRevoked}
				for i, who := range whos {
					want := http.StatusUnauthorized
					if i < 3 {
						want = target.want[i]
					}
					rows++
					t.Run(rt.pattern+"/"+who+"/"+target.name, func(t *testing.T) {
						path, body := rt.request(t, f, target.org)
						before := ""
						if want >= 400 {
							before = f.snapshot(t)
						}
						r := f.call(t, who, method, path, body)
						if r.status != want {
							t.Fatalf("%s %s as %s = %d, want %d; body %s", method, path, who, r.status, want, r.body)
						}
						if want < 400 {
							return
						}
						r.wantError(t, want)
						if want == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
							t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
						}
						wantUnchanged(t, before, f.snapshot(t))
					})
				}
			}
		}
		if want := len(registered) * 2 * 5; rows != want {
			t.Errorf("matrix rows = %d, want %d", rows, want)
		}
		t.Logf("authorisation matrix: %d routes, %d rows", len(registered), rows)
	})
}
