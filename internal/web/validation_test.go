package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/csvimport"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
)

// uiFixtureAPI sends body with token to the UI fixture's server, whose API
// shares the UI's store, as the API tests' call does.
func uiFixtureAPI(t *testing.T, f *uiFixture, token, method, path, body string) (int, http.Header, []byte) {
	t.Helper()
	r := (&apiFixture{url: f.Server.URL, tokens: map[string]string{asStaff: token}}).call(t, asStaff, method, path, body)
	return r.status, r.header, r.body
}

// apiAt is uiFixtureAPI answering the status and, for an error, its
// message.
func apiAt(t *testing.T, f *uiFixture, token, method, path, body string) (int, string) {
	t.Helper()
	status, _, b := uiFixtureAPI(t, f, token, method, path, body)
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	json.Unmarshal(b, &e)
	return status, e.Error.Message
}

// csvRefusal parses a one-row CSV file and returns the message of its one
// row error, without the file and line.
func csvRefusal(t *testing.T, users bool, content string) string {
	t.Helper()
	var err error
	if users {
		_, err = csvimport.ParseUsers(strings.NewReader(content), "users.csv", "cli", time.Now())
	} else {
		_, err = csvimport.ParseContacts(strings.NewReader(content), "contacts.csv")
	}
	var errs *csvimport.Errors
	if !errors.As(err, &errs) || len(errs.Errs) != 1 || errs.Errs[0].Line != 2 {
		t.Fatalf("CSV %q: %v, want one error on line 2", content, err)
	}
	return errs.Errs[0].Msg
}

