package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/unlockd/unlockd/internal/password"
)

// TestUIPasswordRules: the user page's password form refuses every rule of
// domain.CheckPassword with a message naming it, and changes nothing; a
// good password is set; the form without a password field still
// generates one.
func TestUIPasswordRules(t *testing.T) {
	f := newUIFixture(t)
	b := f.signedIn(t, uiAdminAcme)
	const to = "/orgs/acme/users/bob"
	before := f.user(t, "acme", "bob").PasswordHash
	for _, weak := range weakPasswords("bob", "bob@acme.example") {
		if weak.pw == "bob@acme.example" {
			continue // bob has no address on record
		}
		p := b.post(to+"/password", url.Values{"password": {weak.pw}}).want(http.StatusSeeOther, to)
		b.follow(p).want(http.StatusOK, weak.rule)
		if got := f.user(t, "acme", "bob").PasswordHash; got != before {
			t.Fatalf("%q (%s) changed bob's password", weak.pw, weak.rule)
		}
	}
	b.get(to).want(http.StatusOK, `name="password"`)
	chosen := "a chosen passphrase"
	b.follow(b.post(to+"/password", url.Values{"password": {chosen}})).want(http.StatusOK, "The new password is set.")
	if err := password.Verify(chosen, f.user(t, "acme", "bob").PasswordHash); err != nil {
		t.Errorf("bob's password after the form: %v", err)
	}
	b.post(to+"/password", nil).want(http.StatusOK, "shown only this once")
}
