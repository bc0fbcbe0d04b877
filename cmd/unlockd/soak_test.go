package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/senderauth/senderauthtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

var (
	soakFor   = flag.Duration("soak", 0, "run TestSoak for this long, e.g. 10m (0: TestSoak is skipped)")
	soakStore = flag.String("soak.store", store.SQLite, "the store TestSoak uses: sqlite, or postgres (with "+storetest.EnvPostgres+")")
)

// soakUsers is how many locked users the soak seeds; every request unlocks
// a fresh one, so it bounds the requests a soak may send.
const soakUsers = 40000

// A soakKind is what a request the soak sends is, and so what must become
// of it.
type soakKind int

const (
	genuine    soakKind = iota // signed by the contact: unlocked and answered
	screenshot                 // the same with a 6 MiB attachment
	oversized                  // a 12 MiB one, over max_message_bytes: decided, never unlocked
	forged                     // the contact's From without a signature: decided, never unlocked
)

// soakRequest is one request the soak delivered.
type soakRequest struct {
	kind soakKind
	user string
}

// soak is the state of one TestSoak run: the real peers, the running serve
// and what has been sent and done to them.
type soak struct {
	t      *testing.T
	bin    string
	cfg    string
	dv     *mailtest.Dovecot
	smtp   *mailtest.SMTPServer
	dns    *mailtest.DNSServer
	link   *mailtest.Proxy // between serve and Dovecot
	signer *senderauthtest.Signer

	mu         sync.Mutex
	serve      *serveProcess
	peak       int64                  // the largest VmHWM of any serve
	sent       map[string]soakRequest // by Message-ID, without brackets
	delivered  int                    // messages delivered, redeliveries included
	chaos      map[string]int         // what was done, how often
	nextUser   int
	redelivers [][]byte
}

// TestSoak runs the daemon for -soak against real peers (Dovecot, an SMTP
// sink, a DNS server, the chosen store) while it sends a stream of
// requests, some with large attachments, some forged, some redelivered, and
// keeps breaking things: serve killed with SIGKILL or stopped with SIGTERM
// and started again, Dovecot restarted, the IMAP link cut or stalled
// mid-FETCH, the SMTP sink down, slow or failing, DNS silent. At the end,
// with the peers healthy again, every request must have been decided once,
// every genuine one unlocked and answered with exactly one reply (a resend
// of the mail in flight at a kill is the same reply again), nothing left
// claimed, deferred or dead, and no serve's peak RSS over 150 MB.
//
//	go test ./cmd/unlockd -run TestSoak -soak=10m -timeout 0 -v
func TestSoak(t *testing.T) {
	if *soakFor <= 0 {
		t.Skip("a soak runs when asked: go test ./cmd/unlockd -run TestSoak -soak=10m -timeout 0")
	}
	var engine storetest.Engine
	for _, e := range storetest.Engines() {
		if e.Name == *soakStore {
			engine = e
		}
	}
	if engine.Name == "" {
		t.Fatalf("-soak.store=%s is not available (PostgreSQL needs %s)", *soakStore, storetest.EnvPostgres)
	}
	dv, err := mailtest.StartDovecot()
	if err != nil {
		t.Fatal(err) // asked for by name: a missing Dovecot is a failure
	}
	t.Cleanup(func() { dv.Close() })
	dsn := storetest.DSN(t, engine)
	st := seedUsers(t, engine.Name, dsn, soakUsers)
	s := &soak{t: t, bin: unlockdBinary(t), dv: dv, smtp: mailtest.StartSMTP(t), link: mailtest.StartProxy(t, dv.Addr),
		signer: senderauthtest.NewSigner(t, "acme.example"), sent: map[string]soakRequest{}, chaos: map[string]int{}}
	s.dns = mailtest.StartDNS(t, map[string]string{s.signer.RecordName(): s.signer.Record()})
	s.cfg = writeFile(t, t.TempDir(), "unlockd.yaml", fmt.Sprintf(`database: {driver: %s, dsn: %q}
mailboxes:
  - name: support
    imap: {address: %q, tls: none, username: %q, password: %q, processed_folder: Processed, rejected_folder: Rejected, timeout: 5s}
smtp: {address: %q, tls: none, from: support@unlockd.example, timeout: 5s}
sender_auth: {mode: dkim, dns_resolver: %q, dns_timeout: 1s}
http: {listen: %q}
`, engine.Name, dsn, s.link.Addr, dv.User, dv.Password, s.smtp.Addr, s.dns.Addr, freeAddr(t)))

	began := time.Now()
	s.start()
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.sample(ctx) })
	wg.Go(func() { s.send(ctx) })
	for time.Since(began) < *soakFor && !t.Failed() {
		s.disturb()
	}
	stop()
	wg.Wait()
	settled := time.Now()
	s.drain(st, dsn, engine.Name)
	s.mu.Lock()
	s.record()
	s.mu.Unlock()
	t.Logf("soak of %v on %s: %d requests in %d deliveries; drained %v after the last; serve's peak RSS (VmHWM, any instance) %d MB",
		soakDuration(began, settled), engine.Name, len(s.sent), s.delivered, time.Since(settled).Round(time.Second), s.peak>>20)
	t.Logf("done to it: %v", s.chaos)
	s.check(st, dsn, engine.Name)
}

