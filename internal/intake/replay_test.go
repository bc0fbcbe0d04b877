package intake_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/senderauth"
	"github.com/unlockd/unlockd/internal/senderauth/senderauthtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestReplayIsADuplicate: a genuine signed request sent again under a new
// Message-ID, in the same or another mailbox, is skipped, however its
// header was changed; and an old signature does not count.
func TestReplayIsADuplicate(t *testing.T) {
	signer := senderauthtest.NewSigner(t, "acme.example")
	// The signer leaves Message-ID out of h=, so it can be replaced
	// without breaking the signature.
	genuine := signer.SignWith(request("it@acme.example", "r1@acme.example", "Unlock: bob", ""), dkim.SignOptions{
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
		HeaderKeys: []string{"From", "To", "Subject", "Date"}})
	replays := []struct {
		name, mailbox string
		raw           []byte
	}{
		{"new Message-ID in place of the old", "support", bytes.Replace(genuine, []byte("<r1@acme.example>"), []byte("<r2@acme.example>"), 1)},
		{"new Message-ID on top", "support", append([]byte("Message-ID: <r3@acme.example>\r\n"), genuine...)},
		{"another mailbox", "sales", bytes.Replace(genuine, []byte("<r1@acme.example>"), []byte("<r4@acme.example>"), 1)},
		{"the same mail in another mailbox", "sales", genuine},
	}
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mustAcmeWithBob(t, st)
		p := &intake.Pipeline{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Verifier: &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: signer.LookupTXT}}
		if _, err := p.Handle(ctx, intake.Message{Mailbox: "support", UIDValidity: 1, UID: 1, Raw: genuine}); err != nil {
			t.Fatal(err)
		}
		if u, _ := st.User(ctx, "acme", "bob"); u.Lock != nil {
			t.Fatal("the genuine request did not unlock bob")
		}
		for i, r := range replays {
			t.Run(r.name, func(t *testing.T) {
				relock(t, st, "bob")
				before := countAll(t, st)
				folder, err := p.Handle(ctx, intake.Message{Mailbox: r.mailbox, UIDValidity: 1, UID: uint32(i + 2), Raw: r.raw})
				if err != nil || folder != intake.Processed {
					t.Fatalf("Handle() = %v, %v; want the replay filed as its original (processed)", folder, err)
				}
				if u, _ := st.User(ctx, "acme", "bob"); u.Lock == nil {
					t.Fatal("the replay unlocked bob")
				}
				if after := countAll(t, st); after != before {
					t.Errorf("decisions %d → %d: a replay was decided", before, after)
				}
			})
		}
	})
}

// TestOldSignatureIsUnauthenticated: past sender_auth.max_signature_age a
// genuine signature no longer counts; the request is queued, not applied.
func TestOldSignatureIsUnauthenticated(t *testing.T) {
	signer := senderauthtest.NewSigner(t, "acme.example")
	raw := signer.Sign(request("it@acme.example", "old1@acme.example", "Unlock: bob", ""))
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mustAcmeWithBob(t, st)
		p := &intake.Pipeline{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Verifier: &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: signer.LookupTXT,
				Now: func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }}}
		if _, err := p.Handle(ctx, intake.Message{Mailbox: "support", UIDValidity: 1, UID: 1, Raw: raw}); err != nil {
			t.Fatal(err)
		}
		if u, _ := st.User(ctx, "acme", "bob"); u.Lock == nil {
			t.Fatal("an eight-day-old signature unlocked bob")
		}
		reqs, err := st.ListRequests(ctx, store.RequestFilter{State: domain.ItemPending})
		if err != nil || len(reqs) != 1 || reqs[0].Authenticated || reqs[0].Reason != domain.QueueUnverifiedSender {
			t.Fatalf("requests = %+v, %v; want one queued as unverified", reqs, err)
		}
	})
}

// countAll counts the decisions of every mailbox the tests use.
func countAll(t *testing.T, st *store.Store) int {
	t.Helper()
	n := 0
	for _, mb := range []string{"support", "sales"} {
		c, err := st.CountDecisions(context.Background(), mb)
		if err != nil {
			t.Fatal(err)
		}
		n += c
	}
	return n
}
