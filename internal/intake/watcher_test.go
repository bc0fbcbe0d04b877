package intake_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// recorder is a Handler that records what it saw; messages whose body says
// REJECT go to the rejected folder.
type recorder struct {
	mu   sync.Mutex
	seen []intake.Message
	got  chan intake.Message
}

func newRecorder() *recorder { return &recorder{got: make(chan intake.Message, 1000)} }

func (r *recorder) Handle(_ context.Context, m intake.Message) (intake.Folder, error) {
	r.mu.Lock()
	r.seen = append(r.seen, m)
	r.mu.Unlock()
	r.got <- m
	if bytes.Contains(m.Raw, []byte("REJECT")) {
		return intake.Rejected, nil
	}
	return intake.Processed, nil
}

// Prepare implements intake.Handler.
func (r *recorder) Prepare(ctx context.Context, batch []intake.Message) intake.Prepared {
	return intake.OneByOne(r.Handle).Prepare(ctx, batch)
}

func (r *recorder) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.seen) }

// await waits for n more messages or fails the test.
func (r *recorder) await(t *testing.T, n int, within time.Duration) []intake.Message {
	t.Helper()
	var out []intake.Message
	deadline := time.After(within)
	for len(out) < n {
		select {
		case m := <-r.got:
			out = append(out, m)
		case <-deadline:
			t.Fatalf("got %d of %d messages within %s", len(out), n, within)
		}
	}
	return out
}

func msg(i int, body string) []byte {
	return fmt.Appendf(nil, "From: it@acme.example\r\nTo: support@example.com\r\nMessage-ID: <m%d@acme.example>\r\nSubject: Unlock: user%d\r\n\r\n%s\r\n", i, i, body)
}

func cfg(srv *mailtest.IMAPServer) intake.Config {
	return intake.Config{
		Name: "support", Address: srv.Addr, TLS: intake.TLSNone,
		Username: mailtest.IMAPUser, Password: mailtest.IMAPPassword,
		ProcessedFolder: "Processed", RejectedFolder: "Rejected",
		IDLE: true, PollInterval: 200 * time.Millisecond, BatchSize: 50,
	}
}

// start runs a watcher until the test ends and returns a stop function.
func start(t *testing.T, c intake.Config, h intake.Handler, st *store.Store) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := intake.New(c, h, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func sqliteStore(t *testing.T) *store.Store {
	return storetest.Open(t, storetest.Engines()[0])
}

func TestWatcherDecidesBacklogAndNewMailOnce(t *testing.T) {
	for _, opts := range []mailtest.IMAPOptions{{}, {NoIdle: true, NoMove: true}} {
		t.Run(fmt.Sprintf("idle=%t move=%t", !opts.NoIdle, !opts.NoMove), func(t *testing.T) {
			srv := mailtest.StartIMAP(t, opts)
			st := sqliteStore(t)
			for i := range 120 {
				body := "please"
				if i%10 == 0 {
					body = "REJECT"
				}
				srv.Append(t, "INBOX", msg(i, body))
			}
			rec := newRecorder()
			stop := start(t, cfg(srv), rec, st)
			got := rec.await(t, 120, 10*time.Second)
			slices.SortFunc(got, func(a, b intake.Message) int { return int(a.UID) - int(b.UID) }) // decided in parallel
			for i, m := range got {
				if m.UID != uint32(i+1) || !bytes.Contains(m.Raw, fmt.Appendf(nil, "<m%d@", i)) {
					t.Fatalf("message %d: uid %d raw %q", i, m.UID, m.Raw[:40])
				}
			}
			// Backlog of 120 in batches of 50: a bounded number of fetches,
			// not one per message.
			if n := srv.Commands("UID FETCH"); n > 12 {
				t.Errorf("%d UID FETCH commands for 120 messages", n)
			}
			srv.Append(t, "INBOX", msg(500, "late"))
			rec.await(t, 1, 5*time.Second)
			waitFor(t, func() bool { return srv.Count(t, "INBOX") == 0 })
			if p, r := srv.Count(t, "Processed"), srv.Count(t, "Rejected"); p != 109 || r != 12 {
				t.Errorf("processed %d rejected %d, want 109 and 12", p, r)
			}
			stop()

			// A restart decides nothing again.
			before := rec.count()
			start(t, cfg(srv), rec, st)
			time.Sleep(500 * time.Millisecond)
			if rec.count() != before {
				t.Errorf("restart handled %d messages again", rec.count()-before)
			}
		})
	}
}

func TestWatcherWithoutFoldersFlagsSeenAndCheckpoints(t *testing.T) {
	srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
	st := sqliteStore(t)
	for i := range 5 {
		srv.Append(t, "INBOX", msg(i, "x"))
	}
	c := cfg(srv)
	c.ProcessedFolder, c.RejectedFolder = "", ""
	rec := newRecorder()
	stop := start(t, c, rec, st)
	rec.await(t, 5, 5*time.Second)
	stop()
	start(t, c, rec, st)
	time.Sleep(500 * time.Millisecond)
	if rec.count() != 5 || srv.Count(t, "INBOX") != 5 {
		t.Errorf("handled %d, INBOX holds %d; want 5 and 5", rec.count(), srv.Count(t, "INBOX"))
	}
}

func TestWatcherOversizedMessageIsNotDownloadedWhole(t *testing.T) {
	srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
	st := sqliteStore(t)
	big := append(msg(1, "Unlock: jsmith"), bytes.Repeat([]byte("A"), 2<<20)...)
	srv.Append(t, "INBOX", big)
	c := cfg(srv)
	c.MaxMessageBytes = 1 << 20
	rec := newRecorder()
	start(t, c, rec, st)
	m := rec.await(t, 1, 5*time.Second)[0]
	if !m.Truncated || len(m.Raw) > 300<<10 || !bytes.Contains(m.Raw, []byte("Unlock: jsmith")) || m.Size != int64(len(big)) {
		t.Errorf("oversized: truncated=%t len=%d size=%d", m.Truncated, len(m.Raw), m.Size)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 100 {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("condition not met within 5s")
}
