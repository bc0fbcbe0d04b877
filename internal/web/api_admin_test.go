package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// mustDeadMail queues a reply and kills it as the worker would after its
// last attempt, and returns its id.
func (f *apiFixture) mustDeadMail(t testing.TB) int64 {
	t.Helper()
	id := f.unique("dead")
	if err := f.store.QueueMail(ctx, domain.Mail{Kind: domain.MailReply, To: contactOf(orgA), Subject: "Re: " + id,
		MessageID: id + "@unlockd.test", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	mails, err := f.store.Outbox(ctx, store.MailPending)
	if err != nil {
		t.Fatal(err)
	}
	m := mails[len(mails)-1]
	if err := f.store.MailFailed(ctx, m.ID, "550 5.1.1 no such user", time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

// TestAPIDeleteOrgWithQueuedRequests: staff delete an org with a queued
// request; its users, contacts, requests and tokens go, its audit entries
// stay under its slug for staff, and its admin cannot delete it.
func TestAPIDeleteOrgWithQueuedRequests(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		id, _ := f.mustRequest(t, orgA)
		f.call(t, asAdminA, "DELETE", "/api/v1/orgs/"+orgA, "").wantError(t, http.StatusForbidden)
		f.call(t, asStaff, "DELETE", "/api/v1/orgs/Bad%20Slug", "").wantError(t, http.StatusBadRequest)
		f.call(t, asStaff, "DELETE", "/api/v1/orgs/nope", "").wantError(t, http.StatusNotFound)

		var got struct {
			Org            string `json:"org"`
			Users          int    `json:"users"`
			Contacts       int    `json:"contacts"`
			QueuedRequests int    `json:"queued_requests"`
		}
		f.call(t, asStaff, "DELETE", "/api/v1/orgs/"+orgA, "").want(t, http.StatusOK, &got)
		if got.Org != orgA || got.Users != 1 || got.Contacts != 1 || got.QueuedRequests != 1 {
			t.Errorf("deleted = %+v", got)
		}
		f.call(t, asStaff, "GET", "/api/v1/orgs/"+orgA, "").wantError(t, http.StatusNotFound)
		f.call(t, asStaff, "GET", fmt.Sprintf("/api/v1/requests/%d", id), "").wantError(t, http.StatusNotFound)
		f.call(t, asAdminA, "GET", "/api/v1/orgs/"+orgA, "").wantError(t, http.StatusUnauthorized)
		f.call(t, asStaff, "GET", "/api/v1/orgs/"+orgB, "").want(t, http.StatusOK, nil)

		var audit struct {
			Items []struct {
				Org    string `json:"org"`
				Action string `json:"action"`
				Actor  string `json:"actor"`
			} `json:"items"`
		}
		f.call(t, asStaff, "GET", "/api/v1/audit?org="+orgA, "").want(t, http.StatusOK, &audit)
		if len(audit.Items) < 2 || audit.Items[0].Action != string(domain.ActionOrgDelete) || audit.Items[0].Actor != "token:staff" {
			t.Fatalf("the deleted org's audit = %+v", audit.Items)
		}
		for _, e := range audit.Items {
			if e.Org != orgA {
				t.Errorf("entry %+v lost its org", e)
			}
		}
		f.call(t, asStaff, "GET", "/api/v1/audit?org=nope", "").wantError(t, http.StatusNotFound)
	})
}

// TestAPIUserPatchAndDelete: the body's fields change through the
// domain's checks, each way in answering 400 for bad input and writing
// nothing; a deleted user is gone.
func TestAPIUserPatchAndDelete(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		username := f.mustUser(t, orgA, true)
		path := "/api/v1/orgs/" + orgA + "/users/" + username
		var u struct {
			DisplayName string `json:"display_name"`
			Email       string `json:"email"`
			Status      string `json:"status"`
		}
		f.call(t, asAdminA, "PATCH", path, `{"display_name":"  Ann Smith ","email":"Ann@ACME.example"}`).want(t, http.StatusOK, &u)
		if u.DisplayName != "Ann Smith" || u.Email != "ann@acme.example" || u.Status != "locked" {
			t.Errorf("patched = %+v", u)
		}
		before := f.snapshot(t)
		for _, body := range []string{`{}`, `{"email":"not an address"}`, `{"display_name":null}`, `{"username":"x"}`,
			`{"display_name":"` + strings.Repeat("n", 201) + `"}`, `{"display_name":"bell\u0007"}`} {
			f.call(t, asAdminA, "PATCH", path, body).wantError(t, http.StatusBadRequest)
		}
		f.call(t, asAdminA, "PATCH", "/api/v1/orgs/"+orgA+"/users/nobody", `{"email":""}`).wantError(t, http.StatusNotFound)
		wantUnchanged(t, before, f.snapshot(t))
		f.call(t, asAdminA, "PATCH", path, `{"email":""}`).want(t, http.StatusOK, &u)
		if u.Email != "" || u.DisplayName != "Ann Smith" {
			t.Errorf("after clearing the email = %+v", u)
		}

		f.call(t, asAdminA, "DELETE", path, "").want(t, http.StatusNoContent, nil)
		f.call(t, asAdminA, "GET", path, "").wantError(t, http.StatusNotFound)
		f.call(t, asAdminA, "DELETE", path, "").wantError(t, http.StatusNotFound)
		entries, _ := s.ListAudit(ctx, store.AuditFilter{Target: username, Limit: 1})
		if len(entries) != 1 || entries[0].Action != domain.ActionUserDelete || entries[0].Actor != "token:admin-a" {
			t.Errorf("audit = %+v", entries)
		}
	})
}

