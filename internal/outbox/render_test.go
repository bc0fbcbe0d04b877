package outbox_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/store"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// decisionMail builds what store.Decide hands a renderer.
func decisionMail(subject string, auth bool, d domain.Decision) store.DecisionMail {
	return store.DecisionMail{DecisionID: 42,
		Message: store.Message{Subject: subject, MessageID: "req@acme.example", References: []string{"root@acme.example"}},
		Facts:   domain.Facts{Sender: contactAddr}, Decision: withAuth(d, auth)}
}

// withAuth sets whether the decision counted the sender as authenticated.
func withAuth(d domain.Decision, auth bool) domain.Decision {
	d.Authenticated = auth
	return d
}

func accepted(items ...domain.Item) domain.Decision {
	d := domain.Decision{Verdict: domain.VerdictAccepted, ReplyTo: contactAddr, Items: items}
	for _, it := range items { // as domain.Decide settles them
		if it.Reason == domain.QueueAdminLock {
			d.NotifyAdmins = []int64{1}
		}
		d.NotifyStaff = d.NotifyStaff || it.State == domain.ItemPending
	}
	return d
}

func pending(name string, r domain.QueueReason) domain.Item {
	return domain.Item{OrgID: 1, UserID: 9, Username: name, State: domain.ItemPending, Reason: r, UnverifiedSender: r == domain.QueueUnverifiedSender}
}

// confirmable marks it as bound to the request's link.
func confirmable(it domain.Item) domain.Item {
	it.Confirmable = true
	return it
}

// withLink gives dm the link a decision with Confirm gets.
func withLink(dm store.DecisionMail) store.DecisionMail {
	dm.Decision.Confirm = true
	dm.Confirm = &store.ConfirmMail{Token: "Zm9vYmFyLWEtc2FtcGxlLXRva2VuLW9mLTQzLWNoYXJz", TTL: 90 * time.Minute,
		ExpiresAt: time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)}
	return dm
}

