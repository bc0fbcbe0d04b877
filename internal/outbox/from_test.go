package outbox_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestFromCarriesTheName: smtp.from with a display name puts the name in
// the From field of replies and notifications alike, RFC 2047-encoded
// when it is not ASCII, while the envelope sender stays the bare address.
func TestFromCarriesTheName(t *testing.T) {
	for _, tc := range []struct {
		test, from, wire, name string
	}{
		{"ASCII name", "Support Desk <" + fromAddr + ">", `From: "Support Desk" <` + fromAddr + `>`, "Support Desk"},
		{"UTF-8 name", "Büro Zürich <" + fromAddr + ">", "From: =?utf-8?q?B=C3=BCro_Z=C3=BCrich?= <" + fromAddr + ">", "Büro Zürich"},
		{"bare address", fromAddr, "From: <" + fromAddr + ">", ""},
	} {
		t.Run(tc.test, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, s *store.Store) {
				f := newFixture(t, s)
				sink := mailtest.StartSMTP(t)
				// boss is locked by an admin: a reply to the contact, and
				// notifications to acme's admin and to staff.
				f.decide(t, contactAddr, true, "Unlock boss", "boss")
				w := f.newWorker(t, sink, func(c *outbox.Config) { c.SMTP.From = tc.from })
				f.drain(t, w, 5)
				msgs := sink.Messages()
				if len(msgs) != 3 {
					t.Fatalf("%d mails delivered, want the reply and two notifications", len(msgs))
				}
				for _, m := range msgs {
					if m.From != fromAddr {
						t.Errorf("envelope sender %q, want the bare %s", m.From, fromAddr)
					}
					head, _, _ := bytes.Cut(m.Data, []byte("\r\n\r\n"))
					if !strings.Contains(string(head)+"\r\n", tc.wire+"\r\n") {
						t.Errorf("mail to %v: header lacks %q:\n%s", m.To, tc.wire, head)
					}
					p := parse(t, m.Data)
					from, err := p.header.AddressList("From")
					if err != nil || len(from) != 1 || from[0].Address != fromAddr || from[0].Name != tc.name {
						t.Errorf("mail to %v: From = %v (%v), want %q <%s>", m.To, from, err, tc.name, fromAddr)
					}
				}
			})
		})
	}
}
