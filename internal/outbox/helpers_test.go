package outbox_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/store"
)

var ctx = context.Background()

const (
	fromAddr    = "unlockd@support.example"
	loopID      = "unlockd@support.example"
	contactAddr = "it@acme.example"
	adminAddr   = "admin@acme.example"
	staffAddr   = "staff@support.example"
)

// clock is a settable clock shared by the store and the worker.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a store with two orgs and the people decisions write to:
// acme (contact, admin, users in every state) and globex, whose user
// "shared" must never show through acme's replies.
type fixture struct {
	s     *store.Store
	clock *clock
	r     *outbox.Renderer
	acme  domain.Org
}

func newFixture(t testing.TB, s *store.Store) *fixture {
	t.Helper()
	f := &fixture{s: s, clock: newClock(), r: mustRenderer(t, "")}
	s.Now = f.clock.Now
	now := f.clock.Now()
	var err error
	if f.acme, err = s.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: domain.DefaultPolicy()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateOrg(ctx, domain.Org{Slug: "globex", Name: "Globex", Policy: domain.DefaultPolicy()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddContact(ctx, "acme", domain.Contact{Email: contactAddr, Name: "IT desk"}, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	for _, op := range []store.Operator{{Email: adminAddr, Role: domain.RoleAdmin, OrgSlug: "acme"}, {Email: staffAddr, Role: domain.RoleStaff}} {
		if _, err := s.AddOperator(ctx, op, "not-a-real-hash", "test", "cli"); err != nil {
			t.Fatal(err)
		}
	}
	failed := func(name string) domain.User {
		return domain.User{Username: name, FailedLogins: 5, LastFailedAt: now,
			Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: now, By: domain.ActorSystem, Note: "too many failed logins"}}
	}
	users := []domain.User{
		failed("jsmith"), failed("Jürgen"), failed("bob"), failed("carol"), failed("dave"),
		{Username: "active"},
		{Username: "boss", Lock: &domain.Lock{Reason: domain.LockAdmin, At: now, By: "operator:" + adminAddr, Note: "left the company"}},
	}
	for _, u := range users {
		if _, err := s.CreateUser(ctx, "acme", u, "test", "cli"); err != nil {
			t.Fatalf("CreateUser %s: %v", u.Username, err)
		}
	}
	if _, err := s.CreateUser(ctx, "globex", failed("shared"), "test", "cli"); err != nil {
		t.Fatal(err)
	}
	return f
}

func mustRenderer(t testing.TB, dir string) *outbox.Renderer {
	t.Helper()
	r, err := outbox.NewRenderer(dir, fromAddr, loopID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var msgSeq atomic.Int64

// decide records a request message from sender asking for usernames,
// rendering its mail with the fixture's renderer.
func (f *fixture) decide(t testing.TB, sender string, authenticated bool, subject string, usernames ...string) store.Decided {
	t.Helper()
	n := msgSeq.Add(1)
	id := fmt.Sprintf("req%d@acme.example", n)
	m := store.Message{Mailbox: "support", Key: id, MessageID: id, UIDValidity: 1, UID: uint32(n),
		Subject: subject, References: []string{"root@acme.example"}}
	d, err := f.s.Decide(ctx, m, domain.Facts{Sender: sender,
		Proof: domain.Proof{Passed: authenticated, Covered: domain.InSubject}, Usernames: domain.NamesIn(domain.InSubject, usernames...)}, f.r.Decision)
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	return d
}

// newWorker returns a worker delivering f's outbox to sink on the
// fixture's clock, applying mod to its configuration.
func (f *fixture) newWorker(t testing.TB, sink *mailtest.SMTPServer, mod func(*outbox.Config)) *outbox.Worker {
	t.Helper()
	return f.worker(t, f.s, sink, func(c *outbox.Config) {
		c.PollInterval, c.Now = 10*time.Millisecond, f.clock.Now
		c.MinBackoff, c.MaxBackoff = 0, 0 // the defaults
		if mod != nil {
			mod(c)
		}
	})
}

// drain runs passes of w, advancing the clock past any backoff between
// them, until nothing is pending or passes run out.
func (f *fixture) drain(t testing.TB, w *outbox.Worker, passes int) {
	t.Helper()
	for range passes {
		if _, err := w.DeliverOnce(ctx); err != nil {
			t.Fatal(err)
		}
		pending, err := f.s.Outbox(ctx, store.MailPending)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) == 0 {
			return
		}
		f.clock.Advance(2 * time.Hour)
	}
}

// parsed is a delivered message read back with go-message.
type parsed struct {
	header mail.Header
	text   string
	html   string
}

func parse(t testing.TB, raw []byte) parsed {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse delivered mail: %v\n%s", err, raw)
	}
	p := parsed{header: mr.Header}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		h, ok := part.Header.(*mail.InlineHeader)
		if !ok {
			continue
		}
		b, err := io.ReadAll(part.Body)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := h.ContentType()
		switch ct {
		case "text/plain":
			p.text = strings.ReplaceAll(string(b), "\r\n", "\n")
		case "text/html":
			p.html = strings.ReplaceAll(string(b), "\r\n", "\n")
		}
	}
	return p
}

func (p parsed) subject(t testing.TB) string {
	t.Helper()
	s, err := p.header.Subject()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (p parsed) ids(t testing.TB, key string) []string {
	t.Helper()
	ids, err := p.header.MsgIDList(key)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return ids
}

func (p parsed) to(t testing.TB) string {
	t.Helper()
	l, err := p.header.AddressList("To")
	if err != nil || len(l) != 1 {
		t.Fatalf("To = %v, %v", l, err)
	}
	return l[0].Address
}

// byRecipient groups delivered messages by envelope recipient.
func byRecipient(msgs []mailtest.SMTPMessage) map[string][]mailtest.SMTPMessage {
	out := map[string][]mailtest.SMTPMessage{}
	for _, m := range msgs {
		for _, to := range m.To {
			out[to] = append(out[to], m)
		}
	}
	return out
}
