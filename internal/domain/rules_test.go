package domain

import (
	"errors"
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

// lockedUser returns a user with the given lock (nil: active) and two
// failures counted.
func lockedUser(l *Lock) *User {
	return &User{ID: 7, Username: "jsmith", Lock: l, FailedLogins: 2, LastFailedAt: testNow.Add(-time.Minute)}
}

func tempLock(expires time.Time) *Lock {
	return &Lock{Reason: LockFailedLogins, At: testNow.Add(-time.Hour), By: ActorSystem, Expires: expires}
}

func TestUserLockRules(t *testing.T) {
	tests := []struct {
		name string
		lock *Lock
		// Unlock
		unlockReason LockReason
		unlockErr    string
		// LockByAdmin with a note
		lockErr string
		// ResetFailedLogins
		resetUnlocks bool
		resetKeeps   bool // the lock stays
	}{
		{"active", nil, "", "is not locked", "", false, false},
		{"failed-login lock", failedLock(), LockFailedLogins, "", "", true, false},
		{"admin lock", adminLock(), LockAdmin, "", "already locked by an admin", false, true},
		{"temporary lock in force", tempLock(testNow.Add(time.Hour)), LockFailedLogins, "", "", true, false},
		{"expired temporary lock", tempLock(testNow.Add(-time.Second)), "", "is not locked", "", false, false},
		{"expired admin lock (external directory)", &Lock{Reason: LockAdmin, Expires: testNow.Add(-time.Second)}, "", "is not locked", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := lockedUser(tt.lock)
			reason, err := u.Unlock(testNow)
			wantErr(t, "Unlock", err, CodeConflict, tt.unlockErr)
			if reason != tt.unlockReason {
				t.Errorf("Unlock lifted %q, want %q", reason, tt.unlockReason)
			}
			if err == nil && (u.Lock != nil || u.FailedLogins != 0 || !u.LastFailedAt.IsZero()) {
				t.Errorf("after Unlock: %+v, want active with no failures", u)
			}
			if err != nil && u.FailedLogins != 2 {
				t.Errorf("a refused Unlock changed the user: %+v", u)
			}

			u = lockedUser(tt.lock)
			if got := u.Lockable(testNow); got != (tt.lockErr == "") {
				t.Errorf("Lockable = %v, want %v", got, tt.lockErr == "")
			}
			err = u.LockByAdmin("operator:ann@acme.example", " laptop stolen ", testNow)
			wantErr(t, "LockByAdmin", err, CodeConflict, tt.lockErr)
			if err == nil && (u.Lock.Reason != LockAdmin || u.Lock.Note != "laptop stolen" || !u.Lock.Expires.IsZero() || !u.Lock.At.Equal(testNow)) {
				t.Errorf("after LockByAdmin: %+v, want a permanent admin lock with the trimmed note", u.Lock)
			}
			if err := lockedUser(tt.lock).LockByAdmin("x", "  ", testNow); ErrorCode(err) != CodeInvalid || !strings.Contains(err.Error(), "note is required") {
				t.Errorf("LockByAdmin without a note: %v, want note is required", err)
			}

			u = lockedUser(tt.lock)
			if got := u.ResetFailedLogins(testNow); got != tt.resetUnlocks {
				t.Errorf("ResetFailedLogins = %v, want %v", got, tt.resetUnlocks)
			}
			if (u.Lock != nil) != tt.resetKeeps || u.FailedLogins != 0 || !u.LastFailedAt.IsZero() {
				t.Errorf("after ResetFailedLogins: lock %+v, %d failures; want lock kept %v and no failures", u.Lock, u.FailedLogins, tt.resetKeeps)
			}
		})
	}
}

