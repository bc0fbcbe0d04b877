package domain

import (
	"testing"
	"time"
)

func TestParseConfirmPolicy(t *testing.T) {
	for _, s := range []string{"off", "unverified", "always"} {
		if p, err := ParseConfirmPolicy(s); err != nil || string(p) != s {
			t.Errorf("ParseConfirmPolicy(%q) = %q, %v", s, p, err)
		}
	}
	for _, s := range []string{"", "Always", "on", "unverified "} {
		_, err := ParseConfirmPolicy(s)
		wantErr(t, "ParseConfirmPolicy("+s+")", err, CodeInvalid, "email_confirmation must be one of off, unverified, always")
	}
	o := Org{Slug: "acme", Name: "Acme"}
	if err := o.Normalize(); err != nil || o.Policy.EmailConfirmation != ConfirmOff {
		t.Errorf("a zero policy normalises to email_confirmation %q, %v; want off", o.Policy.EmailConfirmation, err)
	}
	if DefaultPolicy().EmailConfirmation != ConfirmUnverified {
		t.Errorf("default email_confirmation = %q, want unverified", DefaultPolicy().EmailConfirmation)
	}
}

// TestDecideConfirmation: which requests get a link and which items it is
// bound to (Item.Confirmable): only where the policy asks for one, only for
// items confirming would unlock now, never past the flood limit; under
// always, a signed request waits for the click without calling staff.
func TestDecideConfirmation(t *testing.T) {
	forged := func(names ...string) Facts {
		return Facts{Sender: "it@acme.example", Proof: Proof{Detail: "no DKIM signature"}, Usernames: inSubject(names...)}
	}
	signed := func(names ...string) Facts {
		return Facts{Sender: "it@acme.example", Proof: proven, Usernames: inSubject(names...)}
	}
	policy := func(c ConfirmPolicy, mod ...func(*Policy)) func(*Account) {
		return func(a *Account) {
			a.Org.Policy.EmailConfirmation = c
			for _, m := range mod {
				m(&a.Org.Policy)
			}
		}
	}
	type want struct {
		state       ItemState
		reason      QueueReason
		confirmable bool
	}
	tests := []struct {
		name        string
		facts       Facts
		mod         func(*Account)
		second      bool // a second org where the contact is too, with the same users
		recent      int  // the contact's unlocks by email in the last hour
		unverified  int
		wantConfirm bool
		wantStaff   bool
		want        []want
	}{
		{name: "unverified: a forged request gets a link", facts: forged("jsmith"), mod: policy(ConfirmUnverified),
			wantConfirm: true, wantStaff: true, want: []want{{ItemPending, QueueUnverifiedSender, true}}},
		{name: "unverified: a signed request is applied at once", facts: signed("jsmith"), mod: policy(ConfirmUnverified),
			want: []want{{ItemApplied, "", false}}},
		{name: "off: no link, staff decide", facts: forged("jsmith"), mod: policy(ConfirmOff),
			wantStaff: true, want: []want{{ItemPending, QueueUnverifiedSender, false}}},
		{name: "the zero policy is off", facts: forged("jsmith"), mod: policy(""),
			wantStaff: true, want: []want{{ItemPending, QueueUnverifiedSender, false}}},
		{name: "an admin lock is never bound to a link", facts: forged("boss", "jsmith"), mod: policy(ConfirmUnverified),
			wantConfirm: true, wantStaff: true, want: []want{{ItemPending, QueueAdminLock, false}, {ItemPending, QueueUnverifiedSender, true}}},
		{name: "only admin locks: no link", facts: forged("boss"), mod: policy(ConfirmUnverified),
			wantStaff: true, want: []want{{ItemPending, QueueAdminLock, false}}},
		{name: "users not locked need no link", facts: forged("active"), mod: policy(ConfirmAlways),
			want: []want{{ItemNotLocked, "", false}}},
		{name: "auto_unlock off: confirming would not unlock, no link", facts: forged("jsmith"),
			mod:       policy(ConfirmUnverified, func(p *Policy) { p.AutoUnlock = false }),
			wantStaff: true, want: []want{{ItemPending, QueueUnverifiedSender, false}}},
		{name: "the hourly limit binds as many as it allows", facts: forged("jsmith", "second"),
			mod:         func(a *Account) { a.Org.Policy.MaxRequestsPerHour, a.RecentUnlocks = 3, 2 },
			wantConfirm: true, wantStaff: true, want: []want{{ItemPending, QueueUnverifiedSender, true}, {ItemPending, QueueUnverifiedSender, false}}},
		{name: "past the flood limit: no reply, no link", facts: forged("jsmith"), mod: policy(ConfirmAlways), unverified: 5,
			wantStaff: true, want: []want{{ItemPending, QueueUnverifiedFlood, false}}},
		{name: "a username in two orgs is ambiguous: no link", facts: forged("jsmith"), mod: policy(ConfirmUnverified), second: true,
			wantStaff: true, want: []want{{ItemPending, QueueUnverifiedSender, false}, {ItemPending, QueueUnverifiedSender, false}}},
		{name: "always: a signed request waits for the click, staff are not called", facts: signed("jsmith"), mod: policy(ConfirmAlways),
			wantConfirm: true, want: []want{{ItemPending, QueueAwaitingConfirmation, true}}},
		{name: "always: a forged request gets a link too", facts: forged("jsmith"), mod: policy(ConfirmAlways),
			wantConfirm: true, wantStaff: true, want: []want{{ItemPending, QueueUnverifiedSender, true}}},
		{name: "always: an admin lock still only queues", facts: signed("boss"), mod: policy(ConfirmAlways),
			wantStaff: true, want: []want{{ItemPending, QueueAdminLock, false}}},
		{name: "always: over the hourly limit the signed request is rate limited, no link", facts: signed("jsmith"),
			mod: policy(ConfirmAlways, func(p *Policy) { p.MaxRequestsPerHour = 1 }), recent: 1,
			wantStaff: true, want: []want{{ItemPending, QueueRateLimited, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			accounts := []Account{acme(tt.mod)}
			if tt.second {
				accounts = append(accounts, acme(func(a *Account) { a.Org.ID = 2; tt.mod(a) }))
			}
			accounts[0].RecentUnlocks += tt.recent
			d := Decide(tt.facts, State{Accounts: accounts, Sender: SenderHistory{Unverified: tt.unverified}}, testNow)
			if d.Confirm != tt.wantConfirm || d.NotifyStaff != tt.wantStaff {
				t.Errorf("Confirm %v, NotifyStaff %v; want %v, %v", d.Confirm, d.NotifyStaff, tt.wantConfirm, tt.wantStaff)
			}
			if d.Confirm && d.ReplyTo != "it@acme.example" {
				t.Errorf("a link goes in a reply to %q, want the address on record", d.ReplyTo)
			}
			if len(d.Items) != len(tt.want) {
				t.Fatalf("items %+v, want %d", d.Items, len(tt.want))
			}
			for i, w := range tt.want {
				if it := d.Items[i]; it.State != w.state || it.Reason != w.reason || it.Confirmable != w.confirmable {
					t.Errorf("item %d = %+v, want %s %s confirmable=%v", i, it, w.state, w.reason, w.confirmable)
				}
			}
		})
	}
}

// TestConfirmLink: using a link decides its open items again as an
// authenticated request would, once; a used, expired or already decided
// link changes nothing.
func TestConfirmLink(t *testing.T) {
	link := func() ConfirmLink {
		return ConfirmLink{ID: 1, DecisionID: 7, CreatedAt: testNow.Add(-10 * time.Minute), ExpiresAt: testNow.Add(20 * time.Minute)}
	}
	bound := func(name string, user int64) Item {
		return Item{ID: user + 1000, OrgID: 1, UserID: user, Username: name, State: ItemPending, Reason: QueueUnverifiedSender,
			UnverifiedSender: true, Confirmable: true}
	}
	const by = "email:it@acme.example"
	tests := []struct {
		name     string
		link     func(*ConfirmLink)
		accounts func() []Account
		items    []Item
		now      time.Time
		want     []confirmedWant
		gone     string
	}{
		{name: "a failed-login lock is lifted", items: []Item{bound("jsmith", 100)},
			want: []confirmedWant{{"jsmith", ItemApplied, "", true}}},
		{name: "several items, each decided", items: []Item{bound("jsmith", 100), bound("second", 106)},
			want: []confirmedWant{{"jsmith", ItemApplied, "", true}, {"second", ItemApplied, "", true}}},
		{name: "a user locked by an admin meanwhile stays queued", items: []Item{bound("jsmith", 100)},
			accounts: func() []Account {
				return []Account{acme(func(a *Account) {
					u := a.Users["jsmith"]
					u.Lock = adminLock()
					a.Users["jsmith"] = u
				})}
			},
			want: []confirmedWant{{"jsmith", ItemPending, QueueAdminLock, false}}},
		{name: "the hourly limit counts these unlocks", items: []Item{bound("jsmith", 100), bound("second", 106)},
			accounts: func() []Account {
				return []Account{acme(func(a *Account) { a.Org.Policy.MaxRequestsPerHour, a.RecentUnlocks = 2, 1 })}
			},
			want: []confirmedWant{{"jsmith", ItemApplied, "", true}, {"second", ItemPending, QueueRateLimited, false}}},
		{name: "always is satisfied by the click", items: []Item{func() Item {
			it := bound("jsmith", 100)
			it.Reason, it.UnverifiedSender = QueueAwaitingConfirmation, false
			return it
		}()},
			accounts: func() []Account {
				return []Account{acme(func(a *Account) { a.Org.Policy.EmailConfirmation = ConfirmAlways })}
			},
			want: []confirmedWant{{"jsmith", ItemApplied, "", true}}},
		{name: "an item decided by staff is left alone", items: []Item{func() Item {
			it := bound("jsmith", 100)
			it.State = ItemRejected
			return it
		}(), bound("second", 106)},
			want: []confirmedWant{{"second", ItemApplied, "", true}}},
		{name: "a used link is gone", link: func(l *ConfirmLink) { l.UsedAt = testNow.Add(-time.Minute) },
			items: []Item{bound("jsmith", 100)}, gone: "already used"},
		{name: "an expired link is gone", now: testNow.Add(20 * time.Minute), items: []Item{bound("jsmith", 100)}, gone: "expired"},
		{name: "every item decided: gone", items: []Item{func() Item {
			it := bound("jsmith", 100)
			it.State = ItemApplied
			return it
		}()}, gone: "already decided"},
		{name: "a user unlocked meanwhile: gone", items: []Item{bound("active", 103)}, gone: "already decided"},
		{name: "an item the link is not bound to: gone", items: []Item{func() Item {
			it := bound("jsmith", 100)
			it.Confirmable = false
			return it
		}()}, gone: "already decided"},
		{name: "a user deleted and made again under the name: gone", items: []Item{bound("jsmith", 999)}, gone: "already decided"},
		{name: "the contact was removed: gone", items: []Item{bound("jsmith", 100)},
			accounts: func() []Account { return nil }, gone: "already decided"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := link()
			if tt.link != nil {
				tt.link(&l)
			}
			accounts := []Account{acme(nil)}
			if tt.accounts != nil {
				accounts = tt.accounts()
			}
			now := testNow
			if !tt.now.IsZero() {
				now = tt.now
			}
			before := l
			got, err := l.Confirm(accounts, tt.items, by, now)
			if tt.gone != "" {
				wantErr(t, tt.name, err, CodeGone, tt.gone)
				if l != before || got != nil {
					t.Errorf("a gone link changed: %+v, %+v", l, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.UsedAt != now {
				t.Errorf("UsedAt = %v, want %v", l.UsedAt, now)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("confirmed %+v, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				c := got[i]
				if c.Item.Username != w.name || c.Item.State != w.state || c.Item.Reason != w.reason || (c.User.Lock == nil) != w.unlocked {
					t.Errorf("%s: %+v, user lock %+v; want %s %s unlocked=%v", w.name, c.Item, c.User.Lock, w.state, w.reason, w.unlocked)
				}
				if w.unlocked && (c.Item.DecidedBy != by || c.Item.DecidedAt != now || c.User.FailedLogins != 0) {
					t.Errorf("%s: decided by %q at %v, failed logins %d", w.name, c.Item.DecidedBy, c.Item.DecidedAt, c.User.FailedLogins)
				}
				if c.Org.ID != 1 {
					t.Errorf("%s: org %+v", w.name, c.Org)
				}
			}
		})
	}
	// Once used, the same link confirms nothing more.
	l := link()
	if _, err := l.Confirm([]Account{acme(nil)}, []Item{bound("jsmith", 100)}, by, testNow); err != nil {
		t.Fatal(err)
	}
	_, err := l.Confirm([]Account{acme(nil)}, []Item{bound("jsmith", 100)}, by, testNow.Add(time.Second))
	wantErr(t, "a second use", err, CodeGone, "already used")
}

type confirmedWant struct {
	name     string
	state    ItemState
	reason   QueueReason
	unlocked bool
}

// TestConfirmLinkRemote: an item of a remote directory is confirmed on the
// lock its lookup found, never on a builtin user of the same name: it
// becomes applying, by the contact, with the lock kept for the directory's
// conditional unlock; a looked-up admin lock stays queued, an item without
// a lock or whose lock ran out is not open, and the hourly limit counts
// what becomes applying.
func TestConfirmLinkRemote(t *testing.T) {
	remote := func(name string, l *Lock) Item {
		return Item{ID: 2000 + int64(len(name)), OrgID: 1, Username: name, State: ItemPending, Reason: QueueUnverifiedSender,
			UnverifiedSender: true, Confirmable: true, Directory: "corp", Lock: l}
	}
	corp := func(limit, recent int) []Account {
		return []Account{acme(func(a *Account) {
			a.Org.Directory = "corp"
			a.Org.Policy.MaxRequestsPerHour, a.RecentUnlocks = limit, recent
		})}
	}
	const by = "email:it@acme.example"
	failed := &Lock{Reason: LockFailedLogins, At: testNow.Add(-time.Hour), Mark: "20261123080000Z"}
	l := ConfirmLink{ID: 1, DecisionID: 7, ExpiresAt: testNow.Add(time.Hour)}
	got, err := l.Confirm(corp(0, 0), []Item{remote("jsmith", failed), remote("boss", adminLock()), remote("nolock", nil),
		remote("ranout", &Lock{Reason: LockFailedLogins, At: testNow.Add(-2 * time.Hour), Expires: testNow.Add(-time.Minute)})}, by, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("confirmed %+v, want jsmith and boss", got)
	}
	j := got[0].Item
	if j.Username != "jsmith" || j.State != ItemApplying || j.Reason != "" || j.DecidedBy != by || j.Note != ConfirmNote ||
		!j.DecidedAt.Equal(testNow) || j.Lock == nil || *j.Lock != *failed || j.Directory != "corp" {
		t.Errorf("jsmith = %+v; want applying in corp with the looked-up lock", j)
	}
	if got[0].User.ID != 0 || got[0].User.Lock == nil {
		t.Errorf("jsmith's user = %+v; want the lookup's, not builtin user 100", got[0].User)
	}
	if b := got[1].Item; b.Username != "boss" || b.State != ItemPending || b.Reason != QueueAdminLock {
		t.Errorf("boss = %+v; want the admin lock queued", b)
	}

	l = ConfirmLink{ID: 2, DecisionID: 8, ExpiresAt: testNow.Add(time.Hour)}
	got, err = l.Confirm(corp(2, 1), []Item{remote("jsmith", failed), remote("second", failed)}, by, testNow)
	if err != nil || len(got) != 2 || got[0].Item.State != ItemApplying || got[1].Item.State != ItemPending ||
		got[1].Item.Reason != QueueRateLimited {
		t.Errorf("under the hourly limit: %+v, %v", got, err)
	}
}
