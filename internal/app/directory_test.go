package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/app"
	"github.com/unlockd/unlockd/internal/apply"
	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/ldaptest"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// corpDirectory is the directories entry for a test slapd: StartTLS on
// its ldap:// port, unlockd's service account, one OU per org.
func corpDirectory(slapd *ldaptest.Server) config.Directory {
	return config.Directory{Name: "corp", Kind: config.DirectoryLDAP, Server: config.LDAPOpenLDAP, URL: slapd.URL(),
		StartTLS: true, CAFile: slapd.CAFile(), BindDN: ldaptest.ServiceDN, BindPassword: ldaptest.ServicePassword,
		BaseDN: "ou={org}," + ldaptest.Suffix, UserFilter: "(uid={username})", DefaultPolicyDN: ldaptest.DefaultPolicyDN,
		Timeout: config.Duration(3 * time.Second)}
}

// startLDAPApp starts the program with directory corp on slapd and org
// acme (contact it@acme.example) in it.
func startLDAPApp(t *testing.T, e storetest.Engine, slapd *ldaptest.Server, opts app.Options, tries int) *running {
	t.Helper()
	return startDirectoryApp(t, e, corpDirectory(slapd), opts, tries)
}

// signedRequest is a DKIM-signed request of the contact naming users.
func (r *running) signedRequest(id string, users ...string) []byte {
	return r.Signer.Sign([]byte("From: IT <it@acme.example>\r\nTo: support@unlockd.example\r\n" +
		"Subject: Unlock: " + strings.Join(users, ", ") + "\r\nMessage-ID: <" + id + ">\r\n\r\nPlease unlock them.\r\n"))
}

// lockedByBinds adds a user to org acme's OU and locks it with three real
// failed binds; it returns the entry's DN.
func lockedByBinds(t *testing.T, slapd *ldaptest.Server, orgDN, username string) string {
	t.Helper()
	dn := slapd.AddUser(t, orgDN, ldaptest.User{Username: username, Password: "pw-" + username})
	slapd.FailBinds(t, dn, 3)
	if len(slapd.Attr(t, dn, "pwdAccountLockedTime")) != 1 {
		t.Fatalf("%s is not locked after three failed binds", username)
	}
	return dn
}

// wantUnlockedInLDAP checks with a fresh search and a bind that the user
// can sign in again.
func wantUnlockedInLDAP(t *testing.T, slapd *ldaptest.Server, dn, username string) {
	t.Helper()
	if v := slapd.Attr(t, dn, "pwdAccountLockedTime"); len(v) != 0 {
		t.Errorf("%s is still locked: pwdAccountLockedTime %v", username, v)
	}
	if err := slapd.Bind(t, dn, "pw-"+username); err != nil {
		t.Errorf("%s cannot bind after the unlock: %v", username, err)
	}
}

// repliesTo counts the replies threaded under each request message id.
func repliesTo(t *testing.T, s *mailtest.SMTPServer) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range s.Messages() {
		for _, line := range strings.Split(string(m.Data), "\r\n") {
			if v, ok := strings.CutPrefix(line, "In-Reply-To: "); ok {
				out[strings.Trim(v, "<>")]++
			}
		}
	}
	return out
}

