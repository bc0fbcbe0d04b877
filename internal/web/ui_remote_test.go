package web_test

import (
	"context"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/directory/webhook"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/web"
	"github.com/unlockd/unlockd/internal/webhooktest"
)

// TestUIOnWebhookDirectory: the user page of an org in a webhook
// directory shows the password controls disabled with the reason; the
// unlock goes to the application; a directory that does not answer is a
// message on the page (never a 500) and nothing changes.
func TestUIOnWebhookDirectory(t *testing.T) {
	app, f := webhookOrg(t)
	app.Set("acme", "ann", "failed_logins")
	app.Set("acme", "erin", "failed_logins")
	b := f.signedIn(t, uiAdminAcme)

	page := b.get("/orgs/acme/users/ann").want(200, "")
	body := html.UnescapeString(page.Body)
	if !strings.Contains(body, `disabled title="directory hook does not let unlockd set passwords; set them in the application"`) ||
		!strings.Contains(body, "Directory") {
		t.Errorf("ann's page does not disable the password controls with the reason:\n%s", body)
	}
	b.follow(b.post("/orgs/acme/users/ann/unlock", nil).want(303, "/orgs/acme/users/ann"))
	if app.State("acme", "ann") != "active" {
		t.Errorf("ann = %s after the UI's unlock", app.State("acme", "ann"))
	}

	app.Fail(100)
	next := b.follow(b.post("/orgs/acme/users/erin/unlock", nil).want(303, "/orgs/acme/users/erin"))
	if next.Status == 500 || !strings.Contains(next.Body, "directory hook did not answer; nothing was changed") {
		t.Fatalf("a directory down: status %d, page:\n%s", next.Status, next.Body)
	}
	b.post("/orgs/acme/reset-failed-logins", nil).want(303, "/orgs/acme")
	app.Fail(0)
	page = b.get("/orgs/acme/users").want(200, "")
	if app.State("acme", "erin") != "locked failed_logins" || !strings.Contains(page.Body, "erin") {
		t.Errorf("erin = %s; the list:\n%s", app.State("acme", "erin"), page.Body)
	}
}

// TestUIOrgPageOnWebhookDirectory: the org overview of an org in a
// webhook directory lists the directory's locked accounts and offers the
// bulk reset of its failed-login locks, which keeps the admin lock.
func TestUIOrgPageOnWebhookDirectory(t *testing.T) {
	app, f := webhookOrg(t)
	app.Set("acme", "ann", "failed_logins")
	app.Set("acme", "bob", "admin")
	b := f.signedIn(t, uiAdminAcme)
	page := b.get("/orgs/acme").want(200, "")
	if !strings.Contains(page.Body, "In directory <code>hook</code>") || !strings.Contains(page.Body, "/orgs/acme/users/ann") ||
		!strings.Contains(page.Body, "/orgs/acme/users/bob") || strings.Contains(page.Body, "/orgs/acme/users/alice") ||
		!strings.Contains(page.Body, `action="/orgs/acme/reset-failed-logins"`) {
		t.Fatalf("the org page of a webhook org:\n%s", page.Body)
	}
	b.follow(b.post("/orgs/acme/reset-failed-logins", nil).want(303, "/orgs/acme"))
	if app.State("acme", "ann") != "active" || app.State("acme", "bob") != "locked admin" {
		t.Errorf("after the reset: ann %s, bob %s", app.State("acme", "ann"), app.State("acme", "bob"))
	}
}

// webhookOrg is the UI fixture with org acme in directory hook, a webhook
// application of the test's own that gives up after two attempts.
func webhookOrg(t *testing.T) (*webhooktest.App, *uiFixture) {
	t.Helper()
	app := webhooktest.Start(t)
	dir, err := webhook.Open(context.Background(), "hook", webhook.Config{URL: app.URL, Secret: webhooktest.Secret,
		CAFile: app.CAFile, Timeout: 2 * time.Second, MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	f := newUIFixtureWith(t, func(c *web.Config) {
		c.Directories = []string{"hook"}
		c.Remote = map[string]domain.Directory{"hook": dir}
	})
	if _, err := f.Store.ChangeOrg(context.Background(), "acme", func(o *domain.Org) error { o.Directory = "hook"; return nil }, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	return app, f
}
