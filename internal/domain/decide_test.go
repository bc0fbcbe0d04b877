package domain

import (
	"reflect"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func failedLock() *Lock {
	return &Lock{Reason: LockFailedLogins, At: testNow.Add(-time.Hour), By: ActorSystem}
}
func adminLock() *Lock {
	return &Lock{Reason: LockAdmin, At: testNow.Add(-time.Hour), By: "operator:ann@acme.example"}
}

// acme is the contact's org; its users cover every lock state.
func acme(mod func(*Account)) Account {
	a := Account{
		Org:     Org{ID: 1, Slug: "acme", Policy: DefaultPolicy()},
		Contact: Contact{ID: 10, OrgID: 1, Email: "it@acme.example"},
		Users: map[string]User{
			"jsmith":  {ID: 100, OrgID: 1, Username: "jsmith", Lock: failedLock()},
			"JSmith":  {ID: 101, OrgID: 1, Username: "JSmith"},
			"boss":    {ID: 102, OrgID: 1, Username: "boss", Lock: adminLock()},
			"active":  {ID: 103, OrgID: 1, Username: "active"},
			"expired": {ID: 104, OrgID: 1, Username: "expired", Lock: &Lock{Reason: LockFailedLogins, At: testNow.Add(-2 * time.Hour), Expires: testNow.Add(-time.Minute)}},
			"temp":    {ID: 105, OrgID: 1, Username: "temp", Lock: &Lock{Reason: LockFailedLogins, At: testNow.Add(-time.Minute), Expires: testNow.Add(time.Hour)}},
			"second":  {ID: 106, OrgID: 1, Username: "second", Lock: failedLock()},
		},
	}
	if mod != nil {
		mod(&a)
	}
	return a
}

// proven is a passing DKIM proof that covers the whole message.
var proven = Proof{Passed: true, Detail: "dkim=pass d=acme.example", Covered: InSubject | InBody}

func inSubject(texts ...string) []Name { return NamesIn(InSubject, texts...) }
func inBody(texts ...string) []Name    { return NamesIn(InBody, texts...) }

func item(org, user int64, name string, st ItemState, r QueueReason, unverified bool) Item {
	return Item{OrgID: org, UserID: user, Username: name, State: st, Reason: r, UnverifiedSender: unverified}
}

// confirmable marks it as bound to the request's confirmation link.
func confirmable(it Item) Item {
	it.Confirmable = true
	return it
}

func TestDecide(t *testing.T) {
	verified := func(names ...string) Facts {
		return Facts{Sender: "it@acme.example", Proof: proven, Usernames: inSubject(names...)}
	}
	tests := []struct {
		name     string
		facts    Facts
		accounts []Account
		want     Decision
	}{
		{
			name:  "authenticated stranger is rejected with a reply",
			facts: Facts{Sender: "eve@other.example", Proof: proven, Usernames: inSubject("jsmith")},
			want:  Decision{Verdict: VerdictRejected, Reason: "sender is not an authorised contact", ReplyTo: "eve@other.example", Authenticated: true, AuthReason: "dkim=pass d=acme.example"},
		},
		{
			name:  "unauthenticated stranger is rejected without a reply",
			facts: Facts{Sender: "eve@other.example", Usernames: inSubject("jsmith")},
			want:  Decision{Verdict: VerdictRejected, Reason: "sender is not an authorised contact", AuthReason: "sender not authenticated"},
		},
		{
			name:     "unusable From is rejected without a reply even with accounts",
			facts:    Facts{Sender: "", Proof: proven, Usernames: inSubject("jsmith")},
			accounts: []Account{acme(nil)},
			want:     Decision{Verdict: VerdictRejected, Reason: "sender address is missing or ambiguous", AuthReason: "dkim=pass d=acme.example"},
		},
		{
			name:     "failed-login lock is applied",
			facts:    verified("jsmith"),
			accounts: []Account{acme(nil)},
			want: Decision{Verdict: VerdictAccepted, Reason: "authorised contact, sender authenticated", Authenticated: true, AuthReason: "dkim=pass d=acme.example", ReplyTo: "it@acme.example",
				Items: []Item{item(1, 100, "jsmith", ItemApplied, "", false)}},
		},
		{
			name:     "usernames are case-sensitive: JSmith is not jsmith",
			facts:    verified("JSmith", "JSMITH"),
			accounts: []Account{acme(nil)},
			want: Decision{Verdict: VerdictAccepted, Reason: "authorised contact, sender authenticated", Authenticated: true, AuthReason: "dkim=pass d=acme.example", ReplyTo: "it@acme.example",
				Items: []Item{item(1, 101, "JSmith", ItemNotLocked, "", false), item(0, 0, "JSMITH", ItemUnknownUser, "", false)}},
		},
		{
			name:     "admin lock is queued and admins are told",
			facts:    verified("boss"),
			accounts: []Account{acme(nil)},
			want: Decision{Verdict: VerdictAccepted, Reason: "authorised contact, sender authenticated", Authenticated: true, AuthReason: "dkim=pass d=acme.example", ReplyTo: "it@acme.example",
				Items: []Item{item(1, 102, "boss", ItemPending, QueueAdminLock, false)}, NotifyAdmins: []int64{1}, NotifyStaff: true},
		},
		{
			name:     "not locked",
			facts:    verified("active"),
			accounts: []Account{acme(nil)},
			want: Decision{Verdict: VerdictAccepted, Reason: "authorised contact, sender authenticated", Authenticated: true, AuthReason: "dkim=pass d=acme.example", ReplyTo: "it@acme.example",
				Items: []Item{item(1, 103, "active", ItemNotLocked, "", false)}},
		},
		{
			name:     "an expired temporary lock counts as not locked",
			facts:    verified("expired", "temp"),
			accounts: []Account{acme(nil)},
			want: Decision{Verdict: VerdictAccepted, Reason: "authorised contact, sender authenticated", Authenticated: true, AuthReason: "dkim=pass d=acme.example", ReplyTo: "it@acme.example",
				Items: []Item{item(1, 104, "expired", ItemNotLocked, "", false), item(1, 105, "temp", ItemApplied, "", false)}},
		},
		{
			name:     "auto_unlock off queues a failed-login lock",
			facts:    verified("jsmith"),
			accounts: []Account{acme(func(a *Account) { a.Org.Policy.AutoUnlock = false })},
			want: Decision{Verdict: VerdictAccepted, Reason: "authorised contact, sender authenticated", Authenticated: true, AuthReason: "dkim=pass d=acme.example", ReplyTo: "it@acme.example",
				Items: []Item{item(1, 100, "jsmith", ItemPending, QueueAutoUnlockOff, false)}, NotifyStaff: true},
		},
		{
			name:     "contact over the hourly limit is queued",
			facts:    verified("jsmith"),
			accounts: []Account{acme(func(a *Account) { a.RecentUnlocks = 10 })},
			want: Decision{Verdict: VerdictAccepted, Reason: "authorised contact, sender authenticated", Authenticated: true, AuthReason: "dkim=pass d=acme.example", ReplyTo: "it@acme.example",
				Items: []Item{item(1, 100, "jsmith", ItemPending, QueueRateLimited, false)}, NotifyStaff: true},
		},
		{
			name:     "the hourly limit counts unlocks earlier in the same message",
			facts:    verified("jsmith", "second"),
			accounts: []Account{acme(func(a *Account) { a.RecentUnlocks = 9 })},
			want: Decision{Verdict: VerdictAccepted, Reason: "authorised contact, sender authenticated", Authenticated: true, AuthReason: "dkim=pass d=acme.example", ReplyTo: "it@acme.example",
				Items: []Item{item(1, 100, "jsmith", ItemApplied, "", false), item(1, 106, "second", ItemPending, QueueRateLimited, false)}, NotifyStaff: true},
		},
		{
			name:     "a limit of 0 means no limit",
			facts:    verified("jsmith"),
			accounts: []Account{acme(func(a *Account) { a.RecentUnlocks = 1000; a.Org.Policy.MaxRequestsPerHour = 0 })},
			want: Decision{Verdict: VerdictAccepted, Reason: "authorised contact, sender authenticated", Authenticated: true, AuthReason: "dkim=pass d=acme.example", ReplyTo: "it@acme.example",
				Items: []Item{item(1, 100, "jsmith", ItemApplied, "", false)}},
		},
		{
			name:     "unauthenticated contact: locked users are queued unverified, reply with a link to the address on record",
			facts:    Facts{Sender: "it@acme.example", Proof: Proof{Detail: "dkim=fail"}, Usernames: inSubject("jsmith", "active", "boss")},
			accounts: []Account{acme(nil)},
			want: Decision{Verdict: VerdictAccepted, Reason: "authorised contact, sender not authenticated", AuthReason: "sender not authenticated; dkim=fail", ReplyTo: "it@acme.example",
				Items: []Item{
					confirmable(item(1, 100, "jsmith", ItemPending, QueueUnverifiedSender, true)),
					item(1, 103, "active", ItemNotLocked, "", true),
					item(1, 102, "boss", ItemPending, QueueAdminLock, true),
				}, NotifyAdmins: []int64{1}, NotifyStaff: true, Confirm: true},
		},
		{
			name:     "no username asks for the form",
			facts:    verified(),
			accounts: []Account{acme(nil)},
			want:     Decision{Verdict: VerdictNoUsername, Reason: "no username found", ReplyTo: "it@acme.example", Authenticated: true, AuthReason: "dkim=pass d=acme.example"},
		},
		{
			name:     "without an explicit username, words that are usernames count",
			facts:    Facts{Sender: "it@acme.example", Proof: proven, Words: inBody("Hi", "please", "jsmith", "Jsmith", "jsmith", "thanks")},
			accounts: []Account{acme(nil)},
			want: Decision{Verdict: VerdictAccepted, Reason: "authorised contact, sender authenticated", Authenticated: true, AuthReason: "dkim=pass d=acme.example", ReplyTo: "it@acme.example",
				Items: []Item{item(1, 100, "jsmith", ItemApplied, "", false)}},
		},
		{
			name:     "words are ignored when a username was asked for explicitly",
			facts:    Facts{Sender: "it@acme.example", Proof: proven, Usernames: inSubject("active"), Words: inBody("jsmith")},
			accounts: []Account{acme(nil)},
			want: Decision{Verdict: VerdictAccepted, Reason: "authorised contact, sender authenticated", Authenticated: true, AuthReason: "dkim=pass d=acme.example", ReplyTo: "it@acme.example",
				Items: []Item{item(1, 103, "active", ItemNotLocked, "", false)}},
		},
		{
			name:     "words that are no usernames mean no username found",
			facts:    Facts{Sender: "it@acme.example", Proof: proven, Words: inBody("Hi", "please")},
			accounts: []Account{acme(nil)},
			want:     Decision{Verdict: VerdictNoUsername, Reason: "no username found", ReplyTo: "it@acme.example", Authenticated: true, AuthReason: "dkim=pass d=acme.example"},
		},
		{
			name:     "duplicate usernames give one item",
			facts:    verified("jsmith", "jsmith"),
			accounts: []Account{acme(nil)},
			want: Decision{Verdict: VerdictAccepted, Reason: "authorised contact, sender authenticated", Authenticated: true, AuthReason: "dkim=pass d=acme.example", ReplyTo: "it@acme.example",
				Items: []Item{item(1, 100, "jsmith", ItemApplied, "", false)}},
		},
		{
			name:  "a user of two of the contact's orgs is queued in both",
			facts: verified("jsmith"),
			accounts: []Account{acme(nil), acme(func(a *Account) {
				a.Org.ID, a.Contact.OrgID = 2, 2
				a.Users = map[string]User{"jsmith": {ID: 200, OrgID: 2, Username: "jsmith", Lock: failedLock()}}
			})},
			want: Decision{Verdict: VerdictAccepted, Reason: "authorised contact, sender authenticated", Authenticated: true, AuthReason: "dkim=pass d=acme.example", ReplyTo: "it@acme.example",
				Items: []Item{item(1, 100, "jsmith", ItemPending, QueueAmbiguous, false), item(2, 200, "jsmith", ItemPending, QueueAmbiguous, false)}, NotifyStaff: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.facts, State{Accounts: tt.accounts}, testNow)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decide:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestDecideOtherOrgUserLooksUnknown: the answer for a name that exists only
// in an org where the sender is no contact must equal the answer for a name
// that exists nowhere, so replies reveal nothing about other orgs. Accounts
// only ever hold the contact's orgs, so the store must never pass users of
// other orgs; this test pins the visible result.
func TestDecideOtherOrgUserLooksUnknown(t *testing.T) {
	f := Facts{Sender: "it@acme.example", Proof: proven}
	f.Usernames = inSubject("globex-only")
	inOther := Decide(f, State{Accounts: []Account{acme(nil)}}, testNow)
	f.Usernames = inSubject("nowhere-at-all")
	nowhere := Decide(f, State{Accounts: []Account{acme(nil)}}, testNow)
	if inOther.Items[0].State != ItemUnknownUser || nowhere.Items[0].State != ItemUnknownUser {
		t.Fatalf("states = %q, %q; want unknown_user for both", inOther.Items[0].State, nowhere.Items[0].State)
	}
	inOther.Items[0].Username, nowhere.Items[0].Username = "", ""
	if !reflect.DeepEqual(inOther, nowhere) {
		t.Errorf("decisions differ:\n%+v\n%+v", inOther, nowhere)
	}
}

func TestDecideNeverAppliesAdminLock(t *testing.T) {
	for _, mod := range []func(*Account){
		nil,
		func(a *Account) { a.Org.Policy.MaxRequestsPerHour = 0 },
		func(a *Account) { a.Org.Policy.AutoUnlock = true },
	} {
		d := Decide(Facts{Sender: "it@acme.example", Proof: proven, Usernames: inSubject("boss")}, State{Accounts: []Account{acme(mod)}}, testNow)
		if got := d.Items[0]; got.State != ItemPending || got.Reason != QueueAdminLock {
			t.Errorf("admin lock decided %+v, want pending admin_lock", got)
		}
	}
}
