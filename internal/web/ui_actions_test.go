package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/web"
)

// auditActions counts the org's audit entries on target by action.
func (f *uiFixture) auditActions(t *testing.T, org, target string) map[domain.Action]int {
	t.Helper()
	o, err := f.Store.Org(context.Background(), org)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := f.Store.ListAudit(context.Background(), store.AuditFilter{OrgID: o.ID, Target: target, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	n := map[domain.Action]int{}
	for _, e := range entries {
		n[e.Action]++
	}
	return n
}

func TestUIQueueShowsEvidence(t *testing.T) {
	f := newUIFixture(t)
	b := f.signedIn(t, uiAdminAcme)
	p := b.get("/queue").want(http.StatusOK, "Request #")
	for _, s := range []string{"alice", "it@acme.example", "unverified sender", "no DKIM signature",
		"Please unlock alice", "the sender did not pass authentication", "23 Nov 2026 09:25 UTC", "acme"} {
		if !strings.Contains(p.Body, s) {
			t.Errorf("the queue does not show %q", s)
		}
	}
	// Globex's admin sees an empty queue.
	if p := f.signedIn(t, uiAdminGlobex).get("/queue"); strings.Contains(p.Body, "alice") {
		t.Errorf("globex's admin sees acme's request:\n%s", p.Body)
	}
}

func TestUIApproveTwiceUnlocksOnce(t *testing.T) {
	f := newUIFixture(t)
	b := f.signedIn(t, uiStaff)
	approve := fmt.Sprintf("/requests/%d/approve", f.Request)
	b.follow(b.post(approve, nil).want(http.StatusSeeOther, "/queue")).want(http.StatusOK, "alice is unlocked")
	if u := f.user(t, "acme", "alice"); u.Lock != nil || u.FailedLogins != 0 {
		t.Fatalf("alice after approval: lock %+v, %d failed logins", u.Lock, u.FailedLogins)
	}
	b.follow(b.post(approve, nil).want(http.StatusSeeOther, "/queue")).want(http.StatusOK, "already applied")
	if n := f.auditActions(t, "acme", "alice"); n[domain.ActionUnlock] != 1 || n[domain.ActionApprove] != 1 {
		t.Errorf("audit of alice = %v, want one unlock and one approve", n)
	}
	b.get(fmt.Sprintf("/requests/%d", f.Request)).want(http.StatusOK, "operator:"+uiStaff)
}

func TestUIRejectNeedsANote(t *testing.T) {
	f := newUIFixture(t)
	b := f.signedIn(t, uiAdminAcme)
	reject := fmt.Sprintf("/requests/%d/reject", f.Request)
	b.follow(b.post(reject, url.Values{"note": {"  "}})).want(http.StatusOK, "say why")
	b.follow(b.post(reject, url.Values{"note": {"call the helpdesk"}})).want(http.StatusOK, "declined")
	if u := f.user(t, "acme", "alice"); u.Lock == nil {
		t.Fatal("rejecting unlocked alice")
	}
	b.get(fmt.Sprintf("/requests/%d", f.Request)).want(http.StatusOK, "call the helpdesk")
}

func TestUIUserLockUnlockAndReset(t *testing.T) {
	f := newUIFixture(t)
	b := f.signedIn(t, uiAdminAcme)
	b.get("/orgs/acme").want(http.StatusOK, "Reset all failed logins")
	b.follow(b.post("/orgs/acme/users/bob/lock", url.Values{"note": {""}})).want(http.StatusOK, "say why the user is locked")
	b.follow(b.post("/orgs/acme/users/bob/lock", url.Values{"note": {"on leave"}})).want(http.StatusOK, "bob is locked")
	b.get("/orgs/acme").want(http.StatusOK, "on leave")

	// Reset lifts failed-login locks only.
	b.follow(b.post("/orgs/acme/reset-failed-logins", nil)).want(http.StatusOK, "unlocked alice.")
	if u := f.user(t, "acme", "bob"); u.Lock == nil || u.Lock.Reason != domain.LockAdmin || u.FailedLogins != 0 {
		t.Errorf("bob after the reset: lock %+v, %d failed logins; want still locked by an admin, none", u.Lock, u.FailedLogins)
	}
	b.follow(b.post("/orgs/acme/users/bob/unlock", nil)).want(http.StatusOK, "bob is unlocked")
	b.follow(b.post("/orgs/acme/users/bob/unlock", nil)).want(http.StatusOK, "is not locked")
}

var shownPassword = regexp.MustCompile(`class="secret"><code>([A-Za-z0-9]+)</code>`)

func TestUIGeneratedPasswordIsShownOnce(t *testing.T) {
	f := newUIFixture(t)
	b := f.signedIn(t, uiAdminAcme)
	p := b.post("/orgs/acme/users/bob/password", nil).want(http.StatusOK, "shown only this once")
	if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	m := shownPassword.FindStringSubmatch(p.Body)
	if m == nil || len(m[1]) != password.GeneratedLength {
		t.Fatalf("no generated password on the page:\n%s", p.Body)
	}
	u := f.user(t, "acme", "bob")
	if u.PasswordHash == m[1] || password.Verify(m[1], u.PasswordHash) != nil {
		t.Errorf("stored %q for shown password %q, want its hash", u.PasswordHash, m[1])
	}
	if strings.Contains(b.get("/orgs/acme/users/bob").Body, m[1]) || strings.Contains(b.get("/orgs/acme/audit").Body, m[1]) {
		t.Error("the password is shown again")
	}
}

func TestUIPolicyForm(t *testing.T) {
	f := newUIFixture(t)
	b := f.signedIn(t, uiAdminAcme)
	b.get("/orgs/acme/policy").want(http.StatusOK, `value="12h"`)
	b.get("/orgs/acme/policy").want(http.StatusOK, `<option value="unverified" selected>`)
	form := url.Values{"max_failed_logins": {"3"}, "lockout_duration": {"15m"}, "failure_window": {"1h30m"},
		"max_requests_per_hour": {"0"}, "max_unverified_per_hour": {"2"}, "email_confirmation": {"always"}}
	b.follow(b.post("/orgs/acme/policy", form)).want(http.StatusOK, "Security policy saved.")
	org, err := f.Store.Org(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	want := domain.Policy{MaxFailedLogins: 3, LockoutDuration: 15 * time.Minute, FailureWindow: 90 * time.Minute, MaxUnverifiedPerHour: 2,
		EmailConfirmation: domain.ConfirmAlways}
	if org.Policy != want {
		t.Errorf("policy = %+v, want %+v", org.Policy, want)
	}
	b.get("/orgs/acme/policy").want(http.StatusOK, `value="1h30m"`).want(http.StatusOK, `<option value="always" selected>`)

	for field, bad := range map[string]string{"max_failed_logins": "-1", "lockout_duration": "soon", "max_requests_per_hour": "x", "max_unverified_per_hour": "-2"} {
		form := url.Values{"max_failed_logins": {"3"}, "lockout_duration": {"15m"}, "failure_window": {"1h"}, "max_requests_per_hour": {"5"},
			"max_unverified_per_hour": {"5"}, "email_confirmation": {"off"}}
		form.Set(field, bad)
		b.post("/orgs/acme/policy", form).want(http.StatusBadRequest, `value="`+bad+`"`)
	}
	form = url.Values{"max_failed_logins": {"3"}, "lockout_duration": {"15m"}, "failure_window": {"1h"}, "max_requests_per_hour": {"5"},
		"max_unverified_per_hour": {"5"}, "email_confirmation": {"sometimes"}}
	b.post("/orgs/acme/policy", form).want(http.StatusBadRequest, `email_confirmation must be one of off, unverified, always, not &#34;sometimes&#34;`)
	if n := f.auditActions(t, "acme", "acme"); n[domain.ActionPolicyChange] != 1 {
		t.Errorf("audit of the policy = %v, want one change", n)
	}
}

func TestUIErrorPageHidesInternals(t *testing.T) {
	f := newUIFixture(t)
	b := f.signedIn(t, uiStaff)
	f.Store.Close()
	p := b.get("/orgs").want(http.StatusInternalServerError, "internal error")
	for _, leak := range []string{"sql", "database", "goroutine", ".go:"} {
		if strings.Contains(strings.ToLower(p.Body), leak) {
			t.Errorf("the error page shows %q:\n%s", leak, p.Body)
		}
	}
}

// TestUIPolicyDirectory: staff choose the org's directory among builtin
// and the configured ones; an admin sees it and cannot send it.
func TestUIPolicyDirectory(t *testing.T) {
	f := newUIFixtureWith(t, func(c *web.Config) { c.Directories = []string{"corp"} })
	form := url.Values{"max_failed_logins": {"5"}, "lockout_duration": {"0s"}, "failure_window": {"12h"},
		"max_requests_per_hour": {"10"}, "max_unverified_per_hour": {"5"}, "email_confirmation": {"unverified"}}
	admin := f.signedIn(t, uiAdminAcme)
	p := admin.get("/orgs/acme/policy").want(http.StatusOK, "Users live in directory <code>builtin</code>")
	if strings.Contains(p.Body, `name="directory"`) {
		t.Error("an admin is offered the directory")
	}
	form.Set("directory", "corp")
	admin.post("/orgs/acme/policy", form).want(http.StatusForbidden, "")
	staff := f.signedIn(t, uiStaff)
	staff.get("/orgs/acme/policy").want(http.StatusOK, `<option value="corp">corp</option>`)
	staff.follow(staff.post("/orgs/acme/policy", form)).want(http.StatusOK, "Security policy saved.")
	if org, err := f.Store.Org(context.Background(), "acme"); err != nil || org.Directory != "corp" {
		t.Fatalf("org = %+v, %v", org, err)
	}
	staff.get("/orgs/acme/policy").want(http.StatusOK, `<option value="corp" selected>corp</option>`)
	form.Set("directory", "elsewhere")
	staff.post("/orgs/acme/policy", form).want(http.StatusBadRequest, "is not configured")
}
