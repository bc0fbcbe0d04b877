package domain

import (
	"strings"
	"testing"
	"time"
)

func TestRecordLogin(t *testing.T) {
	p := Policy{MaxFailedLogins: 3, FailureWindow: time.Hour, AutoUnlock: true}
	u := &User{Username: "jsmith"}
	at := func(m int) time.Time { return testNow.Add(time.Duration(m) * time.Minute) }

	for i, want := range []bool{false, false, true} {
		if res, locked := u.RecordLogin(p, false, at(i)); res != LoginInvalid || locked != want {
			t.Fatalf("failure %d: got %s locked=%v, want invalid locked=%v", i+1, res, locked, want)
		}
	}
	if u.Lock == nil || u.Lock.Reason != LockFailedLogins || !u.Lock.Expires.IsZero() {
		t.Fatalf("lock = %+v, want a permanent failed_logins lock", u.Lock)
	}
	if res, _ := u.RecordLogin(p, true, at(5)); res != LoginLocked {
		t.Errorf("correct password while locked: got %s, want locked", res)
	}
	if u.FailedLogins != 3 {
		t.Errorf("attempts while locked counted: %d", u.FailedLogins)
	}
	if _, err := u.Unlock(at(6)); err != nil {
		t.Fatal(err)
	}
	if u.Status(at(6)) != StatusActive || u.FailedLogins != 0 {
		t.Errorf("after unlock: status %s, failures %d", u.Status(at(6)), u.FailedLogins)
	}
}

func TestRecordLoginSuccessResetsCounter(t *testing.T) {
	p := Policy{MaxFailedLogins: 2, FailureWindow: time.Hour}
	u := &User{}
	u.RecordLogin(p, false, testNow)
	if res, _ := u.RecordLogin(p, true, testNow); res != LoginOK || u.FailedLogins != 0 {
		t.Fatalf("success: got %s with %d failures", res, u.FailedLogins)
	}
	if _, locked := u.RecordLogin(p, false, testNow); locked {
		t.Error("one failure after a success locked the account")
	}
}

func TestRecordLoginFailureWindow(t *testing.T) {
	p := Policy{MaxFailedLogins: 2, FailureWindow: time.Hour}
	u := &User{}
	u.RecordFailedLogin(p, testNow)
	if u.RecordFailedLogin(p, testNow.Add(time.Hour)) {
		t.Error("a failure after the quiet window locked the account; the counter should have reset")
	}
	if !u.RecordFailedLogin(p, testNow.Add(time.Hour+time.Minute)) {
		t.Error("two failures within the window did not lock")
	}
}

func TestRecordLoginNeverLocksWithZeroMax(t *testing.T) {
	u := &User{}
	for i := range 100 {
		if u.RecordFailedLogin(Policy{}, testNow.Add(time.Duration(i)*time.Second)) {
			t.Fatal("max_failed_logins 0 locked the account")
		}
	}
}

func TestTemporaryLockLiftsItself(t *testing.T) {
	p := Policy{MaxFailedLogins: 1, LockoutDuration: 15 * time.Minute}
	u := &User{}
	if !u.RecordFailedLogin(p, testNow) {
		t.Fatal("did not lock")
	}
	if !u.LockedAt(testNow.Add(14*time.Minute)) || u.LockedAt(testNow.Add(15*time.Minute)) {
		t.Fatalf("lock window wrong: expires %v", u.Lock.Expires)
	}
	if res, _ := u.RecordLogin(p, true, testNow.Add(16*time.Minute)); res != LoginOK || u.Lock != nil {
		t.Errorf("after expiry: got %s, lock %+v", res, u.Lock)
	}
}

func TestAdminLockIsPermanent(t *testing.T) {
	u := &User{}
	if err := u.LockByAdmin("operator:ann@acme.example", "left the company", testNow); err != nil {
		t.Fatal(err)
	}
	if !u.LockedAt(testNow.Add(1000*time.Hour)) || u.Lock.Reason != LockAdmin {
		t.Errorf("admin lock = %+v", u.Lock)
	}
	if res, _ := u.RecordLogin(DefaultPolicy(), true, testNow); res != LoginLocked {
		t.Errorf("login while admin-locked: %s", res)
	}
}