func TestGoldenReplies(t *testing.T) {
	r := mustRenderer(t, "")
	linked := mustRenderer(t, "")
	linked.PublicURL = "https://unlock.example.com/"
	fu := outbox.FollowUp{To: contactAddr, Subject: "Entsperren für Jürgen", MessageID: "req@acme.example"}
	cases := map[string]func() ([]domain.Mail, error){
		"unlocked": func() ([]domain.Mail, error) {
			return r.Decision(decisionMail("Unlock jsmith", true, accepted(domain.Item{OrgID: 1, Username: "jsmith", State: domain.ItemApplied})))
		},
		"queued": func() ([]domain.Mail, error) {
			return r.Decision(decisionMail("Unlock", false, accepted(pending("bob", domain.QueueUnverifiedSender))))
		},
		"queued_deliberate_lock": func() ([]domain.Mail, error) {
			return r.Decision(decisionMail("Unlock boss", true, accepted(pending("boss", domain.QueueAdminLock))))
		},
		"summary_mixed": func() ([]domain.Mail, error) {
			return r.Decision(decisionMail("Entsperren für Jürgen", true, accepted(
				domain.Item{OrgID: 1, Username: "Jürgen", State: domain.ItemApplied},
				domain.Item{OrgID: 1, Username: "active", State: domain.ItemNotLocked},
				domain.Item{Username: "ghost", State: domain.ItemUnknownUser},
				pending("boss", domain.QueueAdminLock),
				pending("dave", domain.QueueRateLimited),
				pending("carol", domain.QueueAutoUnlockOff),
				pending("<script>", domain.QueueAmbiguous),
			)))
		},
		"not_authorised": func() ([]domain.Mail, error) {
			return r.Decision(decisionMail("Unlock", true, domain.Decision{Verdict: domain.VerdictRejected, ReplyTo: contactAddr}))
		},
		"no_username": func() ([]domain.Mail, error) {
			return r.Decision(decisionMail("Re: RE: help", true, domain.Decision{Verdict: domain.VerdictNoUsername, ReplyTo: contactAddr}))
		},
		"approved": func() ([]domain.Mail, error) { m, err := r.Approved(fu, "Jürgen"); return []domain.Mail{m}, err },
		"declined": func() ([]domain.Mail, error) {
			m, err := r.Declined(fu, "boss", "Locked on <HR>'s request.\nAsk HR.")
			return []domain.Mail{m}, err
		},
		"expired": func() ([]domain.Mail, error) { m, err := r.Expired(fu, "carol", "dave"); return []domain.Mail{m}, err },
		"queued_with_link": func() ([]domain.Mail, error) {
			return linked.Decision(withLink(decisionMail("Unlock bob", false, accepted(confirmable(pending("bob", domain.QueueUnverifiedSender)),
				pending("boss", domain.QueueAdminLock)))))
		},
		"awaiting_confirmation": func() ([]domain.Mail, error) {
			d := accepted(confirmable(pending("bob", domain.QueueAwaitingConfirmation)))
			d.NotifyStaff = false
			return linked.Decision(withLink(decisionMail("Unlock bob", true, d)))
		},
		"confirmed": func() ([]domain.Mail, error) {
			m, err := r.Answer(store.FollowUp{Kind: store.FollowUpConfirmed, To: contactAddr, Subject: "Unlock bob", MessageID: "req@acme.example",
				Items: []domain.Item{{Username: "bob", State: domain.ItemApplied, Confirmable: true},
					{Username: "second", State: domain.ItemPending, Reason: domain.QueueAdminLock, Confirmable: true}}})
			return []domain.Mail{m}, err
		},
	}
	for name, render := range cases {
		t.Run(name, func(t *testing.T) {
			mails, err := render()
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, m := range mails {
				b.WriteString("=== " + string(m.Kind) + " ===\nSubject: " + m.Subject + "\n--- text ---\n" + m.Text + "--- html ---\n" + m.HTML + "\n")
			}
			golden(t, name, b.String())
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run go test -update if intended)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestDecisionMails(t *testing.T) {
	r := mustRenderer(t, "")
	t.Run("no reply without ReplyTo", func(t *testing.T) {
		mails, err := r.Decision(decisionMail("x", false, domain.Decision{Verdict: domain.VerdictRejected}))
		if err != nil || len(mails) != 0 {
			t.Fatalf("Decision = %+v, %v; want no mail", mails, err)
		}
	})
	t.Run("threading and notifications", func(t *testing.T) {
		d := accepted(pending("boss", domain.QueueAdminLock), domain.Item{OrgID: 2, Username: "other", State: domain.ItemPending, Reason: domain.QueueAmbiguous})
		d.NotifyAdmins = []int64{1}
		mails, err := r.Decision(decisionMail("Re: Re: Unlock", true, d))
		if err != nil || len(mails) != 3 {
			t.Fatalf("Decision = %d mails, %v; want reply, notify_admins, notify_staff", len(mails), err)
		}
		reply, admins, staff := mails[0], mails[1], mails[2]
		if reply.Kind != domain.MailReply || reply.To != contactAddr || reply.Subject != "Re: Unlock" ||
			reply.InReplyTo != "req@acme.example" || strings.Join(reply.References, " ") != "root@acme.example req@acme.example" ||
			!strings.HasSuffix(reply.MessageID, "@support.example") || strings.ContainsAny(reply.MessageID, "<>") || reply.DecisionID != 42 {
			t.Errorf("reply = %+v", reply)
		}
		if admins.Kind != domain.MailNotifyAdmins || admins.OrgID != 1 || admins.To != "" || !strings.Contains(admins.Text, "boss") {
			t.Errorf("notify_admins = %+v", admins)
		}
		if strings.Contains(admins.Text+admins.HTML, "other") {
			t.Errorf("org 1's admins are told about another org's user:\n%s", admins.Text)
		}
		if staff.Kind != domain.MailNotifyStaff || !strings.Contains(staff.Text, "boss") || !strings.Contains(staff.Text, "other") {
			t.Errorf("notify_staff = %+v", staff)
		}
		if reply.MessageID == admins.MessageID || admins.MessageID == staff.MessageID {
			t.Error("Message-IDs repeat")
		}
	})
	t.Run("unknown user reads the same wherever the name exists", func(t *testing.T) {
		// The renderer only sees the decision: two unknown users render
		// identically but for their names.
		mails, err := r.Decision(decisionMail("x", true, accepted(
			domain.Item{Username: "nowhere", State: domain.ItemUnknownUser},
			domain.Item{Username: "elsewhere", State: domain.ItemUnknownUser})))
		if err != nil {
			t.Fatal(err)
		}
		text := mails[0].Text
		if !strings.Contains(text, "  - nowhere: unknown user\n") || !strings.Contains(text, "  - elsewhere: unknown user\n") {
			t.Errorf("text:\n%s", text)
		}
	})
}

func TestTemplateOverride(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "reply.txt.tmpl"), []byte("Custom:{{range .Items}} {{.Username}}={{.State}}{{end}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRenderer(t, dir)
	mails, err := r.Decision(decisionMail("x", true, accepted(domain.Item{OrgID: 1, Username: "jsmith", State: domain.ItemApplied})))
	if err != nil {
		t.Fatal(err)
	}
	if mails[0].Text != "Custom: jsmith=applied\n" {
		t.Errorf("overridden text = %q", mails[0].Text)
	}
	if !strings.Contains(mails[0].HTML, "<b>jsmith</b>: unlocked") {
		t.Errorf("HTML should fall back to the embedded template:\n%s", mails[0].HTML)
	}

	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "notify_staff.html.tmpl"), []byte("{{.NoSuchField}}"), 0o644)
	if _, err := outbox.NewRenderer(bad, fromAddr, loopID); err == nil || !strings.Contains(err.Error(), "notify_staff.html.tmpl") {
		t.Errorf("NewRenderer with a broken override = %v, want an error naming the file", err)
	}
	if _, err := outbox.NewRenderer("", "not an address", loopID); err == nil {
		t.Error("NewRenderer accepted a bad from address")
	}
}

// TestConfirmLinkRendering: the link is the public URL, /confirm/ and the
// token, only in the reply to the address on record; without a public URL
// a decision with a link is an error rather than a reply without it.
func TestConfirmLinkRendering(t *testing.T) {
	r := mustRenderer(t, "")
	dm := withLink(decisionMail("Unlock bob", false, accepted(confirmable(pending("bob", domain.QueueUnverifiedSender)))))
	if _, err := r.Decision(dm); err == nil || !strings.Contains(err.Error(), "http.public_url") {
		t.Errorf("a link without a public URL: %v", err)
	}
	r.PublicURL = "https://unlock.example.com/base/"
	mails, err := r.Decision(dm)
	if err != nil {
		t.Fatal(err)
	}
	const link = "https://unlock.example.com/base/confirm/" + "Zm9vYmFyLWEtc2FtcGxlLXRva2VuLW9mLTQzLWNoYXJz"
	for _, m := range mails {
		has := strings.Contains(m.Text, link) && strings.Contains(m.HTML, `href="`+link+`"`)
		if has != (m.Kind == domain.MailReply) || (m.Kind == domain.MailReply && m.To != contactAddr) {
			t.Errorf("%s to %q: link %v", m.Kind, m.To, has)
		}
		if m.Kind == domain.MailReply && !strings.Contains(m.Text, "for 1 hour 30 minutes (until 23 Nov 2026 11:00 UTC)") {
			t.Errorf("the reply does not say how long the link works:\n%s", m.Text)
		}
		if m.Kind == domain.MailNotifyStaff && !strings.Contains(m.Text, "bob (unverified_sender, link sent)") {
			t.Errorf("staff are not told a link went out:\n%s", m.Text)
		}
	}
	// Without a link the same item reads as queued for review.
	dm.Confirm, dm.Decision.Confirm = nil, false
	mails, err = r.Decision(dm)
	if err != nil || strings.Contains(mails[0].Text, "/confirm/") || !strings.Contains(mails[0].Text, "bob: queued for review") {
		t.Errorf("a reply without a link: %v\n%s", err, mails[0].Text)
	}
}

// TestAppliedReplyCarriesTheLink: the reply written once a remote
// directory answered carries the request's link, made with it, for the
// items bound to it; without a link they read as queued for review.
func TestAppliedReplyCarriesTheLink(t *testing.T) {
	r := mustRenderer(t, "")
	r.PublicURL = "https://unlock.example.com/"
	link := withLink(store.DecisionMail{}).Confirm
	f := store.FollowUp{Kind: store.FollowUpApplied, To: contactAddr, Subject: "Unlock", MessageID: "req@acme.example",
		Items: []domain.Item{{OrgID: 1, Username: "sam", State: domain.ItemApplied},
			confirmable(pending("bob", domain.QueueAwaitingConfirmation))}, Confirm: link}
	m, err := r.Answer(f)
	if err != nil {
		t.Fatal(err)
	}
	const url = "https://unlock.example.com/confirm/" + "Zm9vYmFyLWEtc2FtcGxlLXRva2VuLW9mLTQzLWNoYXJz"
	if !strings.Contains(m.Text, url) || !strings.Contains(m.HTML, `href="`+url+`"`) || !strings.Contains(m.Text, "sam") {
		t.Errorf("the applied reply has no link:\n%s", m.Text)
	}
	f.Confirm = nil
	if m, err = r.Answer(f); err != nil || strings.Contains(m.Text, "/confirm/") || !strings.Contains(m.Text, "bob: queued for review") {
		t.Errorf("the applied reply without a link: %v\n%s", err, m.Text)
	}
}
