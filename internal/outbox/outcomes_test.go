package outbox_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestOutcomesReachTheSink drives every outcome of SPEC §3.5 through
// store.Decide with the real renderer, the worker and the SMTP sink, and
// reads each delivered mail back as parsed mail.
func TestOutcomesReachTheSink(t *testing.T) {
	cases := []struct {
		name    string
		policy  func(*domain.Policy) // applied to acme first
		sender  string
		auth    bool
		subject string
		users   []string
		// replyTo is the reply's recipient; "" means no reply.
		replyTo string
		lines   []string // lines the reply's text part must hold
		admins  int      // notify_admins mails to acme's admin
		staff   int      // notify_staff mails to staff
	}{
		{name: "unlocked", sender: contactAddr, auth: true, subject: "Unlock jsmith", users: []string{"jsmith"},
			replyTo: contactAddr, lines: []string{"  - jsmith: unlocked", "Unlocked users can sign in again now."}},
		{name: "not locked", sender: contactAddr, auth: true, subject: "Unlock please", users: []string{"active"},
			replyTo: contactAddr, lines: []string{"  - active: not locked, nothing to do"}},
		{name: "unknown user, here and in another org", sender: contactAddr, auth: true, subject: "Re: Unlock",
			users: []string{"ghost", "shared"}, replyTo: contactAddr,
			lines: []string{"  - ghost: unknown user", "  - shared: unknown user"}},
		{name: "deliberate lock queued", sender: contactAddr, auth: true, subject: "Unlock boss", users: []string{"boss"},
			replyTo: contactAddr, admins: 1, staff: 1,
			lines: []string{"  - boss: queued for review: locked deliberately by an administrator",
				"your organisation's administrators are told"}},
		{name: "unverified sender queued", sender: contactAddr, subject: "Unlock bob", users: []string{"bob"},
			replyTo: contactAddr, staff: 1,
			lines: []string{"  - bob: queued for review: your message could not be verified as coming from you",
				"nothing was unlocked automatically"}},
		{name: "mixed summary", sender: contactAddr, auth: true, subject: "Entsperren für Jürgen",
			users: []string{"Jürgen", "active", "ghost", "boss"}, replyTo: contactAddr, admins: 1, staff: 1,
			lines: []string{"  - Jürgen: unlocked", "  - active: not locked, nothing to do", "  - ghost: unknown user",
				"  - boss: queued for review: locked deliberately by an administrator"}},
		{name: "over the hourly limit queued", policy: func(p *domain.Policy) { p.MaxRequestsPerHour = 1 },
			sender: contactAddr, auth: true, subject: "Unlock dave", users: []string{"dave"}, replyTo: contactAddr, staff: 1,
			lines: []string{"  - dave: queued for review: too many unlock requests in the last hour"}},
		{name: "auto unlock off queued", policy: func(p *domain.Policy) { p.AutoUnlock = false },
			sender: contactAddr, auth: true, subject: "Unlock carol", users: []string{"carol"}, replyTo: contactAddr, staff: 1,
			lines: []string{"  - carol: queued for review: your organisation has every unlock reviewed"}},
		{name: "no username", sender: contactAddr, auth: true, subject: "Help!", replyTo: contactAddr,
			lines: []string{"We could not find a username in your message.", "    Unlock: <username>"}},
		{name: "not authorised, authenticated stranger", sender: "someone@elsewhere.example", auth: true,
			subject: "Unlock jsmith", users: []string{"jsmith"}, replyTo: "someone@elsewhere.example",
			lines: []string{"This address is not an authorised contact"}},
		{name: "unauthenticated stranger gets nothing", sender: "forged@elsewhere.example", subject: "Unlock jsmith",
			users: []string{"jsmith"}},
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		sink := mailtest.StartSMTP(t)
		w := f.newWorker(t, sink, nil)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if tc.policy != nil {
					org, err := s.Org(ctx, "acme")
					if err != nil {
						t.Fatal(err)
					}
					tc.policy(&org.Policy)
					if err := s.UpdateOrg(ctx, org, "test", "cli"); err != nil {
						t.Fatal(err)
					}
				}
				before := len(sink.Messages())
				d := f.decide(t, tc.sender, tc.auth, tc.subject, tc.users...)
				f.drain(t, w, 3)
				got := byRecipient(sink.Messages()[before:])
				if n := len(got[adminAddr]); n != tc.admins {
					t.Errorf("%d mails to the org admin, want %d", n, tc.admins)
				}
				if n := len(got[staffAddr]); n != tc.staff {
					t.Errorf("%d mails to staff, want %d", n, tc.staff)
				}
				if tc.replyTo == "" {
					if len(got) != 0 {
						t.Errorf("mail sent to %v, want none", slices.Collect(maps.Keys(got)))
					}
					return
				}
				replies := got[tc.replyTo]
				if len(replies) != 1 {
					t.Fatalf("%d replies to %s, want 1", len(replies), tc.replyTo)
				}
				checkReply(t, replies[0], tc.replyTo, tc.subject, d, tc.lines)
			})
		}
		for _, m := range sink.Messages() {
			if strings.Contains(strings.ToLower(string(m.Data)), "globex") {
				t.Errorf("mail to %v mentions another org:\n%s", m.To, m.Data)
			}
		}
		sent, err := s.Outbox(ctx, store.MailSent)
		if err != nil {
			t.Fatal(err)
		}
		if all, _ := s.Outbox(ctx, ""); len(sent) != len(all) || len(sent) != len(sink.Messages()) {
			t.Errorf("outbox: %d rows, %d sent; sink holds %d", len(all), len(sent), len(sink.Messages()))
		}
	})
}

