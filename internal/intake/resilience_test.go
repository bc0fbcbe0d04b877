package intake_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/senderauth"
	"github.com/unlockd/unlockd/internal/senderauth/senderauthtest"
	"github.com/unlockd/unlockd/internal/store"
)

// fixture is a store with org acme, contact it@acme.example and n users
// user0..user(n-1) locked for failed logins, plus a signer for acme mail.
type fixture struct {
	st     *store.Store
	signer *senderauthtest.Signer
	pipe   *intake.Pipeline
}

func newFixture(t *testing.T, st *store.Store, users int) *fixture { return newFixtureTB(t, st, users) }

func newFixtureTB(t testing.TB, st *store.Store, users int) *fixture {
	t.Helper()
	ctx := context.Background()
	if _, err := st.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: domain.Policy{AutoUnlock: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddContact(ctx, "acme", domain.Contact{Email: "it@acme.example"}, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	us := make([]domain.User, users)
	for i := range us {
		us[i] = domain.User{Username: fmt.Sprintf("user%d", i), Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: time.Now()}}
	}
	if _, err := st.Import(ctx, "acme", nil, us, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	signer := senderauthtest.NewSigner(t, "acme.example")
	return &fixture{st: st, signer: signer, pipe: &intake.Pipeline{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Verifier: &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: signer.LookupTXT}}}
}

// signed returns a DKIM-signed request for user i.
func (f *fixture) signed(i int) []byte {
	return f.signer.Sign(request("it@acme.example", fmt.Sprintf("req%d@acme.example", i), fmt.Sprintf("Unlock: user%d", i), ""))
}

// unlocked counts users of acme that are no longer locked.
func (f *fixture) unlocked(t *testing.T) int { return f.unlockedTB(t) }

func (f *fixture) unlockedTB(t testing.TB) int {
	t.Helper()
	n, after := 0, ""
	for {
		users, err := f.st.ListUsers(context.Background(), "acme", store.UserFilter{Status: domain.StatusActive,
			AfterUsername: after, Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		n += len(users)
		if len(users) < store.MaxLimit {
			return n
		}
		after = users[len(users)-1].Username
	}
}

func (f *fixture) decisions(t *testing.T) int {
	t.Helper()
	n, err := f.st.CountDecisions(context.Background(), "support")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUIDValidityChangeDecidesNothingTwice: after the mailbox is recreated
// with a new UIDVALIDITY, the rescan meets the same messages again; the
// duplicate rule keeps each to one decision.
func TestUIDValidityChangeDecidesNothingTwice(t *testing.T) {
	f := newFixture(t, sqliteStore(t), 5)
	srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
	if err := srv.User.Create("Support", nil); err != nil {
		t.Fatal(err)
	}
	c := cfg(srv)
	c.Mailbox, c.ProcessedFolder, c.RejectedFolder = "Support", "", "" // decided mail stays in place
	for i := range 3 {
		srv.Append(t, "Support", f.signed(i))
	}
	rec := newRecorder()
	stop := start(t, c, tee{f.pipe, rec}, f.st)
	rec.await(t, 3, 5*time.Second)
	stop()

	if err := srv.User.Delete("Support"); err != nil {
		t.Fatal(err)
	}
	if err := srv.User.Create("Support", nil); err != nil {
		t.Fatal(err)
	}
	for i := range 4 { // the same three, and one new
		srv.Append(t, "Support", f.signed(i))
	}
	start(t, c, tee{f.pipe, rec}, f.st)
	rec.await(t, 4, 5*time.Second)
	if got := f.decisions(t); got != 4 {
		t.Errorf("%d decisions after the UIDVALIDITY change, want 4", got)
	}
	if got := f.unlocked(t); got != 4 {
		t.Errorf("%d users unlocked, want 4", got)
	}
}

// TestDroppedConnectionLosesNothing cuts the link in the middle of the
// first fetch; the watcher reconnects and every message gets exactly one
// decision.
func TestDroppedConnectionLosesNothing(t *testing.T) {
	f := newFixture(t, sqliteStore(t), 40)
	srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
	for i := range 40 {
		srv.Append(t, "INBOX", f.signed(i))
	}
	proxy := mailtest.StartProxy(t, srv.Addr)
	proxy.CutNext(7, 4) // two drops, each in the middle of a batch fetch
	c := cfg(srv)
	c.Address, c.BatchSize = proxy.Addr, 15
	start(t, c, f.pipe, f.st)
	waitFor(t, func() bool { return srv.Count(t, "Processed") == 40 })
	if proxy.Connections() < 3 {
		t.Errorf("%d connections; the cuts did not happen", proxy.Connections())
	}
	if got := f.decisions(t); got != 40 {
		t.Errorf("%d decisions, want 40", got)
	}
	if got := f.unlocked(t); got != 40 {
		t.Errorf("%d users unlocked, want 40", got)
	}
}

// TestCutWhileTheBatchBeforeIsDecided cuts the link in the middle of the
// second batch's fetch, which runs while the first batch is decided: the
// first batch is then decided but cannot be moved. After the reconnect it
// is fetched again, found decided and filed with its verdict; every
// message gets exactly one decision and ends up filed.
func TestCutWhileTheBatchBeforeIsDecided(t *testing.T) {
	const n, batch = 40, 15
	f := newFixture(t, sqliteStore(t), n)
	srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
	for i := range n {
		srv.Append(t, "INBOX", f.signed(i))
	}
	proxy := mailtest.StartProxy(t, srv.Addr)
	proxy.CutNext(batch + 7) // the first batch's bodies, then 7 of the second's
	c := cfg(srv)
	c.Address, c.BatchSize = proxy.Addr, batch
	handed := &handedCount{h: f.pipe}
	start(t, c, handed, f.st)
	waitFor(t, func() bool { return srv.Count(t, "Processed") == n })
	if proxy.Connections() < 2 {
		t.Errorf("%d connections; the cut did not happen", proxy.Connections())
	}
	if got := handed.n.Load(); got != n+batch {
		t.Errorf("%d messages handed over, want %d: the first batch decided before the cut, then again as duplicates", got, n+batch)
	}
	if got := f.decisions(t); got != n {
		t.Errorf("%d decisions, want %d", got, n)
	}
	if got := f.unlocked(t); got != n {
		t.Errorf("%d users unlocked, want %d", got, n)
	}
	if got := srv.Count(t, "INBOX"); got != 0 {
		t.Errorf("%d messages left in INBOX", got)
	}
}

// handedCount counts the messages handed to its handler's Decide.
type handedCount struct {
	h intake.Handler
	n atomic.Int64
}

func (c *handedCount) Prepare(ctx context.Context, batch []intake.Message) intake.Prepared {
	p := c.h.Prepare(ctx, batch)
	return intake.Decided(func(ctx context.Context) []intake.Result {
		c.n.Add(int64(len(batch)))
		return p.Decide(ctx)
	})
}

func TestOAuth2Login(t *testing.T) {
	for _, mech := range []string{"XOAUTH2", "OAUTHBEARER"} {
		t.Run(mech, func(t *testing.T) {
			srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{OAuthToken: "tok-123", OAuthMechanism: mech})
			srv.Append(t, "INBOX", msg(1, "x"))
			c := cfg(srv)
			c.Password, c.OAuth2TokenCommand = "", "printf 'tok-123\\n'"
			rec := newRecorder()
			start(t, c, rec, sqliteStore(t))
			rec.await(t, 1, 5*time.Second)
		})
	}
	t.Run("wrong token", func(t *testing.T) {
		srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{OAuthToken: "tok-123"})
		srv.Append(t, "INBOX", msg(1, "x"))
		c := cfg(srv)
		c.Password, c.OAuth2TokenCommand = "", "echo wrong"
		rec := newRecorder()
		start(t, c, rec, sqliteStore(t))
		time.Sleep(time.Second)
		if rec.count() != 0 {
			t.Error("a wrong token was accepted")
		}
	})
}

// TestDNSFailureLeavesMessageForLater: a temporary DNS failure during
// sender authentication never rejects the message; it is set aside in the
// mailbox and decided once DNS answers again.
func TestDNSFailureLeavesMessageForLater(t *testing.T) {
	f := newFixture(t, sqliteStore(t), 1)
	var dnsDown atomic.Bool
	dnsDown.Store(true)
	f.pipe.Verifier = &senderauth.Verifier{Mode: senderauth.ModeDKIM, DNSTimeout: 100 * time.Millisecond, LookupTXT: func(ctx context.Context, name string) ([]string, error) {
		if dnsDown.Load() {
			return nil, &net.DNSError{Err: "server misbehaving", Name: name, IsTemporary: true}
		}
		return f.signer.LookupTXT(ctx, name)
	}}
	srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
	srv.Append(t, "INBOX", f.signed(0))
	c := cfg(srv)
	c.DeferBackoff = 100 * time.Millisecond
	start(t, c, f.pipe, f.st)
	time.Sleep(700 * time.Millisecond) // several tries with DNS down
	if srv.Count(t, "INBOX") != 1 || f.decisions(t) != 0 {
		t.Fatalf("with DNS down: INBOX %d, decisions %d; want the message left undecided", srv.Count(t, "INBOX"), f.decisions(t))
	}
	dnsDown.Store(false)
	waitFor(t, func() bool { return srv.Count(t, "Processed") == 1 })
	if f.unlocked(t) != 1 {
		t.Error("the request was not applied once DNS answered")
	}
}

// TestTLS connects with implicit TLS and with STARTTLS, verifying the
// server against the configured CA; a server the CA did not sign is
// refused.
func TestTLS(t *testing.T) {
	ca := mailtest.NewTestCA(t)
	for _, mode := range []string{intake.TLSImplicit, intake.TLSStartTLS} {
		t.Run(mode, func(t *testing.T) {
			srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{TLS: ca.Server, ImplicitTLS: mode == intake.TLSImplicit})
			srv.Append(t, "INBOX", msg(1, "x"))
			c := cfg(srv)
			c.TLS, c.CAFile = mode, ca.CAFile
			rec := newRecorder()
			stop := start(t, c, rec, sqliteStore(t))
			rec.await(t, 1, 5*time.Second)
			stop()

			srv.Append(t, "INBOX", msg(2, "x"))
			c.CAFile = mailtest.NewTestCA(t).CAFile
			rec2 := newRecorder()
			start(t, c, rec2, sqliteStore(t))
			time.Sleep(700 * time.Millisecond)
			if rec2.count() != 0 || srv.Count(t, "INBOX") != 1 {
				t.Errorf("with an unknown CA: handled %d, INBOX %d; want the connection refused", rec2.count(), srv.Count(t, "INBOX"))
			}
		})
	}
}
