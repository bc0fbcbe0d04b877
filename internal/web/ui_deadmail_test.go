package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// TestUIDeadMail: staff see dead mail with its last error (escaped) and
// retry or discard it from the page, each audited; an admin has no such
// page and a forged retry is refused.
func TestUIDeadMail(t *testing.T) {
	f := newUIFixture(t)
	ctx := context.Background()
	var ids []int64
	for i, subject := range []string{"Re: unlock alice", "<script>alert(1)</script>"} {
		if err := f.Store.QueueMail(ctx, domain.Mail{Kind: domain.MailReply, To: "it@acme.example", Subject: subject,
			MessageID: fmt.Sprintf("dead%d@unlockd.test", i), Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	pending, _ := f.Store.Outbox(ctx, store.MailPending)
	for _, m := range pending {
		if err := f.Store.MailFailed(ctx, m.ID, "550 5.1.1 <it@acme.example>: no such user", time.Time{}, true); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}

	admin := f.signedIn(t, uiAdminAcme)
	if p := admin.get("/queue"); strings.Contains(p.Body, `href="/dead-mail"`) {
		t.Error("an admin's navigation links to dead mail")
	}
	admin.get("/dead-mail").want(http.StatusForbidden, "may not")
	admin.post(fmt.Sprintf("/dead-mail/%d/retry", ids[0]), nil).want(http.StatusForbidden, "may not")

	staff := f.signedIn(t, uiStaff)
	p := staff.get("/dead-mail").want(http.StatusOK, "550 5.1.1 &lt;it@acme.example&gt;: no such user")
	if strings.Contains(p.Body, "<script>alert") || !strings.Contains(p.Body, "&lt;script&gt;") {
		t.Errorf("the subject is not escaped:\n%s", p.Body)
	}
	staff.get("/queue").want(http.StatusOK, `href="/dead-mail"`)
	staff.post(fmt.Sprintf("/dead-mail/%d/retry", ids[0]), url.Values{"csrf": {"forged"}}).want(http.StatusForbidden, "")
	staff.follow(staff.post(fmt.Sprintf("/dead-mail/%d/retry", ids[0]), nil)).want(http.StatusOK, fmt.Sprintf("Mail %d to it@acme.example is queued again.", ids[0]))
	staff.post(fmt.Sprintf("/dead-mail/%d/retry", ids[0]), nil).want(http.StatusNotFound, "not found")
	staff.follow(staff.post(fmt.Sprintf("/dead-mail/%d/discard", ids[1]), nil)).want(http.StatusOK, "was discarded")
	staff.get("/dead-mail").want(http.StatusOK, "No dead mail")
	staff.get("/dead-mail?after=x").want(http.StatusBadRequest, "")
	entries, _ := f.Store.ListAudit(ctx, store.AuditFilter{Limit: 2})
	if len(entries) != 2 || entries[0].Action != domain.ActionMailDiscard || entries[1].Action != domain.ActionMailRetry ||
		entries[0].Actor != "operator:"+uiStaff || !strings.HasPrefix(entries[0].Source, "http:") {
		t.Errorf("audit = %+v", entries)
	}
}