// checkReply reads a delivered reply back and checks its envelope,
// headers and text.
func checkReply(t *testing.T, m mailtest.SMTPMessage, to, subject string, d store.Decided, lines []string) {
	t.Helper()
	if m.From != fromAddr || !slices.Equal(m.To, []string{to}) {
		t.Errorf("envelope %s -> %v, want %s -> %s", m.From, m.To, fromAddr, to)
	}
	p := parse(t, m.Data)
	from, err := p.header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != fromAddr {
		t.Errorf("From = %v (%v)", from, err)
	}
	if got := p.to(t); got != to {
		t.Errorf("To = %s, want %s", got, to)
	}
	want := "Re: " + strings.TrimPrefix(subject, "Re: ")
	if got := p.subject(t); got != want {
		t.Errorf("Subject = %q, want %q", got, want)
	}
	reqID := p.ids(t, "In-Reply-To")
	if len(reqID) != 1 || !strings.HasPrefix(reqID[0], "req") {
		t.Errorf("In-Reply-To = %v", reqID)
	}
	if refs := p.ids(t, "References"); len(reqID) == 1 && !slices.Equal(refs, []string{"root@acme.example", reqID[0]}) {
		t.Errorf("References = %v, want root@acme.example %s", refs, reqID[0])
	}
	if id, err := p.header.MessageID(); err != nil || !strings.HasSuffix(id, "@support.example") || len(id) < 20 {
		t.Errorf("Message-ID = %q (%v)", id, err)
	}
	if got := p.header.Get("Auto-Submitted"); got != "auto-replied" {
		t.Errorf("Auto-Submitted = %q", got)
	}
	if got := p.header.Get("X-Loop"); got != loopID {
		t.Errorf("X-Loop = %q", got)
	}
	for _, l := range lines {
		if !strings.Contains(p.text, l) {
			t.Errorf("text part lacks %q:\n%s", l, p.text)
		}
	}
	for _, it := range d.Decision.Items {
		if !strings.Contains(p.html, "<b>"+it.Username+"</b>") {
			t.Errorf("HTML part lacks %s:\n%s", it.Username, p.html)
		}
	}
	if p.html == "" || p.text == "" {
		t.Errorf("want text and HTML parts; got text %d bytes, HTML %d bytes", len(p.text), len(p.html))
	}
}

// TestFollowUpRepliesReachTheSink queues the approved, declined and
// expired replies as the HTTP layer will, and delivers them.
func TestFollowUpRepliesReachTheSink(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		sink := mailtest.StartSMTP(t)
		fu := outbox.FollowUp{To: contactAddr, Subject: "Entsperren für Jürgen", MessageID: "orig@acme.example",
			References: []string{"root@acme.example"}}
		var mails []domain.Mail
		for _, render := range []func() (domain.Mail, error){
			func() (domain.Mail, error) { return f.r.Approved(fu, "Jürgen") },
			func() (domain.Mail, error) { return f.r.Declined(fu, "boss", "Ask your manager first.") },
			func() (domain.Mail, error) { return f.r.Expired(fu, "carol") },
		} {
			m, err := render()
			if err != nil {
				t.Fatal(err)
			}
			mails = append(mails, m)
		}
		if err := s.QueueMail(ctx, mails...); err != nil {
			t.Fatal(err)
		}
		f.drain(t, f.newWorker(t, sink, nil), 2)
		msgs := sink.Messages()
		if len(msgs) != 3 {
			t.Fatalf("%d mails delivered, want 3", len(msgs))
		}
		wants := []string{"Jürgen was approved", "boss was declined.\n\nNote from the reviewer:\nAsk your manager first.", "carol expired"}
		for i, m := range msgs {
			p := parse(t, m.Data)
			if got := p.subject(t); got != "Re: Entsperren für Jürgen" {
				t.Errorf("Subject = %q", got)
			}
			if ids := p.ids(t, "In-Reply-To"); !slices.Equal(ids, []string{"orig@acme.example"}) {
				t.Errorf("In-Reply-To = %v", ids)
			}
			if !strings.Contains(p.text, wants[i]) {
				t.Errorf("reply %d lacks %q:\n%s", i, wants[i], p.text)
			}
		}
	})
}
