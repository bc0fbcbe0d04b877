package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// TestConfirmButtonRemote: for an org whose users live in a remote
// directory, the page answering the Confirm button says the request is
// confirmed and being applied, never "unlocked": the directory has not
// answered yet, and the answer by email waits for it.
func TestConfirmButtonRemote(t *testing.T) {
	cf := newConfirmFixture(t, nil)
	ctx := context.Background()
	st := cf.Store
	o, err := st.CreateOrg(ctx, domain.Org{Slug: "initech", Name: "Initech", Policy: domain.DefaultPolicy(), Directory: "corp"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddContact(ctx, "initech", domain.Contact{Email: "it@acme.example", Name: "IT desk"}, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	var token string
	msg := store.Message{Mailbox: "support", Key: "<dave@acme.example>", MessageID: "<dave@acme.example>", Subject: "Unlock dave"}
	lookup := store.Lookup{Users: map[string]domain.User{"dave": {Username: "dave",
		Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: cf.Clock.Now(), Mark: "20261123090000Z"}}}}
	if _, err := st.DecideBatch(ctx, []store.Input{{Message: msg, Facts: domain.Facts{Sender: "it@acme.example",
		Proof: domain.Proof{Detail: "no DKIM signature"}, Usernames: domain.NamesIn(domain.InSubject, "dave")},
		Remote: map[int64]store.Lookup{o.ID: lookup}}}, func(dm store.DecisionMail) ([]domain.Mail, error) {
		if dm.Confirm != nil {
			token = dm.Confirm.Token
		}
		return nil, nil
	}); err != nil || token == "" {
		t.Fatalf("decide dave's request: %v; token %q", err, token)
	}

	b := cf.browser(t)
	p := b.get("/confirm/"+token).want(http.StatusOK, "Confirming unlocks")
	if !strings.Contains(p.Body, "dave") || strings.Contains(p.Body, "stay queued") {
		t.Errorf("the confirm page does not offer to unlock dave:\n%s", p.Body)
	}
	p = b.post("/confirm/"+token, url.Values{"confirm": {"yes"}}).want(http.StatusOK, "Request confirmed")
	if !strings.Contains(p.Body, "dave") || !strings.Contains(p.Body, "being applied") || strings.Contains(p.Body, "unlocked") ||
		strings.Contains(p.Body, "waiting for a person") || strings.Contains(p.Body, "answered your request") {
		t.Errorf("the answer page does not say dave is being applied:\n%s", p.Body)
	}
	if len(cf.answers) != 0 || cf.unlocked["link"] != 0 {
		t.Errorf("answered %+v, counted %v before the directory answered", cf.answers, cf.unlocked)
	}
}
