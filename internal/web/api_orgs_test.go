package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// orgBody is an org as the API shows it.
type orgBody struct {
	Slug               string `json:"slug"`
	Name               string `json:"name"`
	MaxFailedLogins    int    `json:"max_failed_logins"`
	LockoutDuration    string `json:"lockout_duration"`
	FailureWindow      string `json:"failure_window"`
	AutoUnlock         bool   `json:"auto_unlock"`
	MaxRequestsPerHour int    `json:"max_requests_per_hour"`
	MaxUnverified      int    `json:"max_unverified_per_hour"`
	EmailConfirmation  string `json:"email_confirmation"`
}

func TestAPIOrgs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		var o orgBody
		f.call(t, asStaff, "POST", "/api/v1/orgs", `{"slug":"initech","name":"Initech","lockout_duration":"30m","auto_unlock":false}`).
			want(t, http.StatusCreated, &o)
		want := orgBody{Slug: "initech", Name: "Initech", MaxFailedLogins: 5, LockoutDuration: "30m",
			FailureWindow: "12h", AutoUnlock: false, MaxRequestsPerHour: 10, MaxUnverified: 5, EmailConfirmation: "unverified"}
		if o != want {
			t.Errorf("created org = %+v, want %+v", o, want)
		}
		f.call(t, asStaff, "POST", "/api/v1/orgs", `{"slug":"initech","name":"Again"}`).wantError(t, http.StatusConflict)

		var got orgBody
		f.call(t, asStaff, "GET", "/api/v1/orgs/initech", "").want(t, http.StatusOK, &got)
		if got != want {
			t.Errorf("GET org = %+v, want %+v", got, want)
		}

		f.call(t, asStaff, "PATCH", "/api/v1/orgs/initech", `{"max_failed_logins":3,"failure_window":"1d12h","max_unverified_per_hour":0,"email_confirmation":"always"}`).want(t, http.StatusOK, &got)
		want.MaxFailedLogins, want.FailureWindow, want.MaxUnverified, want.EmailConfirmation = 3, "1d12h", 0, "always"
		if got != want {
			t.Errorf("patched org = %+v, want %+v", got, want)
		}
		stored, err := s.Org(ctx, "initech")
		if err != nil || stored.Policy.MaxFailedLogins != 3 || stored.Policy.LockoutDuration.Minutes() != 30 || stored.Policy.EmailConfirmation != domain.ConfirmAlways {
			t.Errorf("stored org = %+v, %v", stored, err)
		}
		audit, err := s.ListAudit(ctx, store.AuditFilter{Target: "initech", Limit: 10})
		if err != nil || len(audit) != 1 || audit[0].Action != "policy_change" || audit[0].Actor != "token:staff" {
			t.Errorf("audit of the change = %+v, %v", audit, err)
		}

		var admin orgBody
		f.call(t, asAdminA, "PATCH", "/api/v1/orgs/acme", `{"auto_unlock":false,"name":"Acme Ltd"}`).want(t, http.StatusOK, &admin)
		if admin.AutoUnlock || admin.Name != "Acme Ltd" || admin.MaxFailedLogins != 5 {
			t.Errorf("admin's patch = %+v", admin)
		}

		var orgs struct{ Items []orgBody }
		f.call(t, asStaff, "GET", "/api/v1/orgs", "").want(t, http.StatusOK, &orgs)
		var slugs []string
		for _, o := range orgs.Items {
			slugs = append(slugs, o.Slug)
		}
		if len(slugs) != 3 || slugs[0] != "acme" || slugs[1] != "globex" || slugs[2] != "initech" {
			t.Errorf("orgs = %v, want acme, globex, initech", slugs)
		}
		f.call(t, asStaff, "GET", "/api/v1/orgs/nope", "").wantError(t, http.StatusNotFound)
		f.call(t, asStaff, "PATCH", "/api/v1/orgs/nope", `{"auto_unlock":true}`).wantError(t, http.StatusNotFound)
	})
}