func soakDuration(from, to time.Time) time.Duration { return to.Sub(from).Round(time.Second) }

// start runs a new serve.
func (s *soak) start() {
	p := startServe(s.t, s.bin, s.cfg)
	s.mu.Lock()
	s.serve = p
	s.mu.Unlock()
}

// record folds the running serve's VmHWM into the peak; s.mu is held.
func (s *soak) record() {
	if s.serve == nil {
		return
	}
	if n, err := readHWM(s.serve.cmd.Process.Pid); err == nil && n > s.peak {
		s.peak = n
	}
}

// sample records the peak RSS every 100 ms, so that a killed serve's counts.
func (s *soak) sample(ctx context.Context) {
	for ctx.Err() == nil {
		s.mu.Lock()
		s.record()
		s.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
}

// send delivers requests to Dovecot, about five a second with bursts,
// until ctx ends.
func (s *soak) send(ctx context.Context) {
	for ctx.Err() == nil {
		n := rand.IntN(2)
		if rand.IntN(100) == 0 {
			n = 50 // a burst: a contact pasting a list, a backlog released
		}
		for range n {
			if err := s.dv.Deliver(s.request()); err != nil {
				s.t.Errorf("deliver: %v", err)
				return
			}
		}
		time.Sleep(time.Duration(rand.IntN(200)) * time.Millisecond)
	}
}

// request makes the next request, or picks an earlier one to deliver
// again, and notes what must become of it.
func (s *soak) request() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delivered++
	if len(s.redelivers) > 0 && rand.IntN(100) == 0 {
		return s.redelivers[rand.IntN(len(s.redelivers))]
	}
	if s.nextUser >= soakUsers {
		s.t.Errorf("the soak ran out of its %d seeded users", soakUsers)
	}
	r := soakRequest{user: fmt.Sprintf("user%d", s.nextUser)}
	id := fmt.Sprintf("soak-%d@acme.example", s.nextUser)
	s.nextUser++
	var raw []byte
	switch p := rand.IntN(100); {
	case p < 4:
		r.kind, raw = screenshot, screenshotRequest(s.signer, id, r.user, 6<<20)
	case p < 5:
		r.kind, raw = oversized, screenshotRequest(s.signer, id, r.user, 12<<20)
	case p < 10:
		r.kind, raw = forged, soakMail(id, r.user)
	default:
		r.kind, raw = genuine, s.signer.Sign(soakMail(id, r.user))
		if len(s.redelivers) < 100 {
			s.redelivers = append(s.redelivers, raw)
		}
	}
	s.sent[id] = r
	return raw
}

func soakMail(id, user string) []byte {
	return fmt.Appendf(nil, "From: it@acme.example\r\nTo: support@unlockd.example\r\nSubject: Unlock: %s\r\n"+
		"Message-ID: <%s>\r\nDate: %s\r\n\r\nPlease unlock %s.\r\n", user, id, time.Now().Format(time.RFC1123Z), user)
}

// disturb waits a few seconds and then does one thing to the daemon or a
// peer, undoing it before it returns.
func (s *soak) disturb() {
	time.Sleep(time.Duration(3000+rand.IntN(12000)) * time.Millisecond)
	pause := func(min, max int) { time.Sleep(time.Duration(min+rand.IntN(max-min)) * time.Millisecond) }
	var what string
	switch rand.IntN(9) {
	case 0:
		what = "serve killed (SIGKILL)"
		s.mu.Lock()
		s.record()
		p := s.serve
		s.serve = nil
		s.mu.Unlock()
		p.kill(s.t)
		pause(0, 2000)
		s.start()
	case 1:
		what = "serve stopped (SIGTERM)"
		s.mu.Lock()
		s.record()
		p := s.serve
		s.serve = nil
		s.mu.Unlock()
		p.stop(s.t)
		s.start()
	case 2:
		what = "Dovecot restarted"
		if err := s.dv.Restart(); err != nil {
			s.t.Fatal(err)
		}
	case 3:
		what = "IMAP link cut mid-FETCH"
		s.link.CutNext(1 + rand.IntN(20))
	case 4:
		what = "IMAP link stalled mid-FETCH"
		s.link.StallNext(1 + rand.IntN(20))
	case 5:
		what = "SMTP down"
		s.smtp.Down()
		pause(1000, 8000)
		s.smtp.Up(s.t)
	case 6:
		what = "SMTP slow"
		delay := time.Duration(200+rand.IntN(1800)) * time.Millisecond
		s.smtp.OnMessage(func(mailtest.SMTPMessage) { time.Sleep(delay) })
		pause(5000, 15000)
		s.smtp.OnMessage(nil)
	case 7:
		what = "SMTP failing"
		faults := []mailtest.SMTPFault{mailtest.SMTP421Connect, mailtest.SMTP451Mail, mailtest.SMTP451Rcpt,
			mailtest.SMTP451Data, mailtest.SMTPDropData, mailtest.SMTPHangData}
		s.smtp.FailNext(1+rand.IntN(3), faults[rand.IntN(len(faults))])
	case 8:
		what = "DNS silent"
		s.dns.Silence(true)
		pause(2000, 6000)
		s.dns.Silence(false)
	}
	s.mu.Lock()
	s.chaos[what]++
	s.mu.Unlock()
}

