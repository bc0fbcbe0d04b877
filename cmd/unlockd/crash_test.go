package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// crashBacklog is how many requests wait when a crash test starts.
const crashBacklog = 30

// crashRig is a mailbox holding a backlog of verified requests, an SMTP
// sink that answers slowly until told otherwise (so that a serve killed
// mid-backlog holds claimed mail), and the store they are decided into.
type crashRig struct {
	imap  *mailtest.IMAPServer
	smtp  *mailtest.SMTPServer
	store *store.Store
	dsn   string
	slow  chan struct{} // closed: the sink answers at once
}

func newCrashRig(t *testing.T, e storetest.Engine) *crashRig {
	r := &crashRig{imap: mailtest.StartIMAP(t, mailtest.IMAPOptions{}), smtp: mailtest.StartSMTP(t),
		dsn: storetest.DSN(t, e), slow: make(chan struct{})}
	r.store = seedUsers(t, e.Name, r.dsn, crashBacklog)
	r.smtp.OnMessage(func(mailtest.SMTPMessage) {
		select {
		case <-r.slow:
		case <-time.After(150 * time.Millisecond): // recorded, not yet answered
		}
	})
	for i := range crashBacklog {
		r.imap.Append(t, "INBOX", fmt.Appendf(nil, "From: it@acme.example\r\n"+
			"Authentication-Results: mx.unlockd.test; dmarc=pass header.from=acme.example\r\n"+
			"Subject: Unlock: user%d\r\nMessage-ID: <crash-%d@acme.example>\r\n\r\nPlease.\r\n", i, i))
	}
	return r
}

// config writes a serve configuration on driver with dsn, listening on a
// free port it returns.
func (r *crashRig) config(t *testing.T, driver, dsn string) (file, httpAddr string) {
	t.Helper()
	httpAddr = freeAddr(t)
	file = writeFile(t, t.TempDir(), "unlockd.yaml", fmt.Sprintf(`database: {driver: %s, dsn: %q}
mailboxes:
  - name: support
    imap: {address: %q, tls: none, username: %q, password: %q, processed_folder: Processed, rejected_folder: Rejected}
smtp: {address: %q, tls: none, from: support@unlockd.example}
sender_auth: {mode: authentication-results, authserv_id: mx.unlockd.test}
http: {listen: %q}
`, driver, dsn, r.imap.Addr, mailtest.IMAPUser, mailtest.IMAPPassword, r.smtp.Addr, httpAddr))
	return file, httpAddr
}

// replies counts the replies to each request.
func (r *crashRig) replies() map[string]int {
	got := map[string]int{}
	for _, m := range r.smtp.Messages() {
		got[header(m.Data, "In-Reply-To")]++
	}
	return got
}

