package domain

import (
	"strings"
	"testing"
	"time"
)

// wantErr checks err against want: "" for none, else a word of the
// message of an *Error of code code.
func wantErr(t *testing.T, what string, err error, code Code, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: %v, want no error", what, err)
	case want != "" && err == nil:
		t.Errorf("%s: no error, want %q", what, want)
	case want != "" && (ErrorCode(err) != code || !strings.Contains(ErrorMessage(err), want)):
		t.Errorf("%s: %v (code %s), want code %s with %q", what, err, ErrorCode(err), code, want)
	}
}

func TestPolicyValidate(t *testing.T) {
	with := func(mod func(*Policy)) Policy {
		p := DefaultPolicy()
		mod(&p)
		return p
	}
	tests := []struct {
		name   string
		policy Policy
		want   string
	}{
		{"the default", DefaultPolicy(), ""},
		{"zeros mean never or no limit", Policy{}, ""},
		{"the upper bounds", Policy{MaxFailedLogins: MaxPolicyCount, MaxRequestsPerHour: MaxPolicyCount, MaxUnverifiedPerHour: MaxPolicyCount,
			LockoutDuration: MaxPolicyDuration, FailureWindow: MaxPolicyDuration}, ""},
		{"one day", with(func(p *Policy) { p.LockoutDuration = 24 * time.Hour }), ""},
		{"negative count", with(func(p *Policy) { p.MaxFailedLogins = -1 }), "max_failed_logins must be a whole number from 0 to 1000000"},
		{"count past an INTEGER column", with(func(p *Policy) { p.MaxRequestsPerHour = 3_000_000_000 }), "max_requests_per_hour must be a whole number from 0 to 1000000"},
		{"count past the bound", with(func(p *Policy) { p.MaxUnverifiedPerHour = MaxPolicyCount + 1 }), "max_unverified_per_hour"},
		{"negative duration", with(func(p *Policy) { p.LockoutDuration = -time.Hour }), "lockout_duration must be from 0s to 36500d"},
		{"duration past the bound", with(func(p *Policy) { p.FailureWindow = MaxPolicyDuration + time.Second }), "failure_window must be from 0s to 36500d"},
		{"part of a second would be kept as 0s", with(func(p *Policy) { p.LockoutDuration = 500 * time.Millisecond }), "lockout_duration must be a whole number of seconds, not 500ms"},
		{"every confirmation policy", with(func(p *Policy) { p.EmailConfirmation = ConfirmAlways }), ""},
		{"an unknown confirmation policy", with(func(p *Policy) { p.EmailConfirmation = "sometimes" }), `email_confirmation must be one of off, unverified, always, not "sometimes"`},
		{"part of a second on top", with(func(p *Policy) { p.FailureWindow = 15*time.Minute + 900*time.Millisecond }), "failure_window must be a whole number of seconds"},
	}
	for _, tt := range tests {
		wantErr(t, tt.name, tt.policy.Validate(), CodeInvalid, tt.want)
	}
}

