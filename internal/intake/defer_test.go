package intake_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/senderauth"
	"github.com/unlockd/unlockd/internal/senderauth/senderauthtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestStalledDNSDoesNotBlockTheMailbox: a contact's domain whose DNS never
// answers sends ten requests, and 300 genuine ones arrive behind them. The
// stalled messages are set aside (one DNS timeout, the default 10 s, is
// spent on their domain; later lookups fail at once while the failure is
// remembered), all 300 others are decided meanwhile, and the stalled ones
// are decided as unauthenticated once their tries are up.
func TestStalledDNSDoesNotBlockTheMailbox(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		const stalled, genuine = 10, 300
		f := newFixture(t, st, genuine+stalled)
		ctx := context.Background()
		if _, err := st.AddContact(ctx, "acme", domain.Contact{Email: "it@stalled.example"}, "test", "cli"); err != nil {
			t.Fatal(err)
		}
		slow := senderauthtest.NewSigner(t, "stalled.example")
		f.pipe.Verifier = &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: func(ctx context.Context, name string) ([]string, error) {
			if strings.HasSuffix(name, "stalled.example") || strings.HasSuffix(name, "stalled.example.") {
				<-ctx.Done() // never answers
				return nil, ctx.Err()
			}
			return f.signer.LookupTXT(ctx, name)
		}}
		srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
		for i := range stalled {
			srv.Append(t, "INBOX", slow.Sign(request("it@stalled.example", fmt.Sprintf("s%d@stalled.example", i), fmt.Sprintf("Unlock: user%d", genuine+i), "")))
		}
		for i := range genuine {
			srv.Append(t, "INBOX", f.signed(i))
		}
		c := cfg(srv)
		c.DeferTries, c.DeferBackoff = 3, 200*time.Millisecond
		began := time.Now()
		start(t, c, f.pipe, st)
		waitForWithin(t, 30*time.Second, func() bool { return f.unlocked(t) == genuine })
		t.Logf("%d genuine requests behind %d stalled ones decided %v after they arrived", genuine, stalled, time.Since(began).Round(time.Millisecond))
		waitForWithin(t, 30*time.Second, func() bool { return f.decisions(t) == genuine+stalled })
		t.Logf("the stalled ones decided %v after they arrived", time.Since(began).Round(time.Millisecond))
		reqs, err := st.ListRequests(ctx, store.RequestFilter{State: domain.ItemPending, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(reqs) != stalled {
			t.Fatalf("%d pending requests, want the %d stalled ones queued", len(reqs), stalled)
		}
		for _, r := range reqs {
			if r.Sender != "it@stalled.example" || r.Authenticated || !strings.Contains(r.AuthReason, "failed temporarily") {
				t.Errorf("stalled request decided as %+v; want unauthenticated after a temporary failure", r)
			}
		}
		waitFor(t, func() bool { return srv.Count(t, "INBOX") == 0 })
	})
}

// TestStrangerIsNotDeferred: a temporary DNS failure for a sender who is no
// contact decides the message at once, rejected without an answer.
func TestStrangerIsNotDeferred(t *testing.T) {
	st := sqliteStore(t)
	f := newFixture(t, st, 1)
	other := senderauthtest.NewSigner(t, "other.example")
	f.pipe.Verifier = &senderauth.Verifier{Mode: senderauth.ModeDKIM, DNSTimeout: 100 * time.Millisecond,
		LookupTXT: func(ctx context.Context, _ string) ([]string, error) { <-ctx.Done(); return nil, ctx.Err() }}
	folder, err := f.pipe.Handle(context.Background(), intake.Message{Mailbox: "support", UIDValidity: 1, UID: 1,
		Raw: other.Sign(request("eve@other.example", "e1@other.example", "Unlock: user0", ""))})
	if err != nil || folder != intake.Rejected {
		t.Fatalf("Handle() = %v, %v; want rejected at once", folder, err)
	}
	mails, err := st.Outbox(context.Background(), "")
	if err != nil || len(mails) != 0 {
		t.Errorf("outbox %v, %v; want no answer to a stranger whose authentication failed", mails, err)
	}
}

// TestDeferralsSurviveARestart: a deferred message keeps its tries across
// watcher restarts, and is decided once they are up.
func TestDeferralsSurviveARestart(t *testing.T) {
	st := sqliteStore(t)
	f := newFixture(t, st, 1)
	f.pipe.Verifier = &senderauth.Verifier{Mode: senderauth.ModeDKIM, DNSTimeout: 50 * time.Millisecond,
		LookupTXT: func(ctx context.Context, _ string) ([]string, error) { <-ctx.Done(); return nil, ctx.Err() }}
	srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
	srv.Append(t, "INBOX", f.signed(0))
	c := cfg(srv)
	c.DeferTries, c.DeferBackoff = 4, 100*time.Millisecond
	stop := start(t, c, f.pipe, st)
	waitFor(t, func() bool { return deferralTries(t, st) >= 2 })
	stop()
	before := deferralTries(t, st)
	if f.decisions(t) != 0 || before >= c.DeferTries {
		t.Fatalf("decisions %d, tries %d before the restart", f.decisions(t), before)
	}
	start(t, c, f.pipe, st)
	// The deferral is settled after the message is moved, a moment after
	// its decision; waitFor fails if it never is.
	waitFor(t, func() bool { return f.decisions(t) == 1 && deferralTries(t, st) == 0 })
	if n := f.decisions(t); n != 1 {
		t.Errorf("%d decisions, want one", n)
	}
}

func deferralTries(t *testing.T, st *store.Store) int {
	t.Helper()
	ds, err := st.Deferrals(context.Background(), "support", 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) == 0 {
		return 0
	}
	return ds[0].Tries
}

// waitForWithin is waitFor with a bound of the caller's choosing.
func waitForWithin(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
