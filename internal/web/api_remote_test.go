package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/directory/webhook"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
	"github.com/unlockd/unlockd/internal/web"
	"github.com/unlockd/unlockd/internal/webhooktest"
)

// newRemoteFixture is the API fixture with both orgs' accounts in a
// webhook directory "hook" at a real in-process HTTPS application.
func newRemoteFixture(t *testing.T, s *store.Store) (*apiFixture, *webhooktest.App) {
	t.Helper()
	app := webhooktest.Start(t)
	dir, err := webhook.Open(ctx, "hook", webhook.Config{URL: app.URL, Secret: webhooktest.Secret, CAFile: app.CAFile,
		Timeout: 2 * time.Second, MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	f := newAPIFixtureConfig(t, s, nil, func(c *web.Config) {
		c.Directories = []string{"corp", "hook"}
		c.Remote = map[string]domain.Directory{"hook": dir}
	})
	for _, org := range []string{orgA, orgB} {
		if _, err := s.ChangeOrg(ctx, org, func(o *domain.Org) error { o.Directory = "hook"; return nil }, "test", "cli"); err != nil {
			t.Fatal(err)
		}
	}
	app.Set(orgA, "ann", "failed_logins")
	app.Set(orgA, "erin", "failed_logins")
	app.Set(orgA, "bob", "admin")
	app.Set(orgA, "carol", "")
	app.Set(orgB, "ann", "failed_logins")
	return f, app
}

type remoteUser struct {
	Username string
	Status   string
	Lock     *struct{ Reason, Note string }
}

// TestAPIOnRemoteDirectory: an org whose accounts live in a webhook
// directory is listed, shown, unlocked, locked and reset through it; each
// change is audited naming the directory; the other org's accounts stay
// out of reach and untouched.
func TestAPIOnRemoteDirectory(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f, app := newRemoteFixture(t, s)
		var list struct{ Items []remoteUser }
		f.call(t, asAdminA, "GET", "/api/v1/orgs/acme/users", "").want(t, http.StatusOK, &list)
		if got := remoteNames(list.Items); got != "ann bob erin" {
			t.Errorf("locked users = %q, want ann bob erin", got)
		}
		f.call(t, asAdminA, "GET", "/api/v1/orgs/acme/users?reason=admin", "").want(t, http.StatusOK, &list)
		if got := remoteNames(list.Items); got != "bob" {
			t.Errorf("admin locks = %q", got)
		}
		var u remoteUser
		f.call(t, asAdminA, "GET", "/api/v1/orgs/acme/users/bob", "").want(t, http.StatusOK, &u)
		if u.Status != "locked" || u.Lock == nil || u.Lock.Reason != "admin" {
			t.Errorf("bob = %+v", u)
		}
		f.call(t, asAdminA, "GET", "/api/v1/orgs/acme/users/nobody", "").wantError(t, http.StatusNotFound)
		f.call(t, asAdminA, "GET", "/api/v1/orgs/globex/users/ann", "").wantError(t, http.StatusNotFound)
		f.call(t, asAdminA, "POST", "/api/v1/orgs/globex/users/ann/unlock", "").wantError(t, http.StatusNotFound)

		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/ann/unlock", "").want(t, http.StatusOK, &u)
		if u.Status != "active" || app.State(orgA, "ann") != "active" || app.State(orgB, "ann") != "locked failed_logins" {
			t.Errorf("after unlock: answered %+v; acme ann %s, globex ann %s", u, app.State(orgA, "ann"), app.State(orgB, "ann"))
		}
		if code := f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/ann/unlock", "").wantError(t, http.StatusConflict); code != "conflict" {
			t.Errorf("second unlock: %s", code)
		}

		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/carol/lock", `{"note":"laptop stolen"}`).want(t, http.StatusOK, &u)
		if app.State(orgA, "carol") != "locked admin" || u.Lock == nil || u.Lock.Note != "laptop stolen" {
			t.Errorf("carol: %s, answered %+v", app.State(orgA, "carol"), u)
		}
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/carol/lock", `{"note":"again"}`).wantError(t, http.StatusConflict)
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/erin/password", "").wantError(t, http.StatusBadRequest)

		var reset struct{ Unlocked []string }
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/reset-failed-logins", "").want(t, http.StatusOK, &reset)
		if strings.Join(reset.Unlocked, " ") != "erin" || app.State(orgA, "bob") != "locked admin" ||
			app.State(orgA, "carol") != "locked admin" || app.State(orgB, "ann") != "locked failed_logins" {
			t.Errorf("reset unlocked %v; bob %s, carol %s, globex ann %s", reset.Unlocked,
				app.State(orgA, "bob"), app.State(orgA, "carol"), app.State(orgB, "ann"))
		}

		entries, err := s.ListAudit(ctx, store.AuditFilter{OrgSlug: orgA, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var audited []string
		for _, e := range entries {
			if strings.Contains(e.Note, "in directory hook") {
				audited = append(audited, string(e.Action)+" "+e.Target)
			}
		}
		if got := strings.Join(audited, ", "); got != "unlock erin, lock carol, unlock ann" {
			t.Errorf("audited in directory hook (newest first): %q", got)
		}
	})
}

// TestAPIRemoteLockChangedAndUnavailable: a lock changed between the
// directory's lookup and the unlock is a conflict and stays; a directory
// that does not answer is a 503 with nothing recorded as done; the bulk
// reset never lifts an admin lock set meanwhile.
func TestAPIRemoteLockChangedAndUnavailable(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f, app := newRemoteFixture(t, s)
		app.BeforeUnlock = func(org, username string) {
			if username == "ann" {
				app.SetLocked(org, username, "admin")
			}
		}
		if code := f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/ann/unlock", "").wantError(t, http.StatusConflict); code != "conflict" {
			t.Errorf("code %s", code)
		}
		if app.State(orgA, "ann") != "locked admin" {
			t.Errorf("ann = %s, want the admin lock set meanwhile", app.State(orgA, "ann"))
		}
		app.BeforeUnlock = func(org, username string) { app.SetLocked(org, username, "admin") }
		var reset struct{ Unlocked []string }
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/reset-failed-logins", "").want(t, http.StatusOK, &reset)
		if len(reset.Unlocked) != 0 || app.State(orgA, "erin") != "locked admin" {
			t.Errorf("reset unlocked %v; erin %s", reset.Unlocked, app.State(orgA, "erin"))
		}
		app.BeforeUnlock = nil

		before, err := s.ListAudit(ctx, store.AuditFilter{OrgSlug: orgA, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		app.Fail(10)
		r := f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users/erin/unlock", "")
		if code := r.wantError(t, http.StatusServiceUnavailable); code != "unavailable" || !strings.Contains(string(r.body), "directory hook did not answer") {
			t.Errorf("unavailable directory: %s", r.body)
		}
		f.call(t, asAdminA, "GET", "/api/v1/orgs/acme/users", "").wantError(t, http.StatusServiceUnavailable)
		after, err := s.ListAudit(ctx, store.AuditFilter{OrgSlug: orgA, Limit: 50})
		if err != nil || len(after) != len(before) {
			t.Errorf("audit entries %d → %d (%v): a failed call recorded something", len(before), len(after), err)
		}
	})
}

func remoteNames(users []remoteUser) string {
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.Username
	}
	return strings.Join(names, " ")
}