func TestAPIOrgBadInput(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		before := f.snapshot(t)
		for _, tc := range []struct{ method, path, body string }{
			{"PATCH", "/api/v1/orgs/acme", `{}`},
			{"PATCH", "/api/v1/orgs/acme", `{"name":""}`},
			{"PATCH", "/api/v1/orgs/acme", `{"lockout_duration":"1.5s"}`},
			{"PATCH", "/api/v1/orgs/acme", `{"lockout_duration":30}`},
			{"PATCH", "/api/v1/orgs/acme", `{"lockout_duration":"-1h"}`},
			{"PATCH", "/api/v1/orgs/acme", `{"failure_window":"soon"}`},
			{"PATCH", "/api/v1/orgs/acme", `{"failure_window":"100000d"}`},
			{"PATCH", "/api/v1/orgs/acme", `{"max_failed_logins":-1}`},
			{"PATCH", "/api/v1/orgs/acme", `{"max_failed_logins":2000000}`},
			{"PATCH", "/api/v1/orgs/acme", `{"max_failed_logins":99999999999999999999}`},
			{"PATCH", "/api/v1/orgs/acme", `{"max_requests_per_hour":1.5}`},
			{"PATCH", "/api/v1/orgs/acme", `{"auto_unlock":"yes"}`},
			{"PATCH", "/api/v1/orgs/acme", `{"email_confirmation":"never"}`},
			{"PATCH", "/api/v1/orgs/acme", `{"email_confirmation":null}`},
			{"PATCH", "/api/v1/orgs/acme", `{"slug":"other"}`},
			{"PATCH", "/api/v1/orgs/acme", `{"name":"` + long(201) + `"}`},
			{"POST", "/api/v1/orgs", `{"slug":"Caps","name":"x"}`},
			{"POST", "/api/v1/orgs", `{"slug":"-dash","name":"x"}`},
			{"POST", "/api/v1/orgs", `{"slug":"` + long(64) + `","name":"x"}`},
			{"POST", "/api/v1/orgs", `{"slug":"../etc","name":"x"}`},
			{"POST", "/api/v1/orgs", `{"slug":"fine"}`},
			{"POST", "/api/v1/orgs", `{"slug":"fine","name":""}`},
			{"POST", "/api/v1/orgs", `{"slug":"fine","name":"x","max_failed_logins":-5}`},
		} {
			r := f.call(t, asStaff, tc.method, tc.path, tc.body)
			if code := r.wantError(t, http.StatusBadRequest); code != "invalid" {
				t.Errorf("%s %s %s: code %q, want invalid", tc.method, tc.path, tc.body, code)
			}
		}
		wantUnchanged(t, before, f.snapshot(t))
	})
}

func TestAPIContacts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		var c contactAnswer
		f.call(t, asStaff, "POST", "/api/v1/orgs/acme/contacts", `{"email":"Boss@ACME.example","name":"The Boss"}`).
			want(t, http.StatusCreated, &c)
		if c.Email != "boss@acme.example" || c.Name != "The Boss" || c.SharedWith != nil || c.Warnings != nil {
			t.Errorf("contact = %+v, want the address normalised and no warning", c)
		}
		f.call(t, asStaff, "POST", "/api/v1/orgs/acme/contacts", `{"email":"BOSS@acme.example"}`).wantError(t, http.StatusConflict)
		before := f.snapshot(t)
		for _, body := range []string{`{"email":"not an address"}`, `{"email":""}`, `{"email":"a@b.example","name":"` + long(201) + `"}`,
			`{"email":"` + long(300) + `@example.org"}`, `{"email":"a@b.example","shared_with":["x"]}`} {
			f.call(t, asStaff, "POST", "/api/v1/orgs/acme/contacts", body).wantError(t, http.StatusBadRequest)
		}
		wantUnchanged(t, before, f.snapshot(t))

		var list struct{ Items []struct{ Email string } }
		f.call(t, asAdminA, "GET", "/api/v1/orgs/acme/contacts", "").want(t, http.StatusOK, &list)
		if len(list.Items) != 2 || list.Items[0].Email != "boss@acme.example" || list.Items[1].Email != contactOf(orgA) {
			t.Errorf("contacts = %+v", list.Items)
		}
		f.call(t, asStaff, "DELETE", "/api/v1/orgs/acme/contacts/BOSS@acme.example", "").want(t, http.StatusNoContent, nil)
		f.call(t, asStaff, "DELETE", "/api/v1/orgs/acme/contacts/boss@acme.example", "").wantError(t, http.StatusNotFound)
		f.call(t, asStaff, "DELETE", "/api/v1/orgs/acme/contacts/"+contactOf(orgB), "").wantError(t, http.StatusNotFound)
		f.call(t, asStaff, "DELETE", "/api/v1/orgs/acme/contacts/%00", "").wantError(t, http.StatusNotFound)
	})
}