func TestOrgNormalize(t *testing.T) {
	tests := []struct {
		name, slug, orgName, wantName, want string
		policy                              Policy
	}{
		{"plain", "acme", "Acme Ltd", "Acme Ltd", "", DefaultPolicy()},
		{"name trimmed", "acme", "  Acme Ltd \t", "Acme Ltd", "", DefaultPolicy()},
		{"bad slug", "Acme", "Acme", "", "org slug", DefaultPolicy()},
		{"empty name", "acme", "   ", "", "name must not be empty", DefaultPolicy()},
		{"long name", "acme", strings.Repeat("n", MaxNameBytes+1), "", "name is longer than 200 bytes", DefaultPolicy()},
		{"bad policy", "acme", "Acme", "", "lockout_duration", Policy{LockoutDuration: time.Millisecond}},
	}
	for _, tt := range tests {
		o := Org{Slug: tt.slug, Name: tt.orgName, Policy: tt.policy}
		err := o.Normalize()
		wantErr(t, tt.name, err, CodeInvalid, tt.want)
		if err == nil && o.Name != tt.wantName {
			t.Errorf("%s: name %q, want %q", tt.name, o.Name, tt.wantName)
		}
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"Ann", "Ann", ""},
		{"  Ann Smith  ", "Ann Smith", ""},
		{"", "", ""},
		{"Jürgen Müller", "Jürgen Müller", ""},
		{strings.Repeat("é", MaxNameBytes/2), strings.Repeat("é", MaxNameBytes/2), ""},
		{strings.Repeat("é", MaxNameBytes/2) + "x", "", "display_name is longer than 200 bytes"},
		{"Ann\nSmith", "", `display_name "Ann\nSmith" contains a control character`},
		{"Ann\x00", "", "control character"},
		{"Caf\xe9", "", "display_name is not valid UTF-8"},
	}
	for _, tt := range tests {
		got, err := CheckName("display_name", tt.in)
		wantErr(t, tt.in, err, CodeInvalid, tt.err)
		if err == nil && got != tt.want {
			t.Errorf("CheckName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestContactAndUserNormalize(t *testing.T) {
	long := strings.Repeat("a", MaxEmailBytes-len("@acme.example")+1) + "@acme.example"
	contacts := []struct {
		name string
		c    Contact
		want string
	}{
		{"plain", Contact{Email: "it@acme.example", Name: " IT desk "}, ""},
		{"no name", Contact{Email: "it@acme.example"}, ""},
		{"no address", Contact{Name: "IT"}, "email is empty"},
		{"long address", Contact{Email: long}, "email is longer than 254 bytes"},
		{"long name", Contact{Email: "it@acme.example", Name: strings.Repeat("x", 201)}, "name is longer than 200 bytes"},
	}
	for _, tt := range contacts {
		c := tt.c
		wantErr(t, "contact "+tt.name, c.Normalize(), CodeInvalid, tt.want)
		if tt.want == "" && c.Name != strings.TrimSpace(tt.c.Name) {
			t.Errorf("contact %s: name %q not trimmed", tt.name, c.Name)
		}
	}
	users := []struct {
		name string
		u    User
		want string
	}{
		{"plain", User{Username: "jsmith", DisplayName: " John ", Email: "j@acme.example"}, ""},
		{"no email", User{Username: "jsmith"}, ""},
		{"bad username", User{Username: "j smith"}, "not allowed"},
		{"long display name", User{Username: "jsmith", DisplayName: strings.Repeat("x", 201)}, "display_name is longer than 200 bytes"},
		{"control character", User{Username: "jsmith", DisplayName: "a\tb"}, "display_name"},
		{"long address", User{Username: "jsmith", Email: long}, "email is longer than 254 bytes"},
	}
	for _, tt := range users {
		u := tt.u
		wantErr(t, "user "+tt.name, u.Normalize(), CodeInvalid, tt.want)
		if tt.want == "" && u.DisplayName != strings.TrimSpace(tt.u.DisplayName) {
			t.Errorf("user %s: display name %q not trimmed", tt.name, u.DisplayName)
		}
	}
}

func TestCheckNote(t *testing.T) {
	tests := []struct {
		note, why, want, err string
	}{
		{"left the company", "say why", "left the company", ""},
		{"  on leave \n", "say why", "on leave", ""},
		{"line one\nline two\ttab", "say why", "line one\nline two\ttab", ""},
		{"", "", "", ""},
		{"   ", "", "", ""},
		{"", "say why the user is locked", "", "note is required: say why the user is locked"},
		{" \t ", "say why", "", "note is required"},
		{strings.Repeat("n", MaxNoteBytes), "", strings.Repeat("n", MaxNoteBytes), ""},
		{strings.Repeat("n", MaxNoteBytes+1), "", "", "note is longer than 1000 bytes"},
		{"bell\a", "", "", "note \"bell\\a\" contains a control character"},
		{"\xff", "", "", "note is not valid UTF-8"},
	}
	for _, tt := range tests {
		got, err := checkNote(tt.note, tt.why)
		wantErr(t, tt.note, err, CodeInvalid, tt.err)
		if err == nil && got != tt.want {
			t.Errorf("checkNote(%q) = %q, want %q", tt.note, got, tt.want)
		}
	}
}

func TestRoleRules(t *testing.T) {
	for _, tt := range []struct {
		role Role
		org  string
		want string
	}{
		{RoleStaff, "", ""},
		{RoleAdmin, "acme", ""},
		{RoleService, "acme", ""},
		{RoleStaff, "acme", "org must not be given for role staff"},
		{RoleAdmin, "", "org is required for role admin"},
		{RoleService, "", "org is required for role service"},
	} {
		wantErr(t, string(tt.role)+" "+tt.org, tt.role.CheckOrg(tt.org), CodeInvalid, tt.want)
	}
	for _, tt := range []struct{ in, want string }{
		{"staff", ""}, {"admin", ""}, {"service", `role "service" must be staff or admin`}, {"root", "must be staff or admin"}, {"", "must be staff or admin"},
	} {
		r, err := ParseOperatorRole(tt.in)
		wantErr(t, "operator role "+tt.in, err, CodeInvalid, tt.want)
		if err == nil && string(r) != tt.in {
			t.Errorf("ParseOperatorRole(%q) = %q", tt.in, r)
		}
	}
}

func TestSharedWarning(t *testing.T) {
	for _, tt := range []struct {
		shared []string
		want   string
	}{
		{nil, ""},
		{[]string{"globex"}, "it@acme.example is also a contact of globex: "},
		{[]string{"globex", "initech"}, "also a contact of globex, initech: its mail may now ask for unlocks in each of these orgs"},
	} {
		got := Contact{Email: "it@acme.example", SharedWith: tt.shared}.SharedWarning()
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("SharedWarning(%v) = %q, want %q", tt.shared, got, tt.want)
		}
	}
}
