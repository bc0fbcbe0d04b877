package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/totp"
	"github.com/unlockd/unlockd/internal/web"
)

var (
	secretField  = regexp.MustCompile(`data-secret>([A-Z2-7]{32})<`)
	recoveryCode = regexp.MustCompile(`<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>`)
)

// signInCode submits the sign-in form with a second-factor code.
func (b *uiBrowser) signInCode(email, pw, code string) *uiPage {
	b.t.Helper()
	b.get("/signin")
	return b.post("/signin", url.Values{"email": {email}, "password": {pw}, "code": {code}})
}

// enrol signs in as email, which must enrol, and enrols with a code the
// test computes; it returns the secret and the recovery codes shown.
func enrol(t *testing.T, f *uiFixture, b *uiBrowser, email string) (string, []string) {
	t.Helper()
	b.signIn(email, uiPassword).want(http.StatusSeeOther, "/account/totp")
	b.get("/queue").want(http.StatusSeeOther, "/account/totp")
	page := b.get("/account/totp").want(http.StatusOK, "<svg")
	m := secretField.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("the enrolment page shows no secret:\n%s", page.Body)
	}
	secret := m[1]
	if !strings.Contains(page.Body, `<path fill="#000" d="M`) || strings.Contains(page.Body, "<img") {
		t.Errorf("the QR code is not drawn in the page")
	}
	b.post("/account/totp", url.Values{"secret": {secret}, "code": {"12345"}}).want(http.StatusUnprocessableEntity, "does not match")
	b.post("/account/totp", url.Values{"secret": {"not base32"}, "code": {"123456"}}).want(http.StatusBadRequest, "malformed")
	code, err := totp.Code(secret, totp.Step(f.Clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	done := b.post("/account/totp", url.Values{"secret": {secret}, "code": {code}}).want(http.StatusOK, "Recovery codes")
	var codes []string
	for _, m := range recoveryCode.FindAllStringSubmatch(done.Body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != totp.RecoveryCodes {
		t.Fatalf("%d recovery codes shown, want %d:\n%s", len(codes), totp.RecoveryCodes, done.Body)
	}
	if got := done.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("the recovery codes page has Cache-Control %q", got)
	}
	b.get("/queue").want(http.StatusOK, "Queue")
	b.get("/account/totp").want(http.StatusOK, "signs in with a password and a code")
	return secret, codes
}

func TestUITOTPRequiredForStaff(t *testing.T) {
	f := newUIFixtureWith(t, func(c *web.Config) { c.RequireTOTP = "" }) // the default: staff
	b := f.browser(t)
	secret, codes := enrol(t, f, b, uiStaff)
	b.post("/signout", nil).want(http.StatusSeeOther, "/signin")

	// Without the code, with the code that confirmed the enrolment (its
	// step is used up), with a wrong password: the same refusal.
	b.signIn(uiStaff, uiPassword).want(http.StatusUnauthorized, "invalid email, password or code")
	now, _ := totp.Code(secret, totp.Step(f.Clock.Now()))
	b.signInCode(uiStaff, uiPassword, now).want(http.StatusUnauthorized, "invalid email, password or code")
	f.Clock.Add(totp.Period)
	next, _ := totp.Code(secret, totp.Step(f.Clock.Now()))
	b.signInCode(uiStaff, "wrong password", next).want(http.StatusUnauthorized, "invalid email, password or code")
	b.signInCode(uiStaff, uiPassword, next).want(http.StatusSeeOther, "/")
	b.get("/queue").want(http.StatusOK, "Queue")

	// A code is good once: replayed from another browser, it is refused.
	other := f.browser(t)
	other.signInCode(uiStaff, uiPassword, next).want(http.StatusUnauthorized, "invalid email, password or code")
	// Recovery codes stand in for a code, once each.
	other.signInCode(uiStaff, uiPassword, strings.ToUpper(codes[3])).want(http.StatusSeeOther, "/")
	f.browser(t).signInCode(uiStaff, uiPassword, codes[3]).want(http.StatusUnauthorized, "invalid email, password or code")

	// An admin is not made to enrol under the default policy.
	f.signedIn(t, uiAdminAcme)
}

func TestUITOTPRequireAllAndNone(t *testing.T) {
	all := newUIFixtureWith(t, func(c *web.Config) { c.RequireTOTP = web.RequireTOTPAll })
	enrol(t, all, all.browser(t), uiAdminAcme)

	none := newUIFixtureWith(t, func(c *web.Config) { c.RequireTOTP = web.RequireTOTPNone })
	b := none.signedIn(t, uiStaff)
	// Enrolling is still open to anyone, and then needed to sign in.
	page := b.get("/account/totp").want(http.StatusOK, "<svg")
	secret := secretField.FindStringSubmatch(page.Body)[1]
	code, _ := totp.Code(secret, totp.Step(none.Clock.Now()))
	b.post("/account/totp", url.Values{"secret": {secret}, "code": {code}}).want(http.StatusOK, "Recovery codes")
	b.post("/account/totp", url.Values{"secret": {secret}, "code": {code}}).want(http.StatusSeeOther, "/account/totp")
	none.Clock.Add(totp.Period)
	none.browser(t).signIn(uiStaff, uiPassword).want(http.StatusUnauthorized, "invalid email, password or code")
	code, _ = totp.Code(secret, totp.Step(none.Clock.Now()))
	none.browser(t).signInCode(uiStaff, uiPassword, code).want(http.StatusSeeOther, "/")
}
