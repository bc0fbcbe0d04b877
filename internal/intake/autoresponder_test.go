package intake_test

import (
	"context"
	"fmt"
	"mime"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestAutorespondersAreIgnored sends every autoresponder of mailparse's
// table through the whole pipeline on each engine, each signed by the
// contact and naming a locked user in its Subject or body: each is decided
// ignored, with no reply and no unlock. One control request with no sign,
// for a user of its own, is unlocked, so the mail would unlock if the sign
// were missed.
func TestAutorespondersAreIgnored(t *testing.T) {
	rows := mailtest.Autoresponders(t, "../mailparse/testdata/autoresponders.txt")
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, len(rows)+1)
		srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
		for i, r := range rows {
			user := fmt.Sprintf("user%d", i)
			subject, extra := "Unlock: "+user, r.Line+"\r\n"
			if r.Kind == "subject" {
				subject, extra = mime.QEncoding.Encode("UTF-8", strings.ReplaceAll(r.Line, "bob", user)), ""
			}
			msg := strings.Replace(string(request("it@acme.example", fmt.Sprintf("auto%d@acme.example", i), subject, extra)),
				"please help.", "please unlock "+user+".", 1)
			srv.Append(t, "INBOX", f.signer.Sign([]byte(msg)))
		}
		srv.Append(t, "INBOX", f.signed(len(rows)))
		start(t, cfg(srv), f.pipe, st)
		waitFor(t, func() bool { n, _ := st.CountDecisions(ctx, "support"); return n == len(rows)+1 })

		for i, r := range rows {
			if v, err := st.DecidedVerdict(ctx, "support", fmt.Sprintf("auto%d@acme.example", i)); err != nil || v != domain.VerdictIgnored {
				t.Errorf("%s %q: verdict %q, %v; want ignored", r.Kind, r.Sign, v, err)
			}
			if u, err := st.User(ctx, "acme", fmt.Sprintf("user%d", i)); err != nil || u.Lock == nil {
				t.Errorf("%s %q: user%d unlocked (%v)", r.Kind, r.Sign, i, err)
			}
		}
		if u, err := st.User(ctx, "acme", fmt.Sprintf("user%d", len(rows))); err != nil || u.Lock != nil {
			t.Errorf("the control request was not applied: %+v, %v", u.Lock, err)
		}
		mails, err := st.Outbox(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mails {
			if m.InReplyTo != fmt.Sprintf("req%d@acme.example", len(rows)) {
				t.Errorf("mail to %s in reply to %s: an autoresponder was answered", m.To, m.InReplyTo)
			}
		}
	})
}
