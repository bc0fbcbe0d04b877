package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// weakPassword is a password that breaks one rule of domain.CheckPassword
// for the user username with address email, and a word of the message
// that names the rule.
type weakPassword struct{ pw, rule string }

func weakPasswords(username, email string) []weakPassword {
	return []weakPassword{
		{"", "password is empty"},
		{"short", "shorter than 12 characters"},
		{"            ", "shorter than 12 characters"},
		{"aaaaaaaaaaaa", "one character or a short sequence repeated"},
		{"abcabcabcabc", "one character or a short sequence repeated"},
		{"123456789012", "run of keyboard"},
		{"qwertyuiop12", "run of keyboard"},
		{"password1234", "most common passwords"},
		{"password123456", "most common passwords"},
		{"P@ssw0rd2024!", "most common passwords"},
		{username + "123456789", "username or email address"},
		{email, "username or email address"},
		{"correct\x00horse battery", "control characters"},
		{strings.Repeat("x7", 600), "longer than 1024 bytes"},
	}
}

// wantRule checks r is a 422 weak_password error whose message names rule.
func (r apiResponse) wantRule(t *testing.T, rule string) {
	t.Helper()
	if code := r.wantError(t, http.StatusUnprocessableEntity); code != "weak_password" {
		t.Errorf("code = %q, want weak_password", code)
	}
	var e struct{ Error struct{ Message string } }
	if err := json.Unmarshal(r.body, &e); err != nil || !strings.Contains(e.Error.Message, rule) {
		t.Errorf("message %q does not name the rule %q (%v)", e.Error.Message, rule, err)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestAPIPasswordRules: every rule answers 422 naming it, on both ways a
// password comes in through the API, and writes nothing; only a missing
// password field means "generate" (or, for a new user, "none").
func TestAPIPasswordRules(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		const name, email = "jonathan", "jon.smith@acme.example"
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users", `{"username":"`+name+`","email":"`+email+`"}`).want(t, http.StatusCreated, nil)
		path := "/api/v1/orgs/acme/users/" + name + "/password"
		before := f.snapshot(t)
		for _, weak := range weakPasswords(name, email) {
			t.Run(weak.rule, func(t *testing.T) {
				f.call(t, asAdminA, "POST", path, `{"password":`+jsonString(weak.pw)+`}`).wantRule(t, weak.rule)
				// The same username and address, refused before the
				// username's conflict could be.
				body := `{"username":"` + name + `","email":"` + email + `","password":` + jsonString(weak.pw) + `}`
				f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users", body).wantRule(t, weak.rule)
			})
		}
		// The new user's own username and address count, as well as the
		// display name.
		f.call(t, asStaff, "POST", "/api/v1/orgs/acme/users", `{"username":"mariadelcarmen","password":"MariaDelCarmen!"}`).
			wantRule(t, "username or email address")
		f.call(t, asStaff, "POST", "/api/v1/orgs/acme/users", `{"username":"x1","email":"mariadelcarmen@acme.example","password":"mariadelcarmen2024"}`).
			wantRule(t, "username or email address")
		f.call(t, asStaff, "POST", "/api/v1/orgs/acme/users", `{"username":"x2","display_name":"Maria del Carmen","password":"maria del carmen"}`).
			wantRule(t, "username or email address")
		// null is neither a password nor a missing one.
		f.call(t, asAdminA, "POST", path, `{"password":null}`).wantError(t, http.StatusBadRequest)
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users", `{"username":"x3","password":null}`).wantError(t, http.StatusBadRequest)
		f.call(t, asAdminA, "POST", path, `{"password":12345678901234}`).wantError(t, http.StatusBadRequest)
		wantUnchanged(t, before, f.snapshot(t))

		var gen struct{ Password string }
		f.call(t, asAdminA, "POST", path, `{}`).want(t, http.StatusOK, &gen)
		if gen.Password == "" {
			t.Error("{} did not generate a password")
		}
		f.call(t, asAdminA, "POST", path, `{"password":"a chosen passphrase"}`).want(t, http.StatusNoContent, nil)
		var u userBody
		f.call(t, asAdminA, "POST", "/api/v1/orgs/acme/users", `{"username":"nopw"}`).want(t, http.StatusCreated, &u)
		if u.HasPassword {
			t.Error("a user created without a password has one")
		}
	})
}
