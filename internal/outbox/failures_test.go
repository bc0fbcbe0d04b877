package outbox_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// queueReplies decides n requests that each get one reply (unknown users,
// so no notifications) and returns their subjects.
func (f *fixture) queueReplies(t testing.TB, n int) []string {
	t.Helper()
	var subjects []string
	for i := range n {
		subject := "Unlock ghost " + string(rune('A'+i%26)) + strings.Repeat("!", i/26)
		f.decide(t, contactAddr, true, subject, "ghost")
		subjects = append(subjects, "Re: "+subject)
	}
	return subjects
}

// wantExactlyOnce checks that the sink received each subject exactly once
// and that the outbox holds them all as sent.
func wantExactlyOnce(t *testing.T, s *store.Store, sink *mailtest.SMTPServer, subjects []string) {
	t.Helper()
	var got []string
	for _, m := range sink.Messages() {
		got = append(got, parse(t, m.Data).subject(t))
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(subjects))
	if !slices.Equal(got, want) {
		t.Errorf("delivered %d mails, want each of %d exactly once:\ngot  %q\nwant %q", len(got), len(want), got, want)
	}
	for _, status := range []string{store.MailPending, store.MailDead} {
		if rows, err := s.Outbox(ctx, status); err != nil || len(rows) != 0 {
			t.Errorf("%d %s rows left (%v)", len(rows), status, err)
		}
	}
}

func TestTransientFailuresDeliverExactlyOnce(t *testing.T) {
	faults := []struct {
		name  string
		fault mailtest.SMTPFault
		n     int
	}{
		{"421 at connect", mailtest.SMTP421Connect, 3},
		{"refused for 20 attempts", mailtest.SMTPRefuse, 20},
		{"451 on MAIL", mailtest.SMTP451Mail, 3},
		{"451 on RCPT", mailtest.SMTP451Rcpt, 2},
		{"451 after DATA", mailtest.SMTP451Data, 3},
		{"dropped during DATA", mailtest.SMTPDropData, 3},
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		for _, fc := range faults {
			t.Run(fc.name, func(t *testing.T) {
				f := newFixture(t, storetest.Open(t, engineOf(s)))
				sink := mailtest.StartSMTP(t)
				subjects := f.queueReplies(t, 5)
				sink.FailNext(fc.n, fc.fault)
				w := f.newWorker(t, sink, func(c *outbox.Config) { c.SMTP.MaxAttempts = 100 })
				f.drain(t, w, 30)
				if n := sink.PendingFaults(); n != 0 {
					t.Fatalf("%d injected faults never fired", n)
				}
				wantExactlyOnce(t, f.s, sink, subjects)
			})
		}
	})
}

// engineOf names the engine s runs on, to open a fresh store per subtest.
func engineOf(s *store.Store) storetest.Engine {
	for _, e := range storetest.Engines() {
		if e.Name == s.Dialect() {
			return e
		}
	}
	panic("unknown engine " + s.Dialect())
}

// TestOutageOfAnyLength keeps the server down while the real Run loop
// retries its connection many times over on scaled-down backoffs, then
// brings it back: a failed connection tries no mail, so no attempt counts
// and even smtp.max_attempts 2 survives the outage; nothing is lost and
// nothing is sent twice. The SMTP state says retrying, with the cause,
// until the server is back.
func TestOutageOfAnyLength(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		sink := mailtest.StartSMTP(t)
		subjects := f.queueReplies(t, 4)
		sink.Down()
		var mu sync.Mutex
		var failures int
		var state outbox.State
		var cause error
		w := f.newWorker(t, sink, func(c *outbox.Config) {
			c.SMTP.MaxAttempts = 2
			c.ConnMinBackoff, c.ConnMaxBackoff = time.Millisecond, 5*time.Millisecond
			c.OnFailure = func(error) { mu.Lock(); failures++; mu.Unlock() }
			c.OnState = func(st outbox.State, err error) { mu.Lock(); state, cause = st, err; mu.Unlock() }
		})
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- w.Run(runCtx) }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := failures
			mu.Unlock()
			if n >= 50 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d connection attempts during the outage", n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		mu.Lock()
		if state != outbox.StateRetrying || cause == nil || !strings.Contains(cause.Error(), "refused") {
			t.Errorf("state during the outage = %q, %v; want retrying with the refusal", state, cause)
		}
		mu.Unlock()
		rows, err := s.Outbox(ctx, store.MailPending)
		if err != nil || len(rows) != len(subjects) {
			t.Fatalf("pending rows during the outage = %d, %v", len(rows), err)
		}
		for _, r := range rows {
			if r.Attempts != 0 {
				t.Errorf("mail %d has %d attempts after failed connections, want 0", r.ID, r.Attempts)
			}
		}
		sink.Up(t)
		sink.WaitMessages(t, len(subjects), 10*time.Second)
		time.Sleep(50 * time.Millisecond) // room for a wrong second delivery
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
		wantExactlyOnce(t, s, sink, subjects)
		mu.Lock()
		if state != outbox.StateOK {
			t.Errorf("state after the outage = %q, want ok", state)
		}
		mu.Unlock()
	})
}

func TestPermanentFailureIsDeadAtOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		sink := mailtest.StartSMTP(t)
		f.queueReplies(t, 2)
		sink.FailNext(1, mailtest.SMTP550Rcpt)
		f.drain(t, f.newWorker(t, sink, nil), 5)
		dead, err := s.Outbox(ctx, store.MailDead)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != 1 || dead[0].Attempts != 1 || !strings.Contains(dead[0].LastError, "550") {
			t.Fatalf("dead rows = %+v, want one after one attempt with the 550 error", dead)
		}
		if n := len(sink.Messages()); n != 1 {
			t.Errorf("%d mails delivered, want the other one", n)
		}
	})
}

func TestMaxAttemptsDeadLetters(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		sink := mailtest.StartSMTP(t)
		f.queueReplies(t, 1)
		sink.FailNext(10, mailtest.SMTP451Data)
		f.drain(t, f.newWorker(t, sink, func(c *outbox.Config) { c.SMTP.MaxAttempts = 3 }), 10)
		dead, err := s.Outbox(ctx, store.MailDead)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != 1 || dead[0].Attempts != 3 || !strings.Contains(dead[0].LastError, "451") {
			t.Fatalf("dead rows = %+v, want one after 3 attempts with the 451 error", dead)
		}
		if n := len(sink.Messages()); n != 0 {
			t.Errorf("%d mails delivered, want none", n)
		}
	})
}

// TestBackoffGrowsAndIsCapped checks the retry times a temporary failure
// records: doubling from MinBackoff, jittered by up to half, capped.
func TestBackoffGrowsAndIsCapped(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		sink := mailtest.StartSMTP(t)
		f.queueReplies(t, 1)
		sink.FailNext(8, mailtest.SMTP451Mail)
		w := f.newWorker(t, sink, func(c *outbox.Config) { c.MinBackoff, c.MaxBackoff = time.Minute, 10*time.Minute })
		for attempt, base := range []time.Duration{1, 2, 4, 8, 10, 10} {
			base *= time.Minute
			before := f.clock.Now()
			if n, err := w.DeliverOnce(ctx); err != nil || n != 1 {
				t.Fatalf("attempt %d: DeliverOnce = %d, %v", attempt+1, n, err)
			}
			// Step through time to find when the row is due again.
			var waited time.Duration
			for waited = 0; waited <= base; waited += 5 * time.Second {
				f.clock.Advance(5 * time.Second)
				if due := dueCount(t, s, before.Add(waited+5*time.Second)); due {
					break
				}
			}
			if waited < base/2-5*time.Second || waited > base {
				t.Errorf("attempt %d: due again after %v, want between %v and %v", attempt+1, waited, base/2, base)
			}
		}
	})
}