// TestLDAPRequestEndToEnd: a signed request for users of an org whose
// directory is a real slapd is decided, the failed-login lock lifted after
// the commit (a fresh search and a bind say so), the admin lock queued
// with its admins told, and the request answered once, saying "unlocked"
// only for what the directory lifted.
func TestLDAPRequestEndToEnd(t *testing.T) {
	slapd := ldaptest.Start(t)
	orgDN := slapd.AddOrg(t, "acme")
	jsmith := lockedByBinds(t, slapd, orgDN, "jsmith")
	boss := slapd.AddUser(t, orgDN, ldaptest.User{Username: "boss", Password: "pw-boss",
		Attrs: map[string][]string{"pwdAccountLockedTime": {"000001010000Z"}}})
	other := slapd.AddOrg(t, "initech")
	outsider := lockedByBinds(t, slapd, other, "outsider")
	e := storetest.Engines()[0]
	r := startLDAPApp(t, e, slapd, app.Options{}, 0)
	if _, err := r.App.Store.AddOperator(r.Ctx, store.Operator{Email: "admin@acme.example", Role: domain.RoleAdmin, OrgSlug: "acme"},
		"unused-hash", "test", "cli"); err != nil {
		t.Fatal(err)
	}

	r.IMAP.Append(t, "INBOX", r.signedRequest("ldap-1@acme.example", "jsmith", "boss", "outsider", "*)(uid=*"))
	got := waitReply(t, r.SMTP, "ldap-1@acme.example", 1)
	for _, want := range []string{"jsmith: unlocked", "boss: queued for review: locked deliberately", "outsider: unknown user"} {
		if !strings.Contains(got.text, want) {
			t.Errorf("the reply does not say %q:\n%s", want, got.text)
		}
	}
	if strings.Contains(got.text, "boss: unlocked") || strings.Contains(got.text, "outsider: unlocked") {
		t.Errorf("the reply says unlocked for a user that is not:\n%s", got.text)
	}
	wantUnlockedInLDAP(t, slapd, jsmith, "jsmith")
	if v := slapd.Attr(t, boss, "pwdAccountLockedTime"); len(v) != 1 || v[0] != "000001010000Z" {
		t.Errorf("the admin lock of boss = %v", v)
	}
	if len(slapd.Attr(t, outsider, "pwdAccountLockedTime")) != 1 {
		t.Error("another org's user was unlocked")
	}
	time.Sleep(500 * time.Millisecond)
	if n := repliesTo(t, r.SMTP)["ldap-1@acme.example"]; n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
	told := false
	for _, m := range r.SMTP.Messages() {
		told = told || (len(m.To) == 1 && m.To[0] == "admin@acme.example" && strings.Contains(string(m.Data), "boss"))
	}
	if !told {
		t.Error("the org's admins were not told of the admin lock")
	}
	reqs, err := r.App.Store.ListRequests(r.Ctx, store.RequestFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]domain.ItemState{}
	for _, q := range reqs {
		states[q.Username] = q.State
	}
	if states["jsmith"] != domain.ItemApplied || states["boss"] != domain.ItemPending {
		t.Errorf("items = %+v", reqs)
	}
	entries, err := r.App.Store.ListAudit(r.Ctx, store.AuditFilter{Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	audited := false
	for _, e := range entries {
		audited = audited || (e.Action == domain.ActionUnlock && e.Target == "jsmith" && strings.Contains(e.Note, "directory corp"))
	}
	if !audited {
		t.Errorf("no unlock audit entry naming the directory: %+v", entries)
	}

	// Staff approve the admin lock's request: the worker lifts it, then
	// the "approved" answer goes out, once.
	token, hash := password.NewToken()
	if _, err := r.App.Store.CreateToken(r.Ctx, store.Token{Name: "staff", Role: domain.RoleStaff}, hash, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	var bossID int64
	for _, q := range reqs {
		if q.Username == "boss" {
			bossID = q.ID
		}
	}
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://%s/api/v1/requests/%d/approve", r.App.Addr(), bossID),
		strings.NewReader(`{"note":"confirmed by phone"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("approve = %d", resp.StatusCode)
	}
	approved := waitReply(t, r.SMTP, "ldap-1@acme.example", 2)
	if !strings.Contains(approved.text, "was approved") || !strings.Contains(approved.text, "boss") {
		t.Errorf("the approval's answer:\n%s", approved.text)
	}
	if v := slapd.Attr(t, boss, "pwdAccountLockedTime"); len(v) != 0 {
		t.Errorf("the approved admin lock is still there: %v", v)
	}

	code, body := get(t, r.App, "/readyz")
	if code != http.StatusOK || !strings.Contains(body, `"directories":{"corp":{"state":"ok"`) {
		t.Errorf("/readyz = %d %s", code, body)
	}
	if _, body := get(t, r.App, "/metrics"); !strings.Contains(body, `unlockd_directory_up{directory="corp"} 1`) ||
		!strings.Contains(body, `unlockd_unlocks_total{channel="email"} 1`) {
		t.Error("/metrics does not show the directory up, or the unlock")
	}
	r.stop(t)
}

// TestLDAPDirectoryDownMidBacklog: slapd stops for 60 s while a backlog is
// being decided and applied; every request is decided once, applied once
// the directory is back, and answered once; /readyz shows the outage.
func TestLDAPDirectoryDownMidBacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("a 60 s outage")
	}
	slapd := ldaptest.Start(t)
	orgDN := slapd.AddOrg(t, "acme")
	const n = 24
	dns := make([]string, n)
	for i := range n {
		dns[i] = lockedByBinds(t, slapd, orgDN, fmt.Sprintf("user%02d", i))
	}
	e := storetest.Engines()[0]
	r := startLDAPApp(t, e, slapd, app.Options{
		Intake: func(c *intake.Config) { c.BatchSize = 4; c.DeferBackoff = time.Second },
		Apply: func(c *apply.Config) {
			c.MinBackoff, c.MaxBackoff, c.BatchSize = 200*time.Millisecond, 2*time.Second, 3
		},
	}, 0)
	if _, err := r.App.Store.ChangeOrg(r.Ctx, "acme", func(o *domain.Org) error { o.Policy.MaxRequestsPerHour = 0; return nil }, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		r.IMAP.Append(t, "INBOX", r.signedRequest(fmt.Sprintf("backlog-%02d@acme.example", i), fmt.Sprintf("user%02d", i)))
	}
	waitReply(t, r.SMTP, "backlog-00@acme.example", 1)
	slapd.Stop(t)
	down := time.Now()
	deadline := down.Add(20 * time.Second)
	for {
		code, body := get(t, r.App, "/readyz")
		if strings.Contains(body, `"corp":{"state":"retrying"`) {
			if code != http.StatusOK {
				t.Errorf("/readyz = %d while only the directory is down", code)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz does not show the directory down: %s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Until(down.Add(60 * time.Second)))
	answeredWhileDown := len(repliesTo(t, r.SMTP))
	slapd.Start(t)
	for i := range n {
		waitReplyWithin(t, r.SMTP, fmt.Sprintf("backlog-%02d@acme.example", i), 1, 3*time.Minute)
	}
	time.Sleep(time.Second)
	replies := repliesTo(t, r.SMTP)
	for i := range n {
		id := fmt.Sprintf("backlog-%02d@acme.example", i)
		if replies[id] != 1 {
			t.Errorf("%s: %d replies, want 1", id, replies[id])
		}
		wantUnlockedInLDAP(t, slapd, dns[i], fmt.Sprintf("user%02d", i))
	}
	if count, err := r.App.Store.CountDecisions(r.Ctx, "support"); err != nil || count != n {
		t.Errorf("%d decisions, %v; want %d", count, err, n)
	}
	reqs, err := r.App.Store.ListRequests(r.Ctx, store.RequestFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range reqs {
		if q.State != domain.ItemApplied {
			t.Errorf("%s: %s (%s %s)", q.Username, q.State, q.Reason, q.Note)
		}
	}
	t.Logf("%d of %d requests answered before the outage ended; all %d after", answeredWhileDown, n, n)
	r.stop(t)
}

// waitReplyWithin is waitReply with its own timeout.
func waitReplyWithin(t *testing.T, s *mailtest.SMTPServer, messageID string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if repliesTo(t, s)[messageID] >= n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no reply to %s within %v", messageID, timeout)
}

// TestOrgWithUnknownDirectoryStopsTheStart: an org naming a directory the
// configuration lacks is a configuration error naming the org and the key.
func TestOrgWithUnknownDirectoryStopsTheStart(t *testing.T) {
	e := storetest.Engines()[0]
	cfg := config.Default()
	cfg.Database = config.Database{Driver: e.Name, DSN: storetest.DSN(t, e)}
	cfg.HTTP.Listen = "127.0.0.1:0"
	ctx := context.Background()
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: domain.DefaultPolicy(), Directory: "corp"}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	_, err = app.New(ctx, cfg, slog.New(slog.DiscardHandler), app.Options{})
	if err == nil || !strings.Contains(err.Error(), `org "acme": directory "corp" is not configured (directories[].name)`) {
		t.Fatalf("New = %v, want the unknown directory named", err)
	}
}

// TestLDAPDirectoryDownAtLookupDefersThenQueues: a directory that cannot
// answer the lookup sets the message aside like a temporary DNS failure;
// on its last try it is decided, its items queued for staff with the
// reason, and the contact told so, once.
func TestLDAPDirectoryDownAtLookupDefersThenQueues(t *testing.T) {
	slapd := ldaptest.Start(t)
	orgDN := slapd.AddOrg(t, "acme")
	dn := lockedByBinds(t, slapd, orgDN, "jsmith")
	slapd.Stop(t)
	e := storetest.Engines()[0]
	r := startLDAPApp(t, e, slapd, app.Options{Intake: func(c *intake.Config) { c.DeferBackoff = 300 * time.Millisecond }}, 3)
	r.IMAP.Append(t, "INBOX", r.signedRequest("down-1@acme.example", "jsmith"))
	got := waitReply(t, r.SMTP, "down-1@acme.example", 1)
	if !strings.Contains(got.text, "jsmith: queued for review: your organisation's user directory could not be asked") {
		t.Errorf("the reply does not say why:\n%s", got.text)
	}
	reqs, err := r.App.Store.ListRequests(r.Ctx, store.RequestFilter{Limit: 10})
	if err != nil || len(reqs) != 1 || reqs[0].State != domain.ItemPending || reqs[0].Reason != domain.QueueDirectoryError ||
		!strings.Contains(reqs[0].Note, "could not answer") {
		t.Fatalf("requests = %+v, %v", reqs, err)
	}
	if n, err := r.App.Store.CountDecisions(r.Ctx, "support"); err != nil || n != 1 {
		t.Errorf("%d decisions, %v", n, err)
	}
	time.Sleep(500 * time.Millisecond)
	if n := repliesTo(t, r.SMTP)["down-1@acme.example"]; n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
	slapd.Start(t)
	if len(slapd.Attr(t, dn, "pwdAccountLockedTime")) != 1 {
		t.Error("the lock was lifted without an answer from the directory")
	}
	r.stop(t)
}