func TestItemResolve(t *testing.T) {
	pending := Item{ID: 3, OrgID: 1, UserID: 7, Username: "jsmith", State: ItemPending, Reason: QueueUnverifiedSender}
	tests := []struct {
		name    string
		item    Item
		r       Resolution
		lock    *Lock
		gone    bool
		note    string
		want    ItemState
		wantErr string
		code    Code
		lifted  LockReason
		note2   string // the note kept
	}{
		{"approve unlocks", pending, ResolveApprove, failedLock(), false, "", ItemApplied, "", "", LockFailedLogins, ""},
		{"approve lifts an admin lock", pending, ResolveApprove, adminLock(), false, " phoned ", ItemApplied, "", "", LockAdmin, "phoned"},
		{"approve a user unlocked meanwhile", pending, ResolveApprove, nil, false, "", ItemApplied, "", "", "", ""},
		{"approve a user whose lock expired", pending, ResolveApprove, tempLock(testNow.Add(-time.Second)), false, "", ItemApplied, "", "", "", ""},
		{"approve a vanished user", pending, ResolveApprove, nil, true, "", "", `request 3: user "jsmith" no longer exists`, CodeConflict, "", ""},
		{"approve twice", Item{ID: 3, State: ItemApplied}, ResolveApprove, failedLock(), false, "", "", "request 3 is already applied", CodeConflict, "", ""},
		{"approve an unknown-user item", Item{ID: 3, State: ItemUnknownUser}, ResolveApprove, nil, true, "", "", "already unknown_user", CodeConflict, "", ""},
		{"approve with a long note", pending, ResolveApprove, failedLock(), false, strings.Repeat("n", 1001), "", "note is longer than 1000 bytes", CodeInvalid, "", ""},
		{"decline keeps the lock", pending, ResolveDecline, failedLock(), false, " call the desk ", ItemRejected, "", "", "", "call the desk"},
		{"decline needs a note", pending, ResolveDecline, failedLock(), false, "  ", "", "note is required: say why the request is declined", CodeInvalid, "", ""},
		{"decline a vanished user's item", pending, ResolveDecline, nil, true, "gone", ItemRejected, "", "", "", "gone"},
		{"decline an expired item", Item{ID: 3, State: ItemExpired}, ResolveDecline, failedLock(), false, "late", "", "already expired", CodeConflict, "", ""},
		{"expire", pending, ResolveExpire, failedLock(), false, "", ItemExpired, "", "", "", "nobody decided within request_ttl"},
		{"close", pending, ResolveClose, nil, false, "", ItemApplied, "", "", "", "the user was unlocked meanwhile"},
		{"close while locked", pending, ResolveClose, failedLock(), false, "", "", "cannot close", CodeConflict, "", ""},
		{"close a vanished user's item", pending, ResolveClose, nil, true, "", "", "cannot close", CodeConflict, "", ""},
		{"unknown resolution", pending, Resolution("maybe"), nil, false, "", "", "not one of", CodeInvalid, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := tt.item
			var u *User
			if !tt.gone {
				u = lockedUser(tt.lock)
			}
			lifted, err := it.Resolve(tt.r, u, "operator:ann@acme.example", tt.note, testNow)
			wantErr(t, "Resolve", err, tt.code, tt.wantErr)
			if lifted != tt.lifted {
				t.Errorf("lifted %q, want %q", lifted, tt.lifted)
			}
			if err != nil {
				if it != tt.item {
					t.Errorf("a refused Resolve changed the item: %+v", it)
				}
				if u != nil && u.FailedLogins != 2 {
					t.Errorf("a refused Resolve changed the user: %+v", u)
				}
				return
			}
			if it.State != tt.want || it.DecidedBy != "operator:ann@acme.example" || !it.DecidedAt.Equal(testNow) || it.Note != tt.note2 {
				t.Errorf("item = %+v, want %s with note %q", it, tt.want, tt.note2)
			}
			if it.State != tt.r.State() || it.Reason != tt.item.Reason {
				t.Errorf("state %s, reason %s: want the resolution's state and the reason kept", it.State, it.Reason)
			}
			if tt.lifted != "" && (u.Lock != nil || u.FailedLogins != 0) {
				t.Errorf("user after approval = %+v, want unlocked", u)
			}
			if tt.r == ResolveDecline && tt.lock != nil && u.Lock == nil {
				t.Errorf("declining unlocked the user")
			}
		})
	}
}

func TestItemDue(t *testing.T) {
	const ttl = 7 * 24 * time.Hour
	pending := Item{ID: 3, State: ItemPending}
	young, old := testNow.Add(-time.Hour), testNow.Add(-ttl)
	tests := []struct {
		name   string
		item   Item
		lock   *Lock
		gone   bool
		queued time.Time
		want   Resolution
	}{
		{"waits", pending, failedLock(), false, young, ""},
		{"user unlocked meanwhile", pending, nil, false, young, ResolveClose},
		{"temporary lock lifted itself", pending, tempLock(testNow.Add(-time.Second)), false, young, ResolveClose},
		{"temporary lock still in force", pending, tempLock(testNow.Add(time.Second)), false, young, ""},
		{"request_ttl passed", pending, failedLock(), false, old, ResolveExpire},
		{"just short of request_ttl", pending, failedLock(), false, old.Add(time.Second), ""},
		{"closing wins over expiring", pending, nil, false, old, ResolveClose},
		{"vanished user waits", pending, nil, true, young, ""},
		{"vanished user expires", pending, nil, true, old, ResolveExpire},
		{"decided already", Item{State: ItemRejected}, nil, false, old, ""},
	}
	for _, tt := range tests {
		var u *User
		if !tt.gone {
			u = lockedUser(tt.lock)
		}
		got, ok := tt.item.Due(u, tt.queued, ttl, testNow)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: Due = %q, %v; want %q", tt.name, got, ok, tt.want)
		}
	}
}

func TestResolutionNames(t *testing.T) {
	for _, tt := range []struct {
		r      Resolution
		state  ItemState
		action Action
	}{
		{ResolveApprove, ItemApplied, ActionApprove},
		{ResolveDecline, ItemRejected, ActionReject},
		{ResolveExpire, ItemExpired, ActionExpire},
		{ResolveClose, ItemApplied, ActionClose},
	} {
		got, err := ParseResolution(string(tt.r))
		if err != nil || got != tt.r || got.State() != tt.state || got.Action() != tt.action {
			t.Errorf("%s: parsed %q, %v; state %s, action %s", tt.r, got, err, got.State(), got.Action())
		}
	}
	if _, err := ParseResolution("approve"); !errors.Is(err, &Error{Code: CodeInvalid}) {
		t.Errorf("ParseResolution(approve) = %v, want invalid", err)
	}
}
