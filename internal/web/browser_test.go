package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/unlockd/unlockd/internal/directory/ldap"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/ldaptest"
	"github.com/unlockd/unlockd/internal/totp"
	"github.com/unlockd/unlockd/internal/web"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// EnvScreenshotDir names a folder that keeps the browser test's
// screenshots; without it they go to the test's temporary folder.
const envScreenshotDir = "UNLOCKD_SCREENSHOT_DIR"

// newChromium starts headless chromium for the test. Without it the test
// is skipped, except in CI (CI set), where it fails.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the browser test needs %s in CI: %v", chromiumPath, err)
		}
		t.Skipf("browser test skipped: %s is missing (apt-get install chromium)", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath),
		chromedp.WindowSize(1280, 900))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // chromium refuses to run as root with its sandbox
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestBrowser drives the UI in a real browser: staff enrol a second factor
// from its QR page and sign in again with a code the test computes, approve
// the queued request and see the user unlocked; an admin of another org
// sees neither the request nor the user.
func TestBrowser(t *testing.T) {
	ctx := newChromium(t)
	f := newUIFixtureWith(t, func(c *web.Config) { c.RequireTOTP = web.RequireTOTPStaff })
	base := f.Server.URL
	open := func(path string) int64 {
		t.Helper()
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+path))
		if err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
		return resp.Status
	}
	text := func(css string) string { t.Helper(); return pageText(t, ctx, css) }
	submit := func(button string) {
		t.Helper()
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button))); err != nil {
			t.Fatalf("click %s: %v", button, err)
		}
	}
	signIn := func(email, code string) {
		t.Helper()
		open("/signin")
		steps := []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(chromedp.CSS(`input[name=email]`), email),
			chromedp.SetValue(chromedp.CSS(`input[name=password]`), uiPassword)}
		if code != "" {
			steps = append(steps, chromedp.SetValue(chromedp.CSS(`input[name=code]`), code))
		}
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
		submit(`form[action="/signin"] button`)
		if got := text("header.top"); !strings.Contains(got, email) {
			t.Fatalf("after signing in as %s the header reads %q", email, got)
		}
	}

	// Staff must enrol first: every page leads to the QR code.
	signIn(uiStaff, "")
	if status := open("/queue"); status != 200 || !strings.Contains(text("main h1"), "Two-factor") {
		t.Fatalf("an unenrolled staff member reaches the queue (status %d)", status)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("main svg.qr path").length`)); err != nil || n != 1 {
		t.Fatalf("the enrolment page draws no QR code: %d, %v", n, err)
	}
	screenshot(t, ctx, "totp.png")
	secret := text("[data-secret]")
	code := func() string {
		t.Helper()
		c, err := totp.Code(secret, totp.Step(f.Clock.Now()))
		if err != nil {
			t.Fatalf("secret %q from the page: %v", secret, err)
		}
		return c
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`input[name=code]`), code())); err != nil {
		t.Fatal(err)
	}
	submit(`form[action="/account/totp"] button`)
	if got := text("main"); !strings.Contains(got, "Recovery codes") {
		t.Fatalf("after enrolling the page reads %q", got)
	}
	submit(`form.signout button`)
	f.Clock.Add(totp.Period) // the enrolment used up the current code
	signIn(uiStaff, code())
	if got := text("main"); !strings.Contains(got, "Request #") || !strings.Contains(got, "it@acme.example") {
		t.Fatalf("the queue does not show the request:\n%s", got)
	}
	shot := screenshot(t, ctx, "queue.png")

	approve := fmt.Sprintf(`form[action="/requests/%d/approve"] button`, f.Request)
	submit(approve)
	if got := text(".flash"); !strings.Contains(got, "alice is unlocked") {
		t.Fatalf("after approving, the flash reads %q", got)
	}
	if status := open("/orgs/acme/users/alice"); status != 200 {
		t.Fatalf("alice's page: status %d", status)
	}
	if got := text("main .pagehead h2"); !strings.Contains(got, "active") {
		t.Fatalf("alice's page reads %q, want her active", got)
	}
	screenshot(t, ctx, "user.png")
	submit(`form.signout button`)
	if got := text("main"); !strings.Contains(got, "You are signed out.") {
		t.Fatalf("after signing out the page reads %q", got)
	}

	signIn(uiAdminGlobex, "")
	if got := text("main"); strings.Contains(got, "alice") || strings.Contains(got, "acme") {
		t.Fatalf("globex's admin sees acme in the queue:\n%s", got)
	}
	for _, path := range []string{fmt.Sprintf("/requests/%d", f.Request), "/orgs/acme/users/alice", "/orgs/acme"} {
		if status := open(path); status != 404 {
			t.Errorf("%s as globex's admin: status %d, want 404", path, status)
		}
		if got := text("main h1"); !strings.Contains(got, "404") {
			t.Errorf("%s as globex's admin reads %q, want the 404 page", path, got)
		}
	}
	t.Logf("queue screenshot: %s", shot)
}

// pageText returns the text of the first element css selects.
func pageText(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("read %s: %v", css, err)
	}
	return s
}

// screenshot saves a full-page PNG of the current page and checks it is
// one.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	dir := os.Getenv(envScreenshotDir)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(buf))
	if err != nil || cfg.Width == 0 || cfg.Height == 0 {
		t.Fatalf("screenshot %s is not a PNG (%d bytes): %v", name, len(buf), err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("screenshot %s: %v, %v", path, fi, err)
	}
	return path
}

// TestBrowserLDAPOrg: an admin of an org whose accounts live in a real
// slapd opens its locked users in the browser, sees the user locked by
// failed binds and the admin-locked one, and unlocks the first from its
// page: slapd lifts the lock (a fresh search and a bind say so) and the
// admin lock stays.
func TestBrowserLDAPOrg(t *testing.T) {
	ctx := newChromium(t)
	slapd := ldaptest.Start(t)
	orgDN := slapd.AddOrg(t, "acme")
	jsmith := slapd.AddUser(t, orgDN, ldaptest.User{Username: "jsmith", Password: "pw-jsmith"})
	slapd.FailBinds(t, jsmith, 3)
	boss := slapd.AddUser(t, orgDN, ldaptest.User{Username: "boss", Password: "pw-boss",
		Attrs: map[string][]string{"pwdAccountLockedTime": {"000001010000Z"}}})
	dir, err := ldap.Open("corp", ldap.Config{Server: ldap.OpenLDAP, URL: slapd.URL(), StartTLS: true, CAFile: slapd.CAFile(),
		BindDN: ldaptest.ServiceDN, BindPassword: ldaptest.ServicePassword, BaseDN: "ou={org}," + ldaptest.Suffix,
		UserFilter: "(uid={username})", Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	f := newUIFixtureWith(t, func(c *web.Config) {
		c.Directories = []string{"corp"}
		c.Remote = map[string]domain.Directory{"corp": dir}
	})
	if _, err := f.Store.ChangeOrg(context.Background(), "acme", func(o *domain.Org) error { o.Directory = "corp"; return nil }, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	base := f.Server.URL
	text := func(css string) string { t.Helper(); return pageText(t, ctx, css) }
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/signin"),
		chromedp.SetValue(chromedp.CSS(`input[name=email]`), uiAdminAcme),
		chromedp.SetValue(chromedp.CSS(`input[name=password]`), uiPassword)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`form[action="/signin"] button`))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+"/orgs/acme/users")); err != nil {
		t.Fatal(err)
	}
	list := text("main")
	if !strings.Contains(list, "directory corp") || !strings.Contains(list, "jsmith") || !strings.Contains(list, "boss") ||
		strings.Contains(list, "alice") {
		t.Fatalf("the locked users of the LDAP org:\n%s", list)
	}
	screenshot(t, ctx, "ldap-users.png")
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`a[href="/orgs/acme/users/jsmith"]`))); err != nil {
		t.Fatal(err)
	}
	if got := text("main .pagehead h2"); !strings.Contains(got, "locked") {
		t.Fatalf("jsmith's page reads %q", got)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`form[action="/orgs/acme/users/jsmith/unlock"] button`))); err != nil {
		t.Fatal(err)
	}
	if got := text(".flash"); !strings.Contains(strings.ToLower(got), "jsmith is unlocked") {
		t.Fatalf("after unlocking, the flash reads %q", got)
	}
	if got := text("main .pagehead h2"); !strings.Contains(got, "active") {
		t.Errorf("jsmith's page after the unlock reads %q", got)
	}
	screenshot(t, ctx, "ldap-user.png")
	if v := slapd.Attr(t, jsmith, "pwdAccountLockedTime"); len(v) != 0 {
		t.Errorf("jsmith is still locked in slapd: %v", v)
	}
	if err := slapd.Bind(t, jsmith, "pw-jsmith"); err != nil {
		t.Errorf("jsmith cannot bind after the unlock: %v", err)
	}
	if v := slapd.Attr(t, boss, "pwdAccountLockedTime"); len(v) != 1 || v[0] != "000001010000Z" {
		t.Errorf("boss's admin lock = %v", v)
	}
}
