package intake_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// startWatcher runs w until the test or benchmark ends and returns once it
// has selected the mailbox.
func startWatcher(tb testing.TB, c intake.Config, h intake.Handler, st *store.Store) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := intake.New(c, h, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	connected := make(chan struct{}, 1)
	w.OnState = func(st intake.State, _ error) {
		if st == intake.StateConnected {
			select {
			case connected <- struct{}{}:
			default:
			}
		}
	}
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	select {
	case <-connected:
	case <-time.After(5 * time.Second):
		tb.Fatal("watcher did not connect")
	}
}

// TestIdleWakesWithinASecond: with IDLE, a message appended to an idle
// mailbox is handled long before the poll interval (one minute here) would
// find it. The bound is generous; BenchmarkIdleLatency measures the figure.
func TestIdleWakesWithinASecond(t *testing.T) {
	srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
	c := cfg(srv)
	c.PollInterval = time.Minute
	rec := newRecorder()
	startWatcher(t, c, rec, sqliteStore(t))
	time.Sleep(100 * time.Millisecond) // let it enter IDLE
	began := time.Now()
	srv.Append(t, "INBOX", msg(1, "x"))
	rec.await(t, 1, 5*time.Second)
	if took := time.Since(began); took > time.Second {
		t.Errorf("IDLE wake-up took %s, want under 1s", took)
	}
}

// BenchmarkIdleLatency reports the time from APPEND to the handler's call
// for a watcher in IDLE (ns/op).
func BenchmarkIdleLatency(b *testing.B) {
	srv := mailtest.StartIMAP(b, mailtest.IMAPOptions{})
	c := cfg(srv)
	c.PollInterval = time.Minute
	rec := newRecorder()
	startWatcher(b, c, rec, storetest.Open(b, storetest.Engines()[0]))
	time.Sleep(100 * time.Millisecond)
	for i := 0; b.Loop(); i++ {
		srv.Append(b, "INBOX", msg(i, "x"))
		<-rec.got
	}
}

// BenchmarkBacklogDKIM drains a backlog of DKIM-signed requests (10,000 by
// default; UNLOCKD_BENCH_BACKLOG sets another size) through the in-process
// IMAP server and the whole pipeline into each store engine, and reports
// messages per second. Run it once: -bench BacklogDKIM -benchtime 1x.
func BenchmarkBacklogDKIM(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("UNLOCKD_BENCH_BACKLOG")); err == nil && v > 0 {
		n = v
	}
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				f := newFixtureTB(b, storetest.Open(b, e), n)
				srv := mailtest.StartIMAP(b, mailtest.IMAPOptions{})
				for i := range n {
					srv.Append(b, "INBOX", f.signed(i))
				}
				c := cfg(srv)
				done := make(chan struct{})
				counter := &countingHandler{h: f.pipe, n: n, done: done}
				b.StartTimer()
				began := time.Now()
				startWatcher(b, c, counter, f.st)
				<-done
				b.ReportMetric(float64(n)/time.Since(began).Seconds(), "msgs/s")
			}
		})
	}
}

// countingHandler closes done after n successful decisions.
type countingHandler struct {
	h    intake.Handler
	n    int
	done chan struct{}
}

func (c *countingHandler) Prepare(ctx context.Context, batch []intake.Message) intake.Prepared {
	p := c.h.Prepare(ctx, batch)
	return intake.Decided(func(ctx context.Context) []intake.Result {
		out := p.Decide(ctx)
		for _, r := range out {
			if r.Err == nil {
				if c.n--; c.n == 0 {
					close(c.done)
				}
			}
		}
		return out
	})
}
