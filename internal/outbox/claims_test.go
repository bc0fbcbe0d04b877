package outbox_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// flakyQueue is the real store with failures injected into the calls a
// worker makes while it holds claims.
type flakyQueue struct {
	*store.Store
	failSent  atomic.Int64 // MailSent calls left to fail
	failRenew atomic.Bool  // every RenewClaims fails while set
}

var errInjected = errors.New("database unavailable (injected)")

func (q *flakyQueue) MailSent(ctx context.Context, id int64, response string) error {
	if q.failSent.Add(-1) >= 0 {
		return errInjected
	}
	return q.Store.MailSent(ctx, id, response)
}

func (q *flakyQueue) RenewClaims(ctx context.Context, owner string, ids []int64, ttl time.Duration) ([]int64, error) {
	if q.failRenew.Load() {
		return nil, errInjected
	}
	return q.Store.RenewClaims(ctx, owner, ids, ttl)
}

// realTime puts the fixture's store on the wall clock: claims must run
// out in real time for these tests.
func (f *fixture) realTime() { f.s.Now = time.Now }

// worker returns a worker delivering from q (the fixture's store, or one
// with failures injected) to sink on the store's clock, with millisecond
// backoffs, applying mod to its configuration.
func (f *fixture) worker(t testing.TB, q outbox.Queue, sink *mailtest.SMTPServer, mod func(*outbox.Config)) *outbox.Worker {
	t.Helper()
	cfg := outbox.Config{
		SMTP:   config.SMTP{Address: sink.Addr, TLS: config.TLSNone, From: fromAddr, MaxAttempts: 10},
		LoopID: loopID, PollInterval: time.Hour, Timeout: 5 * time.Second,
		MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Now: f.s.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	w, err := outbox.New(cfg, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// slowSink delays every accepted mail's answer by d.
func slowSink(t *testing.T, d time.Duration) *mailtest.SMTPServer {
	sink := mailtest.StartSMTP(t)
	sink.OnMessage(func(mailtest.SMTPMessage) { time.Sleep(d) })
	return sink
}

// TestSlowBatchKeepsItsClaims: a batch that takes many claim lifetimes to
// send keeps its claims renewed, so a second worker polling all the while
// takes none of them. Every mail goes out once.
func TestSlowBatchKeepsItsClaims(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		f.realTime()
		// Lifetimes long enough that a loaded machine (CI runs packages in
		// parallel) still renews in time, and a batch of several of them.
		sink := slowSink(t, 150*time.Millisecond)
		subjects := f.queueReplies(t, 12) // about 1.8 s of sending
		ttl := func(c *outbox.Config) { c.ClaimTTL = 400 * time.Millisecond }
		a, b := f.worker(t, s, sink, ttl), f.worker(t, s, sink, ttl)
		first := make(chan int, 1)
		go func() { n, _ := a.DeliverOnce(ctx); first <- n }()
		time.Sleep(20 * time.Millisecond)
		stolen := 0
		for {
			select {
			case n := <-first:
				if n != 12 || stolen != 0 {
					t.Errorf("first worker claimed %d, the second took %d meanwhile; want 12 and 0", n, stolen)
				}
				wantExactlyOnce(t, s, sink, subjects)
				return
			default:
			}
			n, err := b.DeliverOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			stolen += n
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// TestDeadWorkersMailComesBackWithinItsClaim: mail claimed by a worker
// that died (it never renews nor releases) is sent by a running worker
// once the claim runs out, without waiting for the poll interval.
func TestDeadWorkersMailComesBackWithinItsClaim(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		f.realTime()
		sink := mailtest.StartSMTP(t)
		subjects := f.queueReplies(t, 3)
		start := time.Now() // the claim runs out 400ms after a moment later than this
		if got, err := s.ClaimMail(ctx, "dead-worker", 10, 400*time.Millisecond); err != nil || len(got) != 3 {
			t.Fatalf("claim = %d, %v", len(got), err)
		}
		w := f.worker(t, s, sink, nil) // PollInterval: one hour
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- w.Run(runCtx) }()
		sink.WaitMessages(t, 3, 5*time.Second)
		took := time.Since(start)
		cancel()
		<-done
		if took < 400*time.Millisecond || took > 2*time.Second {
			t.Errorf("the dead worker's mail went out after %v, want just after its 400ms claim", took)
		}
		wantExactlyOnce(t, s, sink, subjects)
	})
}

// TestSentMarkSurvivesAStoreHiccup: when recording a delivery fails, the
// worker sends nothing more, keeps the mark, and records it on its next
// pass before claiming: the mail is not sent twice.
func TestSentMarkSurvivesAStoreHiccup(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		sink := mailtest.StartSMTP(t)
		subjects := f.queueReplies(t, 5)
		q := &flakyQueue{Store: s}
		q.failSent.Store(3) // every try of the first pass
		w := f.worker(t, q, sink, nil)
		if _, err := w.DeliverOnce(ctx); err == nil || !strings.Contains(err.Error(), "kept to record later") {
			t.Fatalf("DeliverOnce = %v, want the failed record", err)
		}
		if n := len(sink.Messages()); n != 1 {
			t.Fatalf("%d mails sent while the store could not record them, want 1", n)
		}
		f.drain(t, w, 5)
		wantExactlyOnce(t, s, sink, subjects)
	})
}

// TestUnconfirmedClaimsStopTheBatch: while the store cannot renew the
// claims, the worker stops sending before they may run out, and leaves the
// rest to whoever claims them next.
func TestUnconfirmedClaimsStopTheBatch(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		f.realTime()
		sink := slowSink(t, 40*time.Millisecond)
		subjects := f.queueReplies(t, 20)
		q := &flakyQueue{Store: s}
		q.failRenew.Store(true)
		// Long enough that a loaded machine still sends the first mails
		// before the claims need renewing (at half the lifetime), short
		// enough that 20 mails at 40ms each outlast it.
		ttl := func(c *outbox.Config) { c.ClaimTTL = time.Second }
		_, err := f.worker(t, q, sink, ttl).DeliverOnce(ctx)
		if err == nil || !strings.Contains(err.Error(), "not renewed") {
			t.Fatalf("DeliverOnce = %v, want a stop for unrenewed claims", err)
		}
		sent := len(sink.Messages())
		if sent == 0 || sent >= 20 {
			t.Fatalf("%d of 20 sent before stopping", sent)
		}
		t.Logf("stopped after %d mails", sent)
		time.Sleep(1100 * time.Millisecond) // the claims run out
		f.drain(t, f.worker(t, s, sink, ttl), 3)
		wantExactlyOnce(t, s, sink, subjects)
	})
}
