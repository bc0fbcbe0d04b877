package domain

import (
	"errors"
	"fmt"
	"testing"
)

func TestApplyOutcome(t *testing.T) {
	refused := errors.New("insufficient access")
	for _, c := range []struct {
		name   string
		err    error
		state  ItemState
		reason QueueReason
	}{
		{"lifted", nil, ItemApplied, ""},
		{"already unlocked", fmt.Errorf("ldap: %w", ErrNotLocked), ItemNotLocked, ""},
		{"an admin lock set in between", fmt.Errorf("ldap: %w", ErrLockChanged), ItemPending, QueueLockChanged},
		{"refused", refused, ItemPending, QueueDirectoryError},
	} {
		state, reason, note := ApplyOutcome(c.err)
		if state != c.state || reason != c.reason {
			t.Errorf("%s: got %s/%s, want %s/%s", c.name, state, reason, c.state, c.reason)
		}
		if c.err != nil && note == "" {
			t.Errorf("%s: no note says why", c.name)
		}
	}
}

func TestTemporaryIsSeenThroughWrapping(t *testing.T) {
	err := fmt.Errorf("directory corp: %w", Temporary("dial %s: %w", "ldap.example:636", errors.New("connection refused")))
	if !IsTemporary(err) {
		t.Fatalf("%v: not seen as temporary", err)
	}
	if IsTemporary(ErrLockChanged) || IsTemporary(errors.New("bad filter")) {
		t.Fatal("a permanent error counted as temporary")
	}
	if _, _, note := ApplyOutcome(err); note == "" {
		t.Fatal("a temporary error has no note")
	}
}

func TestApplyingIsAnItemState(t *testing.T) {
	if st, err := ParseItemState("applying"); err != nil || st != ItemApplying {
		t.Fatalf("ParseItemState(applying) = %q, %v", st, err)
	}
}

// remote is acme with its users in the LDAP directory corp.
func remote(mod func(*Account)) Account {
	return acme(func(a *Account) {
		a.Org.Directory = "corp"
		for name, u := range a.Users {
			u.ID = 0 // remote accounts have no row of ours
			if u.Lock != nil {
				l := *u.Lock
				l.Mark = "20261123110000Z"
				u.Lock = &l
			}
			a.Users[name] = u
		}
		if mod != nil {
			mod(a)
		}
	})
}

func TestDecideRemoteUnlockIsApplying(t *testing.T) {
	f := Facts{Sender: "it@acme.example", Proof: proven, Usernames: inSubject("jsmith", "boss", "active", "nobody")}
	d := Decide(f, State{Accounts: []Account{remote(nil)}}, testNow)
	want := map[string]ItemState{"jsmith": ItemApplying, "boss": ItemPending, "active": ItemNotLocked, "nobody": ItemUnknownUser}
	if len(d.Items) != len(want) {
		t.Fatalf("items = %+v", d.Items)
	}
	for _, it := range d.Items {
		if it.State != want[it.Username] {
			t.Errorf("%s: %s, want %s", it.Username, it.State, want[it.Username])
		}
		if it.Username == "jsmith" && (it.Directory != "corp" || it.Lock == nil || it.Lock.Mark != "20261123110000Z" ||
			it.Lock.Reason != LockFailedLogins) {
			t.Errorf("the applying item does not carry its directory and lock: %+v", it)
		}
		if it.Username == "boss" && (it.Directory != "corp" || it.Lock == nil || it.Lock.Reason != LockAdmin) {
			t.Errorf("the queued item does not carry the lock an approval would lift: %+v", it)
		}
		if (it.Username == "active" || it.Username == "nobody") && it.Lock != nil {
			t.Errorf("%s carries a lock to lift: %+v", it.Username, it)
		}
	}
	// The same org on builtin applies at once.
	d = Decide(f, State{Accounts: []Account{acme(nil)}}, testNow)
	if d.Items[0].State != ItemApplied || d.Items[0].Lock != nil {
		t.Errorf("builtin: %+v", d.Items[0])
	}
}

func TestDecideRemoteCountsApplyingTowardsTheLimit(t *testing.T) {
	f := Facts{Sender: "it@acme.example", Proof: proven, Usernames: inSubject("jsmith", "second")}
	a := remote(func(a *Account) { a.Org.Policy.MaxRequestsPerHour = 1 })
	d := Decide(f, State{Accounts: []Account{a}}, testNow)
	if d.Items[0].State != ItemApplying || d.Items[1].State != ItemPending || d.Items[1].Reason != QueueRateLimited {
		t.Fatalf("items = %+v", d.Items)
	}
}

func TestDecideDirectoryErrorQueuesForStaff(t *testing.T) {
	f := Facts{Sender: "it@acme.example", Proof: proven, Usernames: inSubject("jsmith", "nobody")}
	a := remote(func(a *Account) { a.Users, a.DirectoryError = nil, "two accounts for username jsmith" })
	d := Decide(f, State{Accounts: []Account{a}}, testNow)
	if len(d.Items) != 2 || !d.NotifyStaff {
		t.Fatalf("decision = %+v", d)
	}
	for _, it := range d.Items {
		if it.State != ItemPending || it.Reason != QueueDirectoryError || it.Note != a.DirectoryError || it.OrgID != 1 {
			t.Errorf("%s: %+v", it.Username, it)
		}
	}
	// Words are never taken for usernames of an org that could not be asked.
	d = Decide(Facts{Sender: "it@acme.example", Proof: proven, Words: inBody("jsmith")}, State{Accounts: []Account{a}}, testNow)
	if d.Verdict != VerdictNoUsername || len(d.Items) != 0 {
		t.Errorf("words: %+v", d)
	}
}

func TestOrgRemote(t *testing.T) {
	for dir, want := range map[string]bool{"": false, BuiltinDirectory: false, "corp": true} {
		if (Org{Directory: dir}).Remote() != want {
			t.Errorf("Remote(%q) != %v", dir, want)
		}
	}
	for _, bad := range []string{"Corp", "", "a b", "-x"} {
		if ValidateDirectoryName(bad) == nil {
			t.Errorf("ValidateDirectoryName(%q) accepted", bad)
		}
	}
}

func TestItemApproveRemote(t *testing.T) {
	it := Item{ID: 7, State: ItemPending, Reason: QueueAdminLock}
	if err := it.ApproveRemote("operator:ann@example.com", "  called her  ", testNow); err != nil {
		t.Fatal(err)
	}
	if it.State != ItemApplying || it.Reason != "" || it.DecidedBy != "operator:ann@example.com" || it.Note != "called her" ||
		!it.DecidedAt.Equal(testNow) {
		t.Fatalf("item = %+v", it)
	}
	if err := it.ApproveRemote("operator:bob@example.com", "", testNow); ErrorCode(err) != CodeConflict {
		t.Fatalf("approved twice: %v", err)
	}
}
