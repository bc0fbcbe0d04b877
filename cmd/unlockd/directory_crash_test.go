package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/ldaptest"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// ldapFault is a loopback TCP proxy in front of slapd that follows the
// LDAP messages a client sends (BER: SEQUENCE { messageID, protocolOp });
// plain ldap:// only. Armed, it passes the first modify request on to the
// server and then goes down before the answer comes back: the connection
// is cut and every new one refused, so the client cannot know whether its
// modify was applied. Up brings it back.
type ldapFault struct {
	ln     net.Listener
	target string
	armed  atomic.Bool
	down   atomic.Bool
	// modifies counts the modify requests passed on.
	modifies atomic.Int64
	mu       sync.Mutex
	conns    []net.Conn
}

func startLDAPFault(t *testing.T, target string) *ldapFault {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &ldapFault{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); f.cut() })
	go f.serve()
	return f
}

func (f *ldapFault) addr() string { return f.ln.Addr().String() }

// up passes everything again.
func (f *ldapFault) up() { f.armed.Store(false); f.down.Store(false) }

// cut closes every open connection.
func (f *ldapFault) cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
	f.conns = nil
}

func (f *ldapFault) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		if f.down.Load() {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", f.target)
		if err != nil {
			c.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, c, s)
		f.mu.Unlock()
		go f.back(c, s)
		go f.forward(c, s)
	}
}

// back passes the server's answers to the client while the proxy is up.
func (f *ldapFault) back(c, s net.Conn) {
	defer c.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := s.Read(buf)
		if f.down.Load() {
			return // an answer that never arrives
		}
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// forward passes the client's messages to the server one at a time.
func (f *ldapFault) forward(c, s net.Conn) {
	defer s.Close()
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		msg, op, err := readLDAPMessage(r)
		if err != nil || f.down.Load() {
			return
		}
		modify := op == 0x66 // [APPLICATION 6] ModifyRequest
		if modify && f.armed.Load() {
			f.down.Store(true) // before the answer can come back
		}
		if _, err := s.Write(msg); err != nil {
			return
		}
		if modify {
			f.modifies.Add(1)
		}
		if f.down.Load() {
			time.Sleep(200 * time.Millisecond) // the server applies it
			f.cut()
			return
		}
	}
}

