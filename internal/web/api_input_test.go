package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestAPIStrictBodies sends every route that reads a body an oversized
// body, malformed JSON, an unknown field, trailing data, a JSON value that
// is not an object and the wrong Content-Type, and checks each answer's
// status and shape and that nothing was written.
func TestAPIStrictBodies(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		user := f.mustUser(t, orgA, true)
		id, _ := f.mustRequest(t, orgA)
		u := "/api/v1/orgs/acme/users/" + user
		routes := []struct {
			method, path string
			valid        string // a body the route accepts; its first field is used to build bad ones
		}{
			{"POST", "/api/v1/orgs", `{"slug":"newco","name":"New"}`},
			{"PATCH", "/api/v1/orgs/acme", `{"name":"Acme"}`},
			{"POST", "/api/v1/orgs/acme/contacts", `{"email":"x@example.org"}`},
			{"POST", "/api/v1/orgs/acme/users", `{"username":"fresh"}`},
			{"POST", "/api/v1/orgs/acme/users/reset-failed-logins", `{}`},
			{"POST", u + "/lock", `{"note":"n"}`},
			{"POST", u + "/unlock", `{}`},
			{"POST", u + "/password", `{"password":"long enough password"}`},
			{"POST", u + "/failed-logins", `{}`},
			{"POST", "/api/v1/orgs/acme/authenticate", `{"username":"` + user + `","password":"p"}`},
			{"POST", fmt.Sprintf("/api/v1/requests/%d/approve", id), `{}`},
			{"POST", fmt.Sprintf("/api/v1/requests/%d/reject", id), `{"note":"n"}`},
		}
		before := f.snapshot(t)
		for _, rt := range routes {
			inner := strings.TrimSuffix(strings.TrimPrefix(rt.valid, "{"), "}")
			sep := ""
			if inner != "" {
				sep = ","
			}
			huge := `{"note":"` + long(64<<10) + `"}`
			for _, tc := range []struct {
				name, contentType, body string
				status                  int
			}{
				{"oversized", "application/json", huge, http.StatusRequestEntityTooLarge},
				{"malformed", "application/json", rt.valid[:len(rt.valid)-1], http.StatusBadRequest},
				{"unknown field", "application/json", `{` + inner + sep + `"bogus":1}`, http.StatusBadRequest},
				{"trailing data", "application/json", rt.valid + `{}`, http.StatusBadRequest},
				{"trailing garbage", "application/json", rt.valid + ` x`, http.StatusBadRequest},
				{"array", "application/json", `[` + rt.valid + `]`, http.StatusBadRequest},
				{"null", "application/json", `null`, http.StatusBadRequest},
				{"text/plain", "text/plain", rt.valid, http.StatusUnsupportedMediaType},
				{"form", "application/x-www-form-urlencoded", rt.valid, http.StatusUnsupportedMediaType},
				{"no type", "", rt.valid, http.StatusUnsupportedMediaType},
				{"latin1", "application/json; charset=iso-8859-1", rt.valid, http.StatusUnsupportedMediaType},
			} {
				r := f.send(t, asStaff, rt.method, rt.path, tc.contentType, tc.body)
				if r.status != tc.status {
					t.Errorf("%s %s, %s: status %d, want %d; body %s", rt.method, rt.path, tc.name, r.status, tc.status, r.body)
					continue
				}
				r.wantError(t, tc.status)
			}
		}
		wantUnchanged(t, before, f.snapshot(t))

		// The valid bodies really are accepted, with a charset too.
		r := f.send(t, asStaff, "POST", u+"/unlock", "application/json; charset=UTF-8", `{}`)
		r.want(t, http.StatusOK, nil)
	})
}

// TestAPIOddNames sends names no org or user can have, in paths and in
// bodies: each answers with the error shape and writes nothing.
func TestAPIOddNames(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		f.mustUser(t, orgA, true)
		before := f.snapshot(t)
		for _, tc := range []struct {
			who, method, path, body string
			status                  int
		}{
			{asStaff, "GET", "/api/v1/orgs/acme/users/a%2Fb", "", 400},
			{asStaff, "GET", "/api/v1/orgs/acme/users/a%20b", "", 400},
			{asStaff, "GET", "/api/v1/orgs/acme/users/a%00b", "", 400},
			{asStaff, "GET", "/api/v1/orgs/acme/users/%E2%80%8B", "", 400},
			{asStaff, "GET", "/api/v1/orgs/acme/users/%FF", "", 400},
			{asStaff, "GET", "/api/v1/orgs/acme/users/" + long(65), "", 400},
			{asStaff, "POST", "/api/v1/orgs/acme/users/..%2F..%2Forgs/lock", `{"note":"x"}`, 400},
			{asStaff, "POST", "/api/v1/orgs/acme/users/x%2C%20y/unlock", "", 400},
			{asStaff, "GET", "/api/v1/orgs/ACME/users", "", 400},
			{asStaff, "GET", "/api/v1/orgs/" + long(64), "", 400},
			{asStaff, "GET", "/api/v1/orgs/acme%2F..%2Fglobex", "", 400},
			{asAdminA, "GET", "/api/v1/orgs/ACME/users", "", 404},
			{asAdminA, "GET", "/api/v1/orgs/acme%2F..%2Fglobex/users", "", 404},
			{asServiceA, "POST", "/api/v1/orgs/" + long(64) + "/authenticate", `{"username":"a","password":"b"}`, 404},
			{asStaff, "GET", "/api/v1/nope", "", 404},
			{asNone, "GET", "/api/v1/", "", 404},
			{asStaff, "GET", "/api/v1/orgs/acme/users/x/lock", "", 405},
			{asStaff, "PUT", "/api/v1/orgs/acme", `{}`, 405},
		} {
			r := f.call(t, tc.who, tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Errorf("%s %s as %s: status %d, want %d; body %s", tc.method, tc.path, tc.who, r.status, tc.status, r.body)
				continue
			}
			r.wantError(t, tc.status)
		}
		r := f.call(t, asStaff, "DELETE", "/api/v1/orgs", "")
		r.wantError(t, http.StatusMethodNotAllowed)
		if allow := r.header.Get("Allow"); allow != "GET, POST" {
			t.Errorf("Allow = %q, want GET, POST", allow)
		}

		for _, name := range []string{"", "a b", "a,b", "a/b", `a\b`, "<script>", `"q"`, "tab\there", "zero\u200bwidth", long(65)} {
			body := fmt.Sprintf(`{"username":%q}`, name)
			f.call(t, asStaff, "POST", "/api/v1/orgs/acme/users", body).wantError(t, http.StatusBadRequest)
		}
		for _, body := range []string{
			`{"username":"ok","display_name":"` + long(201) + `"}`,
			`{"username":"ok","email":"not an address"}`,
			`{"username":"ok","email":"` + long(250) + `@example.org"}`,
		} {
			f.call(t, asStaff, "POST", "/api/v1/orgs/acme/users", body).wantError(t, http.StatusBadRequest)
		}
		wantUnchanged(t, before, f.snapshot(t))
	})
}