func TestValidateUsername(t *testing.T) {
	for _, ok := range []string{"jsmith", "JSmith", "j.smith", "j_smith-2", "müller", "a@b"} {
		if err := ValidateUsername(ok); err != nil {
			t.Errorf("ValidateUsername(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "j smith", "a,b", "../etc", "a\x00b", "a\nb", string(make([]byte, 65)), "x\xffy"} {
		if err := ValidateUsername(bad); err == nil {
			t.Errorf("ValidateUsername(%q) accepted", bad)
		}
	}
}

// TestRecordLoginTable: one attempt against each state a user can be in.
func TestRecordLoginTable(t *testing.T) {
	p := Policy{MaxFailedLogins: 3, FailureWindow: time.Hour, LockoutDuration: 15 * time.Minute}
	recent := testNow.Add(-time.Minute)
	tests := []struct {
		name       string
		user       User
		policy     Policy
		passwordOK bool
		want       LoginResult
		lockedNow  bool
		failures   int
		locked     bool
	}{
		{"success", User{FailedLogins: 2, LastFailedAt: recent}, p, true, LoginOK, false, 0, false},
		{"failure under the maximum", User{FailedLogins: 1, LastFailedAt: recent}, p, false, LoginInvalid, false, 2, false},
		{"failure at the maximum locks", User{FailedLogins: 2, LastFailedAt: recent}, p, false, LoginInvalid, true, 3, true},
		{"failure after the quiet window starts again", User{FailedLogins: 2, LastFailedAt: testNow.Add(-time.Hour)}, p, false, LoginInvalid, false, 1, false},
		{"no window keeps counting", User{FailedLogins: 2, LastFailedAt: testNow.Add(-1000 * time.Hour)}, Policy{MaxFailedLogins: 3}, false, LoginInvalid, true, 3, true},
		{"max 0 never locks", User{FailedLogins: 99, LastFailedAt: recent}, Policy{}, false, LoginInvalid, false, 100, false},
		{"locked: answered locked, not counted", User{Lock: failedLock(), FailedLogins: 3}, p, false, LoginLocked, false, 3, true},
		{"locked: a right password is still locked", User{Lock: adminLock()}, p, true, LoginLocked, false, 0, true},
		{"expired temporary lock is lifted first", User{Lock: tempLock(testNow.Add(-time.Second)), FailedLogins: 3}, p, true, LoginOK, false, 0, false},
	}
	for _, tt := range tests {
		u := tt.user
		got, lockedNow := u.RecordLogin(tt.policy, tt.passwordOK, testNow)
		if got != tt.want || lockedNow != tt.lockedNow || u.FailedLogins != tt.failures || u.LockedAt(testNow) != tt.locked {
			t.Errorf("%s: %s lockedNow=%v failures=%d locked=%v; want %s %v %d %v", tt.name, got, lockedNow, u.FailedLogins,
				u.LockedAt(testNow), tt.want, tt.lockedNow, tt.failures, tt.locked)
		}
		if tt.lockedNow && (u.Lock.Reason != LockFailedLogins || !u.Lock.Expires.Equal(testNow.Add(tt.policy.LockoutDuration)) && tt.policy.LockoutDuration > 0) {
			t.Errorf("%s: lock %+v, want failed_logins expiring after lockout_duration", tt.name, u.Lock)
		}
	}
}

func TestValidateSlug(t *testing.T) {
	for _, tt := range []struct {
		slug string
		ok   bool
	}{
		{"acme", true}, {"a", true}, {"acme-2", true}, {"0day", true}, {strings.Repeat("a", 63), true},
		{"", false}, {"Acme", false}, {"-acme", false}, {"acme-", false}, {"ac me", false}, {"../etc", false},
		{strings.Repeat("a", 64), false}, {"acmé", false},
	} {
		if err := ValidateSlug(tt.slug); (err == nil) != tt.ok {
			t.Errorf("ValidateSlug(%q) = %v, want ok %v", tt.slug, err, tt.ok)
		}
	}
}