// readLDAPMessage reads one BER-encoded LDAPMessage and returns it whole
// with the tag of its protocolOp.
func readLDAPMessage(r *bufio.Reader) (msg []byte, op byte, err error) {
	tag, err := r.ReadByte()
	if err != nil {
		return nil, 0, err
	}
	if tag != 0x30 {
		return nil, 0, fmt.Errorf("not an LDAPMessage: tag %#x", tag)
	}
	head := []byte{tag}
	first, err := r.ReadByte()
	if err != nil {
		return nil, 0, err
	}
	head = append(head, first)
	n := int(first)
	if first&0x80 != 0 {
		n = 0
		for range int(first & 0x7f) {
			b, err := r.ReadByte()
			if err != nil {
				return nil, 0, err
			}
			head = append(head, b)
			n = n<<8 | int(b)
		}
	}
	if n > 1<<20 {
		return nil, 0, fmt.Errorf("LDAPMessage of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, 0, err
	}
	// messageID INTEGER (short form), then the protocolOp's tag.
	if len(body) < 3 || body[0] != 0x02 || int(body[1])+2 >= len(body) {
		return nil, 0, fmt.Errorf("LDAPMessage without a messageID")
	}
	return append(head, body...), body[2+int(body[1])], nil
}

// TestKillWhileDirectoryDown runs the real binary for an org whose users
// live in slapd. The directory goes down right after it received the
// first unlock, before answering: every item stays applying, the first
// one's lock already lifted without unlockd knowing. serve is killed
// (SIGKILL) in that state and started again with the directory up: every
// user is unlocked once (the first one's "not locked" counts as applied,
// since its earlier call lifted the lock), and every request gets one
// reply saying so.
func TestKillWhileDirectoryDown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildUnlockd(t)
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			const n = 8
			slapd := ldaptest.Start(t)
			orgDN := slapd.AddOrg(t, "acme")
			dns := make([]string, n)
			for i := range n {
				name := fmt.Sprintf("user%d", i)
				dns[i] = slapd.AddUser(t, orgDN, ldaptest.User{Username: name, Password: "pw-" + name})
				slapd.FailBinds(t, dns[i], 3)
			}
			fault := startLDAPFault(t, strings.TrimPrefix(slapd.URL(), "ldap://"))
			fault.armed.Store(true)

			imapSrv, smtpSrv := mailtest.StartIMAP(t, mailtest.IMAPOptions{}), mailtest.StartSMTP(t)
			dsn := storetest.DSN(t, e)
			s := seedRemoteOrg(t, e.Name, dsn)
			for i := range n {
				imapSrv.Append(t, "INBOX", fmt.Appendf(nil, "From: it@acme.example\r\n"+
					"Authentication-Results: mx.unlockd.test; dmarc=pass header.from=acme.example\r\n"+
					"Subject: Unlock: user%d\r\nMessage-ID: <dir-crash-%d@acme.example>\r\n\r\nPlease.\r\n", i, i))
			}
			cfg := writeFile(t, t.TempDir(), "unlockd.yaml", fmt.Sprintf(`database: {driver: %s, dsn: %q}
mailboxes:
  - name: support
    imap: {address: %q, tls: none, username: %q, password: %q, processed_folder: Processed, rejected_folder: Rejected}
smtp: {address: %q, tls: none, from: support@unlockd.example}
sender_auth: {mode: authentication-results, authserv_id: mx.unlockd.test}
http: {listen: %q}
directories:
  - name: corp
    kind: ldap
    server: openldap
    url: ldap://%s
    bind_dn: %q
    bind_password: %q
    base_dn: "ou={org},%s"
    user_filter: "(uid={username})"
    timeout: 2s
`, e.Name, dsn, imapSrv.Addr, mailtest.IMAPUser, mailtest.IMAPPassword, smtpSrv.Addr, freeAddr(t),
				fault.addr(), ldaptest.ServiceDN, ldaptest.ServicePassword, ldaptest.Suffix))

			first := startServe(t, bin, cfg)
			waitFor(t, "every request decided and applying, the directory down", func() bool {
				applying, called := applyingItems(t, e.Name, dsn)
				return fault.down.Load() && applying == n && called > 1 && decisions(t, s) == n
			})
			first.kill(t)
			if got := len(smtpSrv.Messages()); got != 0 {
				t.Fatalf("%d replies before any unlock was recorded", got)
			}
			lifted := 0
			for i := range n {
				if len(slapd.Attr(t, dns[i], "pwdAccountLockedTime")) == 0 {
					lifted++
				}
			}
			if lifted != 1 {
				t.Fatalf("%d locks lifted while the directory was going down, want the 1 whose answer was lost", lifted)
			}

			fault.up()
			startServe(t, bin, cfg)
			waitFor(t, "a reply to every request", func() bool { return len(smtpSrv.Messages()) >= n })
			time.Sleep(500 * time.Millisecond) // room for a wrong second reply
			replies := map[string]int{}
			for _, m := range smtpSrv.Messages() {
				replies[header(m.Data, "In-Reply-To")]++
				if !strings.Contains(string(m.Data), ": unlocked") {
					t.Errorf("a reply does not say unlocked:\n%s", m.Data)
				}
			}
			for i := range n {
				if got := replies[fmt.Sprintf("<dir-crash-%d@acme.example>", i)]; got != 1 {
					t.Errorf("request %d: %d replies, want 1", i, got)
				}
				if v := slapd.Attr(t, dns[i], "pwdAccountLockedTime"); len(v) != 0 {
					t.Errorf("user%d still locked: %v", i, v)
				}
			}
			if got := unlocks(t, s); got != n {
				t.Errorf("%d unlock audit entries, want %d", got, n)
			}
			reqs, err := s.ListRequests(context.Background(), store.RequestFilter{Limit: store.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range reqs {
				if r.State != domain.ItemApplied {
					t.Errorf("%s: %s %s", r.Username, r.State, r.Note)
				}
			}
			t.Logf("%d modify requests reached the directory for %d users", fault.modifies.Load(), n)
		})
	}
}

// seedRemoteOrg creates org acme on directory corp with its contact and no
// hourly limit.
func seedRemoteOrg(t *testing.T, driver, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	p := domain.DefaultPolicy()
	p.MaxRequestsPerHour = 0
	if _, err := s.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: p, Directory: "corp"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddContact(ctx, "acme", domain.Contact{Email: "it@acme.example"}, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	return s
}

// applyingItems counts the items applying and those whose unlock call
// began, read with SQL as an operator would.
func applyingItems(t *testing.T, driver, dsn string) (applying, called int) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT count(*), coalesce(sum(CASE WHEN apply_calls > 0 THEN 1 ELSE 0 END), 0)
		FROM request_items WHERE state = 'applying'`).Scan(&applying, &called); err != nil {
		return 0, 0 // not migrated yet
	}
	return applying, called
}