// contactAnswer is a contact as the API shows it.
type contactAnswer struct {
	Email, Name string
	SharedWith  []string `json:"shared_with"`
	Warnings    []string
}

// TestAPIContactsAreStaffOnly is the attack of an org admin claiming
// another org's contact: adding or removing a contact of its own org is
// 403 and writes nothing, whichever address it names; it may still list
// them, without learning which other orgs share an address.
func TestAPIContactsAreStaffOnly(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		before := f.snapshot(t)
		for _, body := range []string{`{"email":"` + contactOf(orgB) + `","name":"Their IT"}`, `{"email":"new@acme.example"}`, `{"email":"not an address"}`} {
			if code := f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/contacts", body).wantError(t, http.StatusForbidden); code != "forbidden" {
				t.Errorf("code %q", code)
			}
		}
		f.call(t, asAdminA, "DELETE", "/api/v1/orgs/acme/contacts/"+contactOf(orgA), "").wantError(t, http.StatusForbidden)
		f.call(t, asAdminA, "DELETE", "/api/v1/orgs/acme/contacts/nobody@acme.example", "").wantError(t, http.StatusForbidden)
		f.call(t, asAdminA, "POST", "/api/v1/orgs/globex/contacts", `{"email":"x@globex.example"}`).wantError(t, http.StatusNotFound)
		f.call(t, asAdminA, "DELETE", "/api/v1/orgs/globex/contacts/"+contactOf(orgB), "").wantError(t, http.StatusNotFound)
		wantUnchanged(t, before, f.snapshot(t))

		// Staff may share an address, and are warned; the admin's list
		// does not name the other org.
		var c contactAnswer
		f.call(t, asStaff, "POST", "/api/v1/orgs/acme/contacts", `{"email":"`+strings.ToUpper(contactOf(orgB))+`"}`).want(t, http.StatusCreated, &c)
		if len(c.SharedWith) != 1 || c.SharedWith[0] != orgB || len(c.Warnings) != 1 ||
			!strings.Contains(c.Warnings[0], contactOf(orgB)+" is also a contact of "+orgB) || !strings.Contains(c.Warnings[0], "queued for staff") {
			t.Errorf("shared contact = %+v, want shared_with [%s] and a warning", c, orgB)
		}
		var list struct{ Items []contactAnswer }
		f.call(t, asStaff, "GET", "/api/v1/orgs/acme/contacts", "").want(t, http.StatusOK, &list)
		if len(list.Items) != 2 || fmt.Sprint(list.Items[1].SharedWith) != "["+orgB+"]" || list.Items[0].SharedWith != nil {
			t.Errorf("staff's list = %+v, want %s shared with %s", list.Items, contactOf(orgB), orgB)
		}
		r := f.call(t, asAdminA, "GET", "/api/v1/orgs/acme/contacts", "")
		r.want(t, http.StatusOK, nil)
		if strings.Contains(string(r.body), orgB+`"`) || strings.Contains(string(r.body), "shared_with") {
			t.Errorf("the admin's list names the other org: %s", r.body)
		}
	})
}

// long returns n bytes of text.
func long(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}
