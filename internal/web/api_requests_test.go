package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// requestBody is a request as the API shows it.
type requestBody struct {
	ID               int64  `json:"id"`
	Org              string `json:"org"`
	Username         string `json:"username"`
	State            string `json:"state"`
	Reason           string `json:"reason"`
	UnverifiedSender bool   `json:"unverified_sender"`
	Sender           string `json:"sender"`
	Contact          string `json:"contact"`
	Authenticated    bool   `json:"authenticated"`
	AuthReason       string `json:"auth_reason"`
	Subject          string `json:"subject"`
	MessageID        string `json:"message_id"`
	CreatedAt        string `json:"created_at"`
	DecidedBy        string `json:"decided_by"`
	Note             string `json:"note"`
}

func TestAPIRequestEvidenceAndScope(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		idA, userA := f.mustRequest(t, orgA)
		idB, _ := f.mustRequest(t, orgB)

		var r requestBody
		f.call(t, asAdminA, "GET", fmt.Sprintf("/api/v1/requests/%d", idA), "").want(t, http.StatusOK, &r)
		want := requestBody{ID: idA, Org: orgA, Username: userA, State: "pending", Reason: "unverified_sender",
			UnverifiedSender: true, Sender: contactOf(orgA), Contact: contactOf(orgA), AuthReason: "sender not authenticated", Subject: "Unlock " + userA,
			MessageID: r.MessageID, CreatedAt: "2026-11-23T09:30:00Z"}
		if r != want || !strings.HasPrefix(r.MessageID, "<req") {
			t.Errorf("request = %+v\nwant %+v", r, want)
		}
		f.call(t, asAdminA, "GET", fmt.Sprintf("/api/v1/requests/%d", idB), "").wantError(t, http.StatusNotFound)
		f.call(t, asAdminA, "GET", "/api/v1/requests/999999", "").wantError(t, http.StatusNotFound)

		ids := func(who, query string) []int64 {
			t.Helper()
			var list struct{ Items []requestBody }
			f.call(t, who, "GET", "/api/v1/requests"+query, "").want(t, http.StatusOK, &list)
			var out []int64
			for _, r := range list.Items {
				out = append(out, r.ID)
			}
			return out
		}
		if got := ids(asAdminA, ""); fmt.Sprint(got) != fmt.Sprint([]int64{idA}) {
			t.Errorf("admin of A sees requests %v, want only %d", got, idA)
		}
		if got := ids(asStaff, "?status=pending"); fmt.Sprint(got) != fmt.Sprint([]int64{idA, idB}) {
			t.Errorf("staff sees pending %v, want %d and %d", got, idA, idB)
		}
		if got := ids(asStaff, "?status=applied"); len(got) != 0 {
			t.Errorf("applied = %v, want none", got)
		}
		if got := ids(asStaff, "?org="+orgB); fmt.Sprint(got) != fmt.Sprint([]int64{idB}) {
			t.Errorf("staff sees in org B %v, want only %d", got, idB)
		}
		if got := ids(asAdminA, "?org="+orgA+"&status=pending"); fmt.Sprint(got) != fmt.Sprint([]int64{idA}) {
			t.Errorf("admin of A sees in org A %v, want only %d", got, idA)
		}
		f.call(t, asAdminA, "GET", "/api/v1/requests?org="+orgB, "").wantError(t, http.StatusNotFound)
		f.call(t, asStaff, "GET", "/api/v1/requests?org=nope", "").wantError(t, http.StatusNotFound)
		for _, path := range []string{"/api/v1/requests?status=open", "/api/v1/requests?org=Bad%20Slug", "/api/v1/requests?org=acme&org=globex", "/api/v1/requests/abc",
			"/api/v1/requests/0", "/api/v1/requests/-1", "/api/v1/requests/99999999999999999999"} {
			f.call(t, asStaff, "GET", path, "").wantError(t, http.StatusBadRequest)
		}
	})
}

func TestAPIApproveTwiceUnlocksOnceAndAnswers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		id, username := f.mustRequest(t, orgA)
		path := fmt.Sprintf("/api/v1/requests/%d", id)

		var r requestBody
		f.call(t, asAdminA, "POST", path+"/approve", `{"note":"confirmed by phone"}`).want(t, http.StatusOK, &r)
		if r.State != "applied" || r.DecidedBy != "token:admin-a" || r.Note != "confirmed by phone" {
			t.Errorf("approved = %+v", r)
		}
		f.call(t, asStaff, "POST", path+"/approve", "{}").wantError(t, http.StatusConflict)
		f.call(t, asStaff, "POST", path+"/reject", `{"note":"too late"}`).wantError(t, http.StatusConflict)

		if u, err := s.User(ctx, orgA, username); err != nil || u.Lock != nil || u.FailedLogins != 0 {
			t.Errorf("user after approval = %+v, %v: want active, counter cleared", u, err)
		}
		audit, err := s.ListAudit(ctx, store.AuditFilter{Target: username, Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		count := map[domain.Action]int{}
		for _, a := range audit {
			count[a.Action]++
			if a.Action == domain.ActionUnlock && (a.Actor != "token:admin-a" || !strings.HasPrefix(a.Source, "http:")) {
				t.Errorf("unlock entry = %+v", a)
			}
		}
		if count[domain.ActionUnlock] != 1 || count[domain.ActionApprove] != 1 {
			t.Errorf("audit actions for %s = %v, want one unlock and one approve", username, count)
		}
		mail, err := s.Outbox(ctx, "pending")
		if err != nil {
			t.Fatal(err)
		}
		if len(mail) != 1 || mail[0].To != contactOf(orgA) || !strings.HasPrefix(mail[0].Text, "approved: "+username) {
			t.Errorf("outbox = %+v, want one approved answer to %s", mail, contactOf(orgA))
		}
	})
}

