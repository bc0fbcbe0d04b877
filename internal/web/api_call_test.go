package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestAPITokenRevokedByAnotherProcess: while the server serves a token on
// the hot paths, a second store of its own on the same database (as the
// CLI would open) revokes it; the token's next request is 401, for a read
// and for an unlock, and the unlock writes nothing.
func TestAPITokenRevokedByAnotherProcess(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			serving, cli := storetest.OpenTwo(t, e)
			f := newAPIFixture(t, serving)
			user := f.mustUser(t, orgA, true)
			path := "/api/v1/orgs/acme/users/" + user
			for range 3 {
				f.call(t, asAdminA, "GET", path, "").want(t, http.StatusOK, nil)
			}
			tok, err := cli.TokenByHash(ctx, password.HashToken(f.tokens[asAdminA]))
			if err != nil {
				t.Fatal(err)
			}
			if err := cli.RevokeToken(ctx, tok.ID, "cli", "cli"); err != nil {
				t.Fatal(err)
			}
			before := f.snapshot(t)
			for _, call := range []struct{ method, path string }{{"GET", path}, {"POST", path + "/unlock"}} {
				r := f.call(t, asAdminA, call.method, call.path, "")
				r.wantError(t, http.StatusUnauthorized)
				if !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
					t.Errorf("%s %s: WWW-Authenticate = %q", call.method, call.path, r.header.Get("WWW-Authenticate"))
				}
			}
			wantUnchanged(t, before, f.snapshot(t))
		})
	}
}

// TestAPIHotPathsCheckInOrder: on the hot paths, whose token the store
// checks in the work's own query, the answers come in the order of every
// route: token, org, role, then input, and bad input never reaches the
// database (PostgreSQL would refuse a name that is not UTF-8).
func TestAPIHotPathsCheckInOrder(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		locked := f.mustUser(t, orgA, true)
		before := f.snapshot(t)
		bad := []string{"%FF", "a%00b", long(65), "a%20b"}
		for _, name := range bad {
			for _, tc := range []struct {
				who, org string
				status   int
			}{
				{asNone, orgA, 401},
				{asRevoked, orgA, 401},
				{asAdminA, orgB, 404},
				{asServiceA, orgB, 404},
				{asServiceA, orgA, 403},
				{asAdminA, orgA, 400},
				{asStaff, orgB, 400},
			} {
				for _, call := range []struct{ method, suffix string }{{"GET", ""}, {"POST", "/unlock"}} {
					path := "/api/v1/orgs/" + tc.org + "/users/" + name + call.suffix
					if r := f.call(t, tc.who, call.method, path, ""); r.status != tc.status {
						t.Errorf("%s %s as %s = %d, want %d; body %s", call.method, path, tc.who, r.status, tc.status, r.body)
					}
				}
			}
		}
		// A body that is not {} is refused after the checks before it.
		unlock := "/api/v1/orgs/acme/users/" + locked + "/unlock"
		for _, tc := range []struct {
			who, body string
			status    int
		}{
			{asServiceA, `{"x":1}`, 403},
			{asAdminA, `{"x":1}`, 400},
			{asAdminA, "[]", 400},
			{asAdminA, `{"note":"` + strings.Repeat("a", 70000) + `"}`, 413},
		} {
			if r := f.call(t, tc.who, "POST", unlock, tc.body); r.status != tc.status {
				t.Errorf("unlock with body %.20q as %s = %d, want %d", tc.body, tc.who, r.status, tc.status)
			}
		}
		if r := f.call(t, asAdminA, "POST", "/api/v1/orgs/initech/users/x/unlock", ""); r.status != 404 {
			t.Errorf("unlock in a missing org as admin = %d, want 404", r.status)
		}
		if r := f.call(t, asStaff, "POST", "/api/v1/orgs/initech/users/x/unlock", ""); r.status != 404 {
			t.Errorf("unlock in a missing org as staff = %d, want 404", r.status)
		}
		wantUnchanged(t, before, f.snapshot(t))
		f.call(t, asAdminA, "POST", unlock, "{}").want(t, http.StatusOK, nil)
		f.call(t, asAdminA, "POST", unlock, "").wantError(t, http.StatusConflict)
	})
}