// TestAPIContactRename: staff rename a contact found by its address in any
// case; an admin may not; bad names are 400.
func TestAPIContactRename(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		path := "/api/v1/orgs/" + orgA + "/contacts/" + url.PathEscape(strings.ToUpper(contactOf(orgA)))
		var c struct {
			Email string `json:"email"`
			Name  string `json:"name"`
		}
		f.call(t, asStaff, "PATCH", path, `{"name":" Helpdesk "}`).want(t, http.StatusOK, &c)
		if c.Email != contactOf(orgA) || c.Name != "Helpdesk" {
			t.Errorf("renamed = %+v", c)
		}
		f.call(t, asAdminA, "PATCH", path, `{"name":"Mine"}`).wantError(t, http.StatusForbidden)
		for _, body := range []string{`{}`, `{"name":"` + strings.Repeat("n", 201) + `"}`, `{"email":"x@y.example"}`} {
			f.call(t, asStaff, "PATCH", path, body).wantError(t, http.StatusBadRequest)
		}
		f.call(t, asStaff, "PATCH", "/api/v1/orgs/"+orgA+"/contacts/nobody@acme.example", `{"name":"x"}`).wantError(t, http.StatusNotFound)
		f.call(t, asStaff, "PATCH", "/api/v1/orgs/"+orgA+"/contacts/"+strings.Repeat("a", 300)+"@x.example", `{"name":"x"}`).wantError(t, http.StatusBadRequest)
	})
}

// TestAPIDeadMail: staff list dead mail with its last error, page it,
// retry and discard it; anything not dead is not found.
func TestAPIDeadMail(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		a, b := f.mustDeadMail(t), f.mustDeadMail(t)
		type list struct {
			Items []struct {
				ID        int64  `json:"id"`
				To        string `json:"to"`
				LastError string `json:"last_error"`
				Attempts  int    `json:"attempts"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		var page list
		f.call(t, asStaff, "GET", "/api/v1/dead-mail?limit=1", "").want(t, http.StatusOK, &page)
		if len(page.Items) != 1 || page.Items[0].ID != a || page.Items[0].LastError != "550 5.1.1 no such user" || page.NextCursor == "" {
			t.Fatalf("first page = %+v", page)
		}
		f.call(t, asStaff, "GET", "/api/v1/dead-mail?limit=1&cursor="+page.NextCursor, "").want(t, http.StatusOK, &page)
		if len(page.Items) != 1 || page.Items[0].ID != b {
			t.Fatalf("second page = %+v", page)
		}
		f.call(t, asStaff, "GET", "/api/v1/dead-mail?status=dead", "").wantError(t, http.StatusBadRequest)
		f.call(t, asAdminA, "GET", "/api/v1/dead-mail", "").wantError(t, http.StatusForbidden)

		var retried struct {
			ID int64 `json:"id"`
		}
		f.call(t, asStaff, "POST", fmt.Sprintf("/api/v1/dead-mail/%d/retry", a), "").want(t, http.StatusOK, &retried)
		if retried.ID != a {
			t.Errorf("retried = %+v", retried)
		}
		f.call(t, asStaff, "POST", fmt.Sprintf("/api/v1/dead-mail/%d/retry", a), "").wantError(t, http.StatusNotFound)
		f.call(t, asStaff, "DELETE", fmt.Sprintf("/api/v1/dead-mail/%d", a), "").wantError(t, http.StatusNotFound)
		f.call(t, asStaff, "DELETE", "/api/v1/dead-mail/abc", "").wantError(t, http.StatusBadRequest)
		f.call(t, asStaff, "DELETE", fmt.Sprintf("/api/v1/dead-mail/%d", b), "").want(t, http.StatusNoContent, nil)
		f.call(t, asStaff, "GET", "/api/v1/dead-mail", "").want(t, http.StatusOK, &page)
		if len(page.Items) != 0 {
			t.Errorf("dead mail left = %+v", page.Items)
		}
		pending, _ := s.Outbox(ctx, store.MailPending)
		if len(pending) != 1 || pending[0].ID != a || pending[0].Attempts != 0 {
			t.Errorf("pending = %+v, want the retried mail with no attempts", pending)
		}
	})
}
