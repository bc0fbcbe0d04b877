package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// userBody is a user as the API shows it.
type userBody struct {
	Org          string `json:"org"`
	Username     string `json:"username"`
	DisplayName  string `json:"display_name"`
	Email        string `json:"email"`
	Status       string `json:"status"`
	FailedLogins int    `json:"failed_logins"`
	HasPassword  bool   `json:"has_password"`
	Lock         *struct {
		Reason string `json:"reason"`
		By     string `json:"by"`
		Note   string `json:"note"`
	} `json:"lock"`
}

// usernames lists a user list's usernames.
func usernames(t *testing.T, r apiResponse) []string {
	t.Helper()
	var list struct{ Items []userBody }
	r.want(t, http.StatusOK, &list)
	var names []string
	for _, u := range list.Items {
		names = append(names, u.Username)
	}
	return names
}

func TestAPIUserLifecycle(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		var u userBody
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users", `{"username":"jsmith","display_name":"J Smith","email":"J@Acme.example"}`).
			want(t, http.StatusCreated, &u)
		if u.Username != "jsmith" || u.Org != "acme" || u.Status != "active" || u.Email != "j@acme.example" || u.HasPassword || u.Lock != nil {
			t.Errorf("created user = %+v", u)
		}
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users", `{"username":"jsmith"}`).wantError(t, http.StatusConflict)
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users", `{"username":"JSmith"}`).want(t, http.StatusCreated, nil)
		f.call(t, asStaff, "POST", "/api/v1/orgs/globex/users", `{"username":"jsmith"}`).want(t, http.StatusCreated, nil)
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users", `{"username":"pw","password":"short"}`).wantError(t, http.StatusUnprocessableEntity)

		f.call(t, asAdminA, "GET", "/api/v1/orgs/acme/users/jsmith", "").want(t, http.StatusOK, &u)
		if u.DisplayName != "J Smith" {
			t.Errorf("GET user = %+v", u)
		}
		f.call(t, asAdminA, "GET", "/api/v1/orgs/acme/users/nobody", "").wantError(t, http.StatusNotFound)

		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/jsmith/lock", `{"note":"laptop stolen"}`).want(t, http.StatusOK, &u)
		if u.Status != "locked" || u.Lock == nil || u.Lock.Reason != "admin" || u.Lock.By != "token:admin-a" || u.Lock.Note != "laptop stolen" {
			t.Errorf("locked user = %+v lock %+v", u, u.Lock)
		}
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/jsmith/lock", `{"note":"again"}`).wantError(t, http.StatusConflict)
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/JSmith/lock", `{"note":"  "}`).wantError(t, http.StatusBadRequest)
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/JSmith/lock", `{}`).wantError(t, http.StatusBadRequest)

		if got := usernames(t, f.call(t, asAdminA, "GET", "/api/v1/orgs/acme/users?status=locked", "")); strings.Join(got, ",") != "jsmith" {
			t.Errorf("locked users = %v, want jsmith", got)
		}
		if got := usernames(t, f.call(t, asAdminA, "GET", "/api/v1/orgs/acme/users?reason=admin", "")); strings.Join(got, ",") != "jsmith" {
			t.Errorf("admin-locked users = %v, want jsmith", got)
		}
		if got := usernames(t, f.call(t, asAdminA, "GET", "/api/v1/orgs/acme/users?status=locked&reason=failed_logins", "")); len(got) != 0 {
			t.Errorf("failed-login locks = %v, want none", got)
		}
		if got := usernames(t, f.call(t, asAdminA, "GET", "/api/v1/orgs/acme/users?status=active", "")); strings.Join(got, ",") != "JSmith" {
			t.Errorf("active users = %v, want JSmith", got)
		}

		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/jsmith/unlock", "").want(t, http.StatusOK, &u)
		if u.Status != "active" || u.Lock != nil {
			t.Errorf("unlocked user = %+v", u)
		}
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/jsmith/unlock", "{}").wantError(t, http.StatusConflict)
		other, err := s.User(ctx, orgB, "jsmith")
		if err != nil || other.Lock != nil {
			t.Errorf("globex's jsmith = %+v, %v: must be untouched", other, err)
		}
	})
}