// waitAllAnswered waits until every request has its reply and returns how
// long that took from since.
func (r *crashRig) waitAllAnswered(t *testing.T, since time.Time, within time.Duration) time.Duration {
	t.Helper()
	deadline := since.Add(within)
	for len(r.replies()) < crashBacklog {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests answered %v after the crash", len(r.replies()), crashBacklog, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(since)
}

// check: one decision per request, one reply each except at most one (the
// mail in flight when the process died, sent again).
func (r *crashRig) check(t *testing.T) {
	t.Helper()
	time.Sleep(300 * time.Millisecond) // room for wrong extra replies
	twice := 0
	for i := range crashBacklog {
		switch n := r.replies()[fmt.Sprintf("<crash-%d@acme.example>", i)]; {
		case n == 2:
			twice++
		case n != 1:
			t.Errorf("request %d got %d replies", i, n)
		}
	}
	if twice > 1 {
		t.Errorf("%d requests answered twice; only the one in flight may be", twice)
	}
	t.Logf("%d replies for %d requests (%d sent twice)", len(r.smtp.Messages()), crashBacklog, twice)
	if n := decisions(t, r.store); n != crashBacklog {
		t.Errorf("%d decisions for %d requests", n, crashBacklog)
	}
}

// claimedAtCrash waits until the sink holds some replies, the mail of the
// rest still claimed, and returns how many were sent.
func (r *crashRig) claimedAtCrash(t *testing.T) int {
	t.Helper()
	waitFor(t, "the first replies", func() bool { return len(r.smtp.Messages()) >= 5 })
	return len(r.smtp.Messages())
}

// wantClaimed checks that the dead process left pending mail claimed,
// which only its claims running out (or, on SQLite, the next holder of the
// file lock) can free.
func (r *crashRig) wantClaimed(t *testing.T, driver string) {
	t.Helper()
	db, err := sql.Open(driver, r.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM outbox WHERE status = 'pending' AND claimed_by IS NOT NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no mail was claimed when the process died")
	}
	t.Logf("%d mails claimed by the dead process", n)
}

// kill ends p at once, as kill -9 does.
func (p *serveProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// TestKillWithMailClaimed kills serve uncleanly while it holds claimed
// replies; the next instance sends them within 10 s, on both engines, and
// none twice apart from the one in flight.
func TestKillWithMailClaimed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildUnlockd(t)
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			r := newCrashRig(t, e)
			cfg, _ := r.config(t, e.Name, r.dsn)
			first := startServe(t, bin, cfg)
			sent := r.claimedAtCrash(t)
			first.kill(t)
			killed := time.Now()
			close(r.slow)
			r.wantClaimed(t, e.Name)
			startServe(t, bin, cfg)
			took := r.waitAllAnswered(t, killed, 10*time.Second)
			t.Logf("killed after %d replies; the next instance answered the rest %v after the kill", sent, took.Round(time.Millisecond))
			r.check(t)
		})
	}
}

// TestFailoverWhenHolderDies runs two instances on one PostgreSQL
// database, kills the one holding the mailbox while it holds claimed
// replies, and checks that the standby takes the mailbox and sends them
// within 10 s; then the same with the holder's database link stalled
// without FIN (its machine vanished), within 30 s.
func TestFailoverWhenHolderDies(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	var pg storetest.Engine
	for _, e := range storetest.Engines() {
		if e.Name == store.Postgres {
			pg = e
		}
	}
	if pg.Name == "" {
		t.Skip("PostgreSQL tests skipped: set " + storetest.EnvPostgres)
	}
	bin := buildUnlockd(t)
	for _, tc := range []struct {
		name   string
		within time.Duration
		stall  bool
	}{{"killed", 10 * time.Second, false}, {"link stalled", 30 * time.Second, true}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newCrashRig(t, pg)
			holderDSN := r.dsn
			var proxy *mailtest.Proxy
			if tc.stall {
				u, err := url.Parse(r.dsn)
				if err != nil {
					t.Fatal(err)
				}
				proxy = mailtest.StartProxy(t, u.Host)
				u.Host = proxy.Addr
				holderDSN = u.String()
			}
			holderCfg, holderHTTP := r.config(t, store.Postgres, holderDSN)
			standbyCfg, standbyHTTP := r.config(t, store.Postgres, r.dsn)
			holder := startServe(t, bin, holderCfg)
			waitMailbox(t, holderHTTP, "connected")
			startServe(t, bin, standbyCfg)
			waitMailbox(t, standbyHTTP, "standby")
			sent := r.claimedAtCrash(t)
			if tc.stall {
				proxy.Stall()
			} else {
				holder.kill(t)
			}
			crashed := time.Now()
			close(r.slow)
			r.wantClaimed(t, store.Postgres)
			waitMailbox(t, standbyHTTP, "connected")
			tookOver := time.Since(crashed)
			took := r.waitAllAnswered(t, crashed, tc.within)
			t.Logf("holder %s after %d replies; standby connected after %v, all answered after %v",
				tc.name, sent, tookOver.Round(time.Millisecond), took.Round(time.Millisecond))
			if tc.stall {
				holder.kill(t)
			}
			r.check(t)
		})
	}
}

// freeAddr returns a loopback address with a port free at the moment.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitMailbox waits until the instance at addr reports mailbox support in
// state.
func waitMailbox(t *testing.T, addr, state string) {
	t.Helper()
	var last string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			var r struct {
				Mailboxes map[string]struct{ State string } `json:"mailboxes"`
			}
			json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if last = r.Mailboxes["support"].State; last == state {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the instance at %s never reported the mailbox %s (last %q)", addr, state, last)
}