// dueCount reports whether the single pending row is due at now.
func dueCount(t *testing.T, s *store.Store, now time.Time) bool {
	t.Helper()
	saved := s.Now
	s.Now = func() time.Time { return now }
	defer func() { s.Now = saved }()
	rows, err := s.ClaimMail(ctx, "probe", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(rows) == 1
}

// TestRestartMidBatchLosesNothing stops a worker in the middle of a batch
// and lets a new one finish at once, without waiting for the lease: the
// stopped worker released what it had not tried. Every reply arrives once.
func TestRestartMidBatchLosesNothing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		sink := mailtest.StartSMTP(t)
		subjects := f.queueReplies(t, 20)
		runCtx, cancel := context.WithCancel(ctx)
		var once sync.Once
		sink.OnMessage(func(mailtest.SMTPMessage) {
			if len(sink.Messages()) == 5 {
				once.Do(cancel)
			}
		})
		first := f.newWorker(t, sink, nil)
		if err := first.Run(runCtx); err != nil {
			t.Fatal(err)
		}
		if n := len(sink.Messages()); n != 5 {
			t.Fatalf("first worker delivered %d before stopping, want 5 (the one in hand finished)", n)
		}
		sent, _ := s.Outbox(ctx, store.MailSent)
		if len(sent) != 5 {
			t.Fatalf("%d rows recorded sent, want 5", len(sent))
		}
		f.drain(t, f.newWorker(t, sink, nil), 3)
		wantExactlyOnce(t, s, sink, subjects)
	})
}

func TestBatchUsesOneConnection(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		sink := mailtest.StartSMTP(t)
		subjects := f.queueReplies(t, 20)
		if n, err := f.newWorker(t, sink, nil).DeliverOnce(ctx); err != nil || n != 20 {
			t.Fatalf("DeliverOnce = %d, %v", n, err)
		}
		if n := sink.Connections(); n != 1 {
			t.Errorf("%d SMTP connections for a batch of 20, want 1", n)
		}
		wantExactlyOnce(t, s, sink, subjects)
	})
}

func TestAuthAndWake(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		sink := mailtest.StartSMTP(t)
		sink.RequireAuth()
		w := f.newWorker(t, sink, func(c *outbox.Config) {
			c.SMTP.Username, c.SMTP.Password = mailtest.SMTPUser, mailtest.SMTPPassword
			c.PollInterval = time.Hour // only Wake can start the second pass
		})
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- w.Run(runCtx) }()
		time.Sleep(20 * time.Millisecond) // the first, empty pass
		subjects := f.queueReplies(t, 2)
		w.Wake()
		msgs := sink.WaitMessages(t, 2, 5*time.Second)
		for _, m := range msgs {
			if m.Auth != mailtest.SMTPUser {
				t.Errorf("mail delivered without AUTH (as %q)", m.Auth)
			}
		}
		cancel()
		<-done
		wantExactlyOnce(t, s, sink, subjects)
	})
}

// TestServerHangingAfterDataTimesOut: a server that takes the message and
// never answers costs one attempt after smtp.timeout, not a stuck worker;
// the state says retrying with a timeout until the next mail gets through,
// on a fresh connection.
func TestServerHangingAfterDataTimesOut(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		sink := mailtest.StartSMTP(t)
		subjects := f.queueReplies(t, 3)
		sink.FailNext(1, mailtest.SMTPHangData)
		var mu sync.Mutex
		var states []outbox.State
		var causes []error
		w := f.newWorker(t, sink, func(c *outbox.Config) {
			c.Timeout = 300 * time.Millisecond
			c.OnState = func(st outbox.State, err error) {
				mu.Lock()
				defer mu.Unlock()
				states, causes = append(states, st), append(causes, err)
			}
		})
		start := time.Now()
		if _, err := w.DeliverOnce(ctx); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		if took < 300*time.Millisecond || took > 3*time.Second {
			t.Errorf("the pass took %v, want about the 300ms timeout", took)
		}
		mu.Lock()
		if len(states) != 2 || states[0] != outbox.StateRetrying || !isTimeout(causes[0]) || states[1] != outbox.StateOK {
			t.Errorf("states %v, causes %v; want retrying on a timeout, then ok", states, causes)
		}
		mu.Unlock()
		if n := len(sink.Messages()); n != 2 {
			t.Errorf("%d delivered in the pass, want the 2 after the hung one", n)
		}
		f.drain(t, w, 3)
		wantExactlyOnce(t, s, sink, subjects)
		if n := sink.Connections(); n != 3 {
			t.Errorf("%d connections, want 3 (first, after the hang, the retry)", n)
		}
	})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