func TestAPIUserPassword(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		name := f.mustUser(t, orgA, false)
		path := "/api/v1/orgs/acme/users/" + name + "/password"
		var gen struct{ Password string }
		r := f.call(t, asAdminA, "POST", path, "{}")
		r.want(t, http.StatusOK, &gen)
		if len(gen.Password) != password.GeneratedLength {
			t.Fatalf("generated password %q", gen.Password)
		}
		if cc := r.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", cc)
		}
		var res struct{ Result string }
		f.call(t, asServiceA, "POST", "/api/v1/orgs/acme/authenticate", `{"username":"`+name+`","password":"`+gen.Password+`"}`).
			want(t, http.StatusOK, &res)
		if res.Result != "ok" {
			t.Errorf("authenticate with the generated password = %q", res.Result)
		}

		f.call(t, asAdminA, "POST", path, `{"password":"short"}`).wantError(t, http.StatusUnprocessableEntity)
		chosen := "a chosen passphrase"
		r = f.call(t, asAdminA, "POST", path, `{"password":"`+chosen+`"}`)
		r.want(t, http.StatusNoContent, nil)
		if len(r.body) != 0 {
			t.Errorf("a chosen password is echoed: %s", r.body)
		}
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/nobody/password", "").wantError(t, http.StatusNotFound)

		audit, err := s.ListAudit(ctx, store.AuditFilter{Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		changes := 0
		for _, a := range audit {
			if strings.Contains(a.Note, gen.Password) || strings.Contains(a.Note, chosen) || strings.Contains(a.Target, chosen) {
				t.Errorf("audit entry %+v carries a password", a)
			}
			if a.Action == domain.ActionPasswordChange && a.Target == name {
				changes++
			}
		}
		if changes != 2 {
			t.Errorf("%d password_change entries, want 2", changes)
		}
	})
}

func TestAPIAuthenticateAndFailedLogins(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		name := f.mustUser(t, orgA, false)
		auth := func(user, pw string) string {
			t.Helper()
			var res struct{ Result string }
			f.call(t, asServiceA, "POST", "/api/v1/orgs/acme/authenticate", `{"username":"`+user+`","password":"`+pw+`"}`).
				want(t, http.StatusOK, &res)
			return res.Result
		}
		if got := auth(name, testPassword); got != "ok" {
			t.Errorf("right password: %q", got)
		}
		if got := auth(name, "wrong password"); got != "invalid" {
			t.Errorf("wrong password: %q", got)
		}
		if got := auth("nobody", "whatever"); got != "invalid" {
			t.Errorf("unknown user: %q", got)
		}

		var fl struct {
			Result       string `json:"result"`
			Status       string `json:"status"`
			FailedLogins int    `json:"failed_logins"`
			LockedNow    bool   `json:"locked_now"`
		}
		path := "/api/v1/orgs/acme/users/" + name + "/failed-logins"
		for i := 2; i <= 5; i++ { // one failure already counted above; the policy locks at 5
			f.call(t, asServiceA, "POST", path, "").want(t, http.StatusOK, &fl)
			if fl.FailedLogins != i || fl.LockedNow != (i == 5) {
				t.Errorf("failure %d: %+v", i, fl)
			}
		}
		if fl.Status != "locked" || fl.Result != "invalid" {
			t.Errorf("after 5 failures: %+v", fl)
		}
		f.call(t, asServiceA, "POST", path, "{}").want(t, http.StatusOK, &fl)
		if fl.Result != "locked" || fl.LockedNow {
			t.Errorf("a failure while locked: %+v", fl)
		}
		if got := auth(name, testPassword); got != "locked" {
			t.Errorf("locked user, right password: %q", got)
		}
		f.call(t, asServiceA, "POST", "/api/v1/orgs/acme/users/nobody/failed-logins", "").wantError(t, http.StatusNotFound)

		before := f.snapshot(t)
		for _, body := range []string{`{"username":"a b","password":"x"}`, `{"username":"","password":"x"}`,
			`{"username":"` + name + `"}`, `{"username":"` + name + `","password":"` + long(password.MaxLength+1) + `"}`} {
			f.call(t, asServiceA, "POST", "/api/v1/orgs/acme/authenticate", body).wantError(t, http.StatusBadRequest)
		}
		wantUnchanged(t, before, f.snapshot(t))
	})
}

func TestAPIResetFailedLogins(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		a, b := f.mustUser(t, orgA, true), f.mustUser(t, orgA, true)
		deliberate := f.mustUser(t, orgA, false)
		if _, err := s.LockUser(ctx, orgA, deliberate, "on purpose", "test", "cli"); err != nil {
			t.Fatal(err)
		}
		otherOrg := f.mustUser(t, orgB, true)
		var res struct{ Unlocked []string }
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/reset-failed-logins", "").want(t, http.StatusOK, &res)
		if strings.Join(res.Unlocked, ",") != a+","+b {
			t.Errorf("unlocked = %v, want %s and %s", res.Unlocked, a, b)
		}
		for name, org := range map[string]string{deliberate: orgA, otherOrg: orgB} {
			if u, err := s.User(ctx, org, name); err != nil || u.Lock == nil {
				t.Errorf("%s/%s = %+v, %v: must stay locked", org, name, u, err)
			}
		}
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/reset-failed-logins", "{}").want(t, http.StatusOK, &res)
		if len(res.Unlocked) != 0 {
			t.Errorf("second reset unlocked %v", res.Unlocked)
		}
	})
}
