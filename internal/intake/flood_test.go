package intake_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/senderauth"
	"github.com/unlockd/unlockd/internal/senderauth/senderauthtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestForgedFlood: 50 forged requests from a contact's address are all
// recorded and queued, but answered at most max_unverified_per_hour (5)
// times, and staff and admins are told once; the rest reach them in one
// combined notice an hour later. The contact's own signed request right
// after still unlocks at once: forgeries do not use up its limit.
func TestForgedFlood(t *testing.T) {
	signer := senderauthtest.NewSigner(t, "acme.example")
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := time.Now()
		st.Now = func() time.Time { return clock }
		if _, err := st.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: domain.DefaultPolicy()}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddContact(ctx, "acme", domain.Contact{Email: "it@acme.example"}, "test", "cli"); err != nil {
			t.Fatal(err)
		}
		for _, u := range []domain.User{
			{Username: "bob", Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: clock}},
			{Username: "boss", Lock: &domain.Lock{Reason: domain.LockAdmin, At: clock, Note: "left"}},
		} {
			if _, err := st.CreateUser(ctx, "acme", u, "test", "cli"); err != nil {
				t.Fatal(err)
			}
		}
		for _, op := range []store.Operator{{Email: "ann@support.example", Role: domain.RoleStaff},
			{Email: "sam@support.example", Role: domain.RoleStaff}, {Email: "ada@acme.example", Role: domain.RoleAdmin, OrgSlug: "acme"}} {
			if _, err := st.AddOperator(ctx, op, "x", "test", "cli"); err != nil {
				t.Fatal(err)
			}
		}
		renderer, err := outbox.NewRenderer("", "support@example.com", "unlockd")
		if err != nil {
			t.Fatal(err)
		}
		p := &intake.Pipeline{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Render: renderer.Decision,
			Verifier: &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: signer.LookupTXT}}
		uid := uint32(0)
		handle := func(raw []byte) {
			t.Helper()
			uid++
			if _, err := p.Handle(ctx, intake.Message{Mailbox: "support", UIDValidity: 1, UID: uid, Raw: raw}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 50 {
			handle(request("it@acme.example", fmt.Sprintf("forged%d@evil.example", i), "Unlock: bob, boss", ""))
		}
		reqs, err := st.ListRequests(ctx, store.RequestFilter{State: domain.ItemPending, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		reasons := map[domain.QueueReason]int{}
		for _, r := range reqs {
			if r.Username == "bob" {
				reasons[r.Reason]++
			}
		}
		if len(reqs) != 100 || reasons[domain.QueueUnverifiedSender] != 5 || reasons[domain.QueueUnverifiedFlood] != 45 {
			t.Errorf("%d queued items; bob's by reason %v; want 100 items, bob 5 unverified_sender and 45 unverified_flood", len(reqs), reasons)
		}
		mails := mailTo(t, st)
		if mails["it@acme.example"] != 5 || mails["ann@support.example"] != 1 || mails["sam@support.example"] != 1 || mails["ada@acme.example"] != 1 {
			t.Errorf("mail per recipient %v; want 5 replies to the contact and one notice to each of staff and the admin", mails)
		}

		// The contact's own signed request unlocks at once.
		handle(signer.Sign(request("it@acme.example", "real@acme.example", "Unlock: bob", "")))
		if u, _ := st.User(ctx, "acme", "bob"); u.Lock != nil {
			t.Fatal("the genuine request after the flood did not unlock bob")
		}

		// An hour on, one combined notice lists what arrived since.
		clock = clock.Add(domain.NotifyEvery + time.Minute)
		for range 2 { // a second sweep finds nothing due
			if _, err := st.SweepDigests(ctx, renderer.Digest); err != nil {
				t.Fatal(err)
			}
		}
		after := mailTo(t, st)
		for _, who := range []string{"ann@support.example", "sam@support.example", "ada@acme.example"} {
			if after[who] != 2 {
				t.Errorf("%s has %d mails after the sweep, want the first notice and one combined notice", who, after[who])
			}
		}
		digest := lastMailTo(t, st, "ann@support.example")
		if want := "98 unverified unlock request(s) from it@acme.example"; digest.Subject != want {
			t.Errorf("combined notice subject %q, want %q", digest.Subject, want)
		}
	})
}

// mailTo counts queued mail per recipient.
func mailTo(t *testing.T, st *store.Store) map[string]int {
	t.Helper()
	all, err := st.Outbox(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, m := range all {
		n[m.To]++
	}
	return n
}

// lastMailTo returns the newest mail queued for to.
func lastMailTo(t *testing.T, st *store.Store, to string) store.OutboxMail {
	t.Helper()
	all, err := st.Outbox(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var last store.OutboxMail
	for _, m := range all {
		if m.To == to {
			last = m
		}
	}
	return last
}
