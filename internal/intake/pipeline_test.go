package intake_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/senderauth"
	"github.com/unlockd/unlockd/internal/senderauth/senderauthtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// request builds a request mail from addr.
func request(from, id, subject, extra string) []byte {
	return fmt.Appendf(nil, "From: %s\r\nTo: support@example.com\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n%s\r\nHello,\r\n\r\nplease help.\r\n", from, subject, id, extra)
}

// TestPipelineDecidesEachKindOfRequest runs the whole intake path against
// the in-process IMAP server and a real store on each engine.
func TestPipelineDecidesEachKindOfRequest(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: domain.DefaultPolicy()}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddContact(ctx, "acme", domain.Contact{Email: "it@acme.example"}, "test", "cli"); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		for _, u := range []domain.User{
			{Username: "jsmith", Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: now}},
			{Username: "boss", Lock: &domain.Lock{Reason: domain.LockAdmin, At: now, Note: "fraud"}},
			{Username: "forged", Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: now}},
			{Username: "bob", Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: now}},
		} {
			if _, err := st.CreateUser(ctx, "acme", u, "test", "cli"); err != nil {
				t.Fatal(err)
			}
		}
		signer := senderauthtest.NewSigner(t, "acme.example")
		srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
		msgs := [][]byte{
			signer.Sign(request("IT Desk <it@acme.example>", "1@acme.example", "Unlock: jsmith", "")),
			signer.Sign(request("it@acme.example", "2@acme.example", "Unlock: boss", "")),
			request("it@acme.example", "3@evil.example", "Unlock: forged", ""),
			request(`"it@acme.example" <evil@attacker.example>`, "4@evil.example", "Unlock: forged", ""),
			signer.Sign(request("it@acme.example", "5@acme.example", "Out of office", "Auto-Submitted: auto-replied\r\n")),
			signer.Sign(request("IT Desk <it@acme.example>", "1@acme.example", "Unlock: jsmith", "")), // duplicate
			[]byte("%PDF-1.4\n\x00\x01\x02 binary junk, not a mail\n"),                                // unparsable
			signer.Sign(request("it@acme.example", "7@acme.example", "Hello", "")),                    // after the junk: still decided
			// A genuine signed mail with an unsigned Subject put on top.
			append([]byte("Subject: Unlock: bob\r\n"), signer.Sign(request("it@acme.example", "8@acme.example", "Lunch?", ""))...),
		}
		for _, m := range msgs {
			srv.Append(t, "INBOX", m)
		}
		rec := newRecorder()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		renderer, err := outbox.NewRenderer("", "support@example.com", "unlockd")
		if err != nil {
			t.Fatal(err)
		}
		pipe := &intake.Pipeline{Store: st, Log: log, Render: renderer.Decision,
			Verifier: &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: signer.LookupTXT}}
		start(t, cfg(srv), tee{pipe, rec}, st)
		rec.await(t, len(msgs), 10*time.Second)
		waitFor(t, func() bool { return srv.Count(t, "INBOX") == 0 })

		if u, _ := st.User(ctx, "acme", "jsmith"); u.Lock != nil {
			t.Errorf("verified request for a failed-login lock was not applied: %+v", u.Lock)
		}
		for _, name := range []string{"boss", "forged", "bob"} {
			if u, _ := st.User(ctx, "acme", name); u.Lock == nil {
				t.Errorf("%s was unlocked", name)
			}
		}
		want := map[string]domain.Verdict{
			"1@acme.example": domain.VerdictAccepted, "2@acme.example": domain.VerdictAccepted,
			"3@evil.example": domain.VerdictAccepted, "4@evil.example": domain.VerdictRejected,
			"5@acme.example": domain.VerdictIgnored, "7@acme.example": domain.VerdictNoUsername,
			"8@acme.example": domain.VerdictAccepted,
		}
		for id, v := range want {
			got, err := st.DecidedVerdict(ctx, "support", id)
			if err != nil || got != v {
				t.Errorf("%s: verdict %q, %v; want %q", id, got, err, v)
			}
		}
		if p, r := srv.Count(t, "Processed"), srv.Count(t, "Rejected"); p != 7 || r != 2 {
			t.Errorf("processed %d, rejected %d; want 7 and 2", p, r)
		}
		if n, _ := st.CountDecisions(ctx, "support"); n != 8 {
			t.Errorf("%d decisions for 9 messages with one duplicate, want 8", n)
		}
		// Each request from the contact has its reply queued to the address on
		// record, threaded; the forged stranger, the out-of-office and the junk
		// get none.
		mails, err := st.Outbox(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		replies := map[string]string{}
		for _, m := range mails {
			if m.Kind != domain.MailReply {
				continue
			}
			replies[m.InReplyTo] = m.To
			if m.InReplyTo == "2@acme.example" && !strings.Contains(m.Text, "boss: queued") {
				t.Errorf("reply for the admin-locked user does not say it is queued:\n%s", m.Text)
			}
			if (m.InReplyTo == "3@evil.example" || m.InReplyTo == "8@acme.example") && !strings.Contains(m.Text, "could not verify") {
				t.Errorf("reply for the unverified request %s does not say so:\n%s", m.InReplyTo, m.Text)
			}
		}
		wantReplies := map[string]string{"1@acme.example": "it@acme.example", "2@acme.example": "it@acme.example",
			"3@evil.example": "it@acme.example", "7@acme.example": "it@acme.example", "8@acme.example": "it@acme.example"}
		if !maps.Equal(replies, wantReplies) {
			t.Errorf("replies (in-reply-to: to) = %v, want %v", replies, wantReplies)
		}
		audit, _ := st.ListAudit(ctx, store.AuditFilter{Target: "jsmith"})
		unlocks := 0
		for _, e := range audit {
			if e.Action == domain.ActionUnlock {
				unlocks++
			}
		}
		if unlocks != 1 {
			t.Errorf("jsmith unlocked %d times, want once", unlocks)
		}
		reqs, err := st.ListRequests(ctx, store.RequestFilter{State: domain.ItemPending})
		if err != nil {
			t.Fatal(err)
		}
		var bob []store.Request
		for _, r := range reqs {
			if r.Username == "bob" {
				bob = append(bob, r)
			}
		}
		if len(bob) != 1 || bob[0].Authenticated || bob[0].Reason != domain.QueueUnverifiedSender ||
			!strings.Contains(bob[0].AuthReason, "duplicated header field Subject") {
			t.Errorf("the prepended-Subject attack: requests for bob = %+v; want one queued as unverified, saying why", bob)
		}
	})
}

// tee passes each message to the handler and then to the recorder.
type tee struct {
	h   intake.Handler
	rec *recorder
}

func (t tee) Prepare(ctx context.Context, batch []intake.Message) intake.Prepared {
	p := t.h.Prepare(ctx, batch)
	return intake.Decided(func(ctx context.Context) []intake.Result {
		out := p.Decide(ctx)
		for i, r := range out {
			if r.Err == nil {
				t.rec.Handle(ctx, batch[i])
			}
		}
		return out
	})
}