// TestOneValidationPath posts the same bad policy values, notes and names
// through the API, the web UI and CSV import, and gets the same refusal,
// naming the field, from each: the rules live in internal/domain and every
// way in reaches them. Durations are the configuration file's (1d works),
// never rounded (500ms is refused, not stored as 0s), and counts that
// overflow a column are a 400, never a 500.
func TestOneValidationPath(t *testing.T) {
	f := newUIFixture(t)
	ctx := context.Background()
	tok, hash := password.NewToken()
	if _, err := f.Store.CreateToken(ctx, store.Token{Name: "staff", Role: domain.RoleStaff}, hash, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	b := f.signedIn(t, uiStaff)
	policy := func() domain.Policy {
		t.Helper()
		o, err := f.Store.Org(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		return o.Policy
	}
	form := func(field, value string) url.Values {
		v := url.Values{"max_failed_logins": {"5"}, "lockout_duration": {"0s"}, "failure_window": {"12h"},
			"auto_unlock": {"on"}, "max_requests_per_hour": {"10"}, "max_unverified_per_hour": {"5"}, "email_confirmation": {"unverified"}}
		v.Set(field, value)
		return v
	}
	// The UI shows the refusal on the page it answers with, or on the one
	// its redirect leads to.
	uiSays := func(p *uiPage, status int, msg string) {
		t.Helper()
		if p.Status == http.StatusSeeOther {
			p = b.follow(p)
		}
		if p.Status != status || !strings.Contains(p.Body, html.EscapeString(msg)) {
			t.Errorf("UI answered %d without %q, want %d with it:\n%s", p.Status, msg, status, p.Body)
		}
	}

	t.Run("policy", func(t *testing.T) {
		before := policy()
		for _, tc := range []struct {
			field, json, form, want string
		}{
			{"max_failed_logins", `3000000000`, "3000000000", "max_failed_logins must be a whole number from 0 to 1000000"},
			{"max_requests_per_hour", `-1`, "-1", "max_requests_per_hour must be a whole number from 0 to 1000000"},
			{"max_unverified_per_hour", `99999999999999999999`, "99999999999999999999", "max_unverified_per_hour"},
			{"lockout_duration", `"500ms"`, "500ms", "lockout_duration must be a whole number of seconds, not 500ms"},
			{"failure_window", `"900ms"`, "900ms", "failure_window must be a whole number of seconds, not 900ms"},
			{"lockout_duration", `"36501d"`, "36501d", "lockout_duration must be from 0s to 36500d"},
			{"lockout_duration", `"abc"`, "abc", `lockout_duration: invalid duration "abc"`},
			{"failure_window", `"-1h"`, "-1h", "failure_window must be from 0s to 36500d"},
			{"email_confirmation", `"sometimes"`, "sometimes", `email_confirmation must be one of off, unverified, always, not "sometimes"`},
			{"email_confirmation", `""`, "", `email_confirmation must be one of off, unverified, always, not ""`},
		} {
			status, msg := apiAt(t, f, tok, "PATCH", "/api/v1/orgs/acme", fmt.Sprintf(`{%q:%s}`, tc.field, tc.json))
			if status != http.StatusBadRequest || !strings.Contains(msg, tc.want) {
				t.Errorf("API %s=%s: %d %q, want 400 with %q", tc.field, tc.json, status, msg, tc.want)
			}
			uiSays(b.post("/orgs/acme/policy", form(tc.field, tc.form)), http.StatusBadRequest, tc.want)
		}
		// A value of the wrong JSON type is refused naming its field too.
		for _, body := range []string{`{"lockout_duration":5}`, `{"max_failed_logins":"5"}`, `{"auto_unlock":"yes"}`, `{"email_confirmation":true}`} {
			field := body[2 : strings.Index(body[2:], `"`)+2]
			if status, msg := apiAt(t, f, tok, "PATCH", "/api/v1/orgs/acme", body); status != http.StatusBadRequest || !strings.Contains(msg, field) {
				t.Errorf("API %s: %d %q, want 400 naming %s", body, status, msg, field)
			}
		}
		if got := policy(); got != before {
			t.Fatalf("refused values changed the policy: %+v, want %+v", got, before)
		}

		// 1d, as the configuration file takes it, works both ways and is
		// kept exactly.
		if status, msg := apiAt(t, f, tok, "PATCH", "/api/v1/orgs/acme", `{"lockout_duration":"1d","failure_window":"1d12h"}`); status != http.StatusOK {
			t.Fatalf("API 1d: %d %s", status, msg)
		}
		if p := policy(); p.LockoutDuration != 24*time.Hour || p.FailureWindow != 36*time.Hour {
			t.Errorf("API 1d stored %+v", p)
		}
		b.get("/orgs/acme/policy").want(http.StatusOK, `value="1d12h"`)
		uiSays(b.post("/orgs/acme/policy", form("lockout_duration", "2d")), http.StatusOK, "Security policy saved.")
		if p := policy(); p.LockoutDuration != 48*time.Hour || p.FailureWindow != 12*time.Hour {
			t.Errorf("UI 2d stored %+v", p)
		}
		if status, msg := apiAt(t, f, tok, "POST", "/api/v1/orgs", `{"slug":"daily","name":"Daily","lockout_duration":"1d","failure_window":"90s"}`); status != http.StatusCreated {
			t.Errorf("API create with 1d: %d %s", status, msg)
		} else if o, err := f.Store.Org(ctx, "daily"); err != nil || o.Policy.LockoutDuration != 24*time.Hour || o.Policy.FailureWindow != 90*time.Second {
			t.Errorf("created org = %+v, %v", o, err)
		}
	})

	t.Run("notes", func(t *testing.T) {
		for _, tc := range []struct {
			api, ui, note, want string
		}{
			{"/api/v1/orgs/acme/users/bob/lock", "/orgs/acme/users/bob/lock", "   ", "note is required: say why the user is locked"},
			{"/api/v1/orgs/acme/users/bob/lock", "/orgs/acme/users/bob/lock", strings.Repeat("n", 1001), "note is longer than 1000 bytes"},
			{"/api/v1/orgs/acme/users/bob/lock", "/orgs/acme/users/bob/lock", "bell\a", "contains a control character"},
			{fmt.Sprintf("/api/v1/requests/%d/reject", f.Request), fmt.Sprintf("/requests/%d/reject", f.Request), "",
				"note is required: say why the request is declined"},
		} {
			body, _ := json.Marshal(map[string]string{"note": tc.note})
			if status, msg := apiAt(t, f, tok, "POST", tc.api, string(body)); status != http.StatusBadRequest || !strings.Contains(msg, tc.want) {
				t.Errorf("API %s %q: %d %q, want 400 with %q", tc.api, tc.note, status, msg, tc.want)
			}
			uiSays(b.post(tc.ui, url.Values{"note": {tc.note}}), http.StatusOK, tc.want)
		}
		if u := f.user(t, "acme", "bob"); u.Lock != nil {
			t.Errorf("a refused note locked bob: %+v", u.Lock)
		}
		// A note is kept without the spaces around it, whichever way.
		if status, msg := apiAt(t, f, tok, "POST", "/api/v1/orgs/acme/users/bob/lock", `{"note":"  on leave  "}`); status != http.StatusOK {
			t.Fatalf("API lock: %d %s", status, msg)
		}
		if u := f.user(t, "acme", "bob"); u.Lock == nil || u.Lock.Note != "on leave" {
			t.Errorf("lock = %+v, want the note trimmed", u.Lock)
		}
	})

	t.Run("names", func(t *testing.T) {
		long := strings.Repeat("é", 100) + "x" // 201 bytes
		longEmail := strings.Repeat("a", 250) + "@acme.example"
		for _, tc := range []struct {
			email, name, want string
		}{
			{"new@acme.example", long, "name is longer than 200 bytes"},
			{"new@acme.example", "IT\x07desk", "name \"IT\\adesk\" contains a control character"},
			{longEmail, "Long", "email is longer than 254 bytes"},
			{"not-an-address", "X", `email "not-an-address" is not a valid email address`},
		} {
			body, _ := json.Marshal(map[string]string{"email": tc.email, "name": tc.name})
			if status, msg := apiAt(t, f, tok, "POST", "/api/v1/orgs/acme/contacts", string(body)); status != http.StatusBadRequest || !strings.Contains(msg, tc.want) {
				t.Errorf("API contact %q %q: %d %q, want 400 with %q", tc.email, tc.name, status, msg, tc.want)
			}
			uiSays(b.post("/orgs/acme/contacts", url.Values{"email": {tc.email}, "name": {tc.name}}), http.StatusOK, tc.want)
			row := fmt.Sprintf("email,name\n%s,\"%s\"\n", tc.email, strings.ReplaceAll(tc.name, `"`, `""`))
			if msg := csvRefusal(t, false, row); !strings.Contains(msg, tc.want) {
				t.Errorf("CSV contact %q %q: %q, want %q", tc.email, tc.name, msg, tc.want)
			}
		}
		for _, tc := range []struct {
			username, display, email, want string
		}{
			{"newbie", long, "", "display_name is longer than 200 bytes"},
			{"newbie", "New", longEmail, "email is longer than 254 bytes"},
			{"new bie", "New", "", `username "new bie" contains a character that is not allowed`},
		} {
			body, _ := json.Marshal(map[string]string{"username": tc.username, "display_name": tc.display, "email": tc.email})
			if status, msg := apiAt(t, f, tok, "POST", "/api/v1/orgs/acme/users", string(body)); status != http.StatusBadRequest || !strings.Contains(msg, tc.want) {
				t.Errorf("API user %s: %d %q, want 400 with %q", tc.username, status, msg, tc.want)
			}
			row := fmt.Sprintf("username,display_name,email\n%s,%s,%s\n", tc.username, tc.display, tc.email)
			if msg := csvRefusal(t, true, row); !strings.Contains(msg, tc.want) {
				t.Errorf("CSV user %s: %q, want %q", tc.username, msg, tc.want)
			}
		}
		if status, msg := apiAt(t, f, tok, "PATCH", "/api/v1/orgs/acme", `{"name":"`+long+`"}`); status != http.StatusBadRequest || !strings.Contains(msg, "name is longer than 200 bytes") {
			t.Errorf("API org name: %d %q", status, msg)
		}
		if cs, err := f.Store.Contacts(ctx, "acme"); err != nil || len(cs) != 1 {
			t.Errorf("contacts after refusals = %+v, %v; want only the seeded one", cs, err)
		}
	})
}