// drain waits, with every peer healthy, until the mailbox is empty and
// every decision is made and its mail sent.
func (s *soak) drain(st *store.Store, dsn, driver string) {
	s.t.Helper()
	db := openDB(s.t, driver, dsn)
	deadline := time.Now().Add(20 * time.Minute) // room for a deferral's backoff and the SMTP retries'
	for {
		left := map[string]int{
			"in INBOX":     s.dv.Count("INBOX"),
			"not filed":    s.delivered - s.dv.Count("Processed") - s.dv.Count("Rejected"),
			"undecided":    len(s.sent) - decisions(s.t, st),
			"mail pending": count(s.t, db, `SELECT count(*) FROM outbox WHERE status = 'pending'`),
			"deferred":     count(s.t, db, `SELECT count(*) FROM deferrals`),
		}
		busy := false
		for _, n := range left {
			busy = busy || n != 0
		}
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("not drained 20 minutes after the soak: %v\n%s", left, tail(s.serve.stderr.String(), 4000))
		}
		time.Sleep(time.Second)
	}
}

// check verifies what became of every request.
func (s *soak) check(st *store.Store, dsn, driver string) {
	t := s.t
	t.Helper()
	db := openDB(t, driver, dsn)
	perID := map[string]int{}
	rows, err := db.Query(`SELECT message_id, count(*) FROM decisions WHERE mailbox = 'support' GROUP BY message_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		perID[strings.Trim(id, "<>")] = n
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	active := map[string]bool{}
	rows, err = db.Query(`SELECT username FROM users WHERE lock_reason IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			t.Fatal(err)
		}
		active[u] = true
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	replies := map[string]map[string]int{} // request → reply Message-ID → copies
	for _, m := range s.smtp.Messages() {
		to := strings.Trim(header(m.Data, "In-Reply-To"), "<>")
		if to == "" {
			continue // a notification to staff
		}
		if replies[to] == nil {
			replies[to] = map[string]int{}
		}
		replies[to][header(m.Data, "Message-ID")]++
	}
	resent, bad := 0, 0
	for id, r := range s.sent {
		distinct := len(replies[id])
		for _, copies := range replies[id] {
			resent += copies - 1
		}
		var problem string
		switch {
		case perID[id] != 1:
			problem = fmt.Sprintf("decided %d times", perID[id])
		case (r.kind == genuine || r.kind == screenshot) && !active[r.user]:
			problem = "not unlocked"
		case (r.kind == oversized || r.kind == forged) && active[r.user]:
			problem = "unlocked without proof"
		case (r.kind == genuine || r.kind == screenshot) && distinct != 1:
			problem = fmt.Sprintf("%d distinct replies", distinct)
		case distinct > 1:
			problem = fmt.Sprintf("%d distinct replies", distinct)
		}
		if problem != "" {
			if bad++; bad <= 20 {
				t.Errorf("request %s (kind %d, %s): %s", id, r.kind, r.user, problem)
			}
		}
	}
	for id := range replies {
		if _, ok := s.sent[id]; !ok {
			t.Errorf("a reply to %s, which the soak never sent", id)
		}
	}
	kills := s.chaos["serve killed (SIGKILL)"] + s.chaos["serve stopped (SIGTERM)"]
	t.Logf("%d requests with %d problems; %d replies sent again (the mail in flight at a stop, same Message-ID)", len(s.sent), bad, resent)
	if resent > kills {
		t.Errorf("%d replies sent again after %d stops; at most the one in flight at each may be", resent, kills)
	}
	for what, q := range map[string]string{
		"claimed": `SELECT count(*) FROM outbox WHERE claimed_by IS NOT NULL`,
		"dead":    `SELECT count(*) FROM outbox WHERE status = 'dead'`,
	} {
		if n := count(t, db, q); n != 0 {
			t.Errorf("%d mails %s at the end", n, what)
		}
	}
	if s.peak > 150<<20 {
		t.Errorf("serve's peak RSS %d MB, want at most 150 MB", s.peak>>20)
	}
}

func openDB(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
