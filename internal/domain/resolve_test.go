package domain

import (
	"strings"
	"testing"
	"time"
)

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
	if _, err := ParseResolution("approve"); ErrorCode(err) != CodeInvalid {
		t.Errorf("ParseResolution(approve) = %v, want invalid", err)
	}
}
