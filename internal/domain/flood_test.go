package domain

import (
	"testing"
	"time"
)

// TestUnverifiedFlood: past max_unverified_per_hour an unverified request
// is recorded and queued with its own reason and no reply; authenticated
// requests are not limited by it, and it does not touch the
// authenticated unlock count.
func TestUnverifiedFlood(t *testing.T) {
	forged := Facts{Sender: "it@acme.example", Proof: Proof{Detail: "no DKIM signature"}, Usernames: inSubject("jsmith")}
	for _, tt := range []struct {
		name       string
		facts      Facts
		unverified int
		mod        func(*Account)
		wantReply  bool
		wantReason QueueReason
		wantState  ItemState
	}{
		{"under the limit", forged, 4, nil, true, QueueUnverifiedSender, ItemPending},
		{"at the limit", forged, 5, nil, false, QueueUnverifiedFlood, ItemPending},
		{"far past it", forged, 50, nil, false, QueueUnverifiedFlood, ItemPending},
		{"no limit", forged, 50, func(a *Account) { a.Org.Policy.MaxUnverifiedPerHour = 0 }, true, QueueUnverifiedSender, ItemPending},
		{"the strictest org decides", forged, 2, func(a *Account) { a.Org.Policy.MaxUnverifiedPerHour = 2 }, false, QueueUnverifiedFlood, ItemPending},
		{"a genuine request is never a flood", Facts{Sender: "it@acme.example", Proof: proven, Usernames: inSubject("jsmith")},
			500, nil, true, "", ItemApplied},
	} {
		t.Run(tt.name, func(t *testing.T) {
			accounts := []Account{acme(tt.mod)}
			if tt.name == "the strictest org decides" { // a second org with the default limit, 5
				accounts = append(accounts, acme(func(a *Account) { a.Org.ID, a.Users = 2, nil }))
			}
			d := Decide(tt.facts, State{Accounts: accounts, Sender: SenderHistory{Unverified: tt.unverified}}, testNow)
			if (d.ReplyTo != "") != tt.wantReply || d.Flood == tt.wantReply {
				t.Errorf("ReplyTo %q, Flood %v; want a reply %v", d.ReplyTo, d.Flood, tt.wantReply)
			}
			if got := d.Items[0]; got.State != tt.wantState || got.Reason != tt.wantReason {
				t.Errorf("item %+v, want %s %s", got, tt.wantState, tt.wantReason)
			}
		})
	}
}

// TestNotificationsCombined: staff and admins hear of unverified requests
// from one address at most once per NotifyEvery; the rest wait for the
// combined notice. Authenticated requests notify at once.
func TestNotificationsCombined(t *testing.T) {
	forged := Facts{Sender: "it@acme.example", Usernames: inSubject("jsmith", "boss")}
	for _, tt := range []struct {
		name       string
		facts      Facts
		notifiedAt time.Time
		wantNow    bool
		wantDigest bool
	}{
		{"never told", forged, time.Time{}, true, false},
		{"told an hour ago", forged, testNow.Add(-time.Hour), true, false},
		{"told a minute ago", forged, testNow.Add(-time.Minute), false, true},
		{"authenticated: always at once", Facts{Sender: "it@acme.example", Proof: proven, Usernames: inSubject("boss")},
			testNow.Add(-time.Minute), true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.facts, State{Accounts: []Account{acme(nil)}, Sender: SenderHistory{NotifiedAt: tt.notifiedAt}}, testNow)
			if d.NotifyStaff != tt.wantNow || (len(d.NotifyAdmins) > 0) != tt.wantNow || d.Digest != tt.wantDigest {
				t.Errorf("NotifyStaff %v, NotifyAdmins %v, Digest %v; want now %v, digest %v",
					d.NotifyStaff, d.NotifyAdmins, d.Digest, tt.wantNow, tt.wantDigest)
			}
		})
	}
	// Nothing queued: nobody to tell, nothing to combine.
	d := Decide(Facts{Sender: "it@acme.example", Usernames: inSubject("active")}, State{Accounts: []Account{acme(nil)}}, testNow)
	if d.NotifyStaff || d.Digest || len(d.NotifyAdmins) > 0 {
		t.Errorf("a request with nothing queued notifies: %+v", d)
	}
}

// TestNotAuthorisedRepliesCapped: an authenticated stranger is answered at
// most MaxNotAuthorisedPerHour times an hour.
func TestNotAuthorisedRepliesCapped(t *testing.T) {
	f := Facts{Sender: "eve@other.example", Proof: proven, Usernames: inSubject("jsmith")}
	for n := range MaxNotAuthorisedPerHour + 2 {
		d := Decide(f, State{Sender: SenderHistory{NotAuthorised: n}}, testNow)
		if want := n < MaxNotAuthorisedPerHour; (d.ReplyTo != "") != want || d.Verdict != VerdictRejected {
			t.Errorf("after %d answers: %+v, want a reply %v", n, d, want)
		}
	}
}