func TestAPIReject(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		id, username := f.mustRequest(t, orgA)
		path := fmt.Sprintf("/api/v1/requests/%d/reject", id)
		before := f.snapshot(t)
		for _, body := range []string{"", "{}", `{"note":""}`, `{"note":"` + long(1001) + `"}`} {
			f.call(t, asAdminA, "POST", path, body).wantError(t, http.StatusBadRequest)
		}
		f.call(t, asAdminA, "POST", fmt.Sprintf("/api/v1/requests/%d/approve", id), `{"reason":"ok"}`).wantError(t, http.StatusBadRequest)
		wantUnchanged(t, before, f.snapshot(t))

		var r requestBody
		f.call(t, asAdminA, "POST", path, `{"note":"we did not send this"}`).want(t, http.StatusOK, &r)
		if r.State != "rejected" || r.Note != "we did not send this" {
			t.Errorf("rejected = %+v", r)
		}
		if u, err := s.User(ctx, orgA, username); err != nil || u.Lock == nil {
			t.Errorf("user after rejection = %+v, %v: want still locked", u, err)
		}
		mail, err := s.Outbox(ctx, "pending")
		if err != nil || len(mail) != 1 || !strings.Contains(mail[0].Text, "we did not send this") {
			t.Errorf("outbox = %+v, %v: want the declined answer with the note", mail, err)
		}
	})
}

// TestAPIApproveQueuesRenderedAnswer approves through a server that renders
// answers with the real templates.
func TestAPIApproveQueuesRenderedAnswer(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		rend, err := outbox.NewRenderer("", "support@example.com", "unlockd")
		if err != nil {
			t.Fatal(err)
		}
		f := newAPIFixtureWith(t, s, rend.Answer)
		id, username := f.mustRequest(t, orgA)
		f.call(t, asStaff, "POST", fmt.Sprintf("/api/v1/requests/%d/approve", id), "").want(t, http.StatusOK, nil)
		mail, err := s.Outbox(ctx, "pending")
		if err != nil {
			t.Fatal(err)
		}
		if len(mail) != 1 || mail[0].To != contactOf(orgA) || !strings.Contains(mail[0].Text, username) ||
			!strings.Contains(mail[0].Subject, "Unlock "+username) || mail[0].InReplyTo == "" {
			t.Errorf("outbox = %+v, want the rendered answer, threaded, naming %s", mail, username)
		}
	})
}

func TestAPIAudit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		name := f.mustUser(t, orgA, false)
		f.call(t, asStaff, "POST", "/api/v1/orgs/acme/users/"+name+"/lock", `{"note":"audit me"}`).want(t, http.StatusOK, nil)
		f.mustUser(t, orgB, true)

		var list struct {
			Items []struct {
				Org, Actor, Action, Target, Source, Note string
			}
		}
		f.call(t, asAdminA, "GET", "/api/v1/audit?user="+name, "").want(t, http.StatusOK, &list)
		if len(list.Items) != 2 || list.Items[0].Action != "lock" || list.Items[0].Actor != "token:staff" ||
			list.Items[0].Note != "audit me" || list.Items[0].Org != orgA || !strings.HasPrefix(list.Items[0].Source, "http:") ||
			list.Items[1].Action != "user_create" {
			t.Errorf("audit of %s = %+v", name, list.Items)
		}
		f.call(t, asAdminA, "GET", "/api/v1/audit", "").want(t, http.StatusOK, &list)
		for _, a := range list.Items {
			if a.Org != orgA {
				t.Errorf("admin of A sees %+v", a)
			}
		}
		f.call(t, asStaff, "GET", "/api/v1/audit?org=globex", "").want(t, http.StatusOK, &list)
		if len(list.Items) == 0 {
			t.Error("staff sees no audit of globex")
		}
		for _, a := range list.Items {
			if a.Org != orgB {
				t.Errorf("?org=globex lists %+v", a)
			}
		}
		f.call(t, asStaff, "GET", "/api/v1/audit?org=nope", "").wantError(t, http.StatusNotFound)
		for _, q := range []string{"?org=NOPE", "?user=a/b", "?user=" + long(65), "?actor=x", "?org=acme&org=globex"} {
			f.call(t, asStaff, "GET", "/api/v1/audit"+q, "").wantError(t, http.StatusBadRequest)
		}
	})
}
