package intake_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/storetest"
)

// BenchmarkBacklogDovecot drains a backlog of DKIM-signed requests (10,000;
// UNLOCKD_BENCH_BACKLOG sets another size) from a real Dovecot into each
// store engine, and reports msgs/s next to the floor: one IMAP session
// fetching every body of the same mailbox, in the same run. It needs
// Debian's dovecot-imapd and root; without them it is skipped.
func BenchmarkBacklogDovecot(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("UNLOCKD_BENCH_BACKLOG")); err == nil && v > 0 {
		n = v
	}
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				d, err := mailtest.StartDovecot()
				if err != nil {
					b.Skip(err)
				}
				b.Cleanup(func() { d.Close() })
				f := newFixtureTB(b, storetest.Open(b, e), n)
				renderer, err := outbox.NewRenderer("", "support@example.com", "unlockd")
				if err != nil {
					b.Fatal(err)
				}
				f.pipe.Render = renderer.Decision // every reply is queued, as in serve
				msgs := make([][]byte, n)
				for i := range msgs {
					msgs[i] = f.signed(i)
				}
				if err := d.Deliver(msgs...); err != nil {
					b.Fatal(err)
				}
				floor := rawFetch(b, d, n)
				c := intake.Config{Name: "support", Address: d.Addr, TLS: intake.TLSNone, Username: d.User, Password: d.Password,
					ProcessedFolder: "Processed", RejectedFolder: "Rejected", IDLE: true, PollInterval: time.Second}
				done := make(chan struct{})
				counter := &countingHandler{h: f.pipe, n: n, done: done}
				b.StartTimer()
				began := time.Now()
				startWatcher(b, c, counter, f.st)
				<-done
				took := time.Since(began)
				b.StopTimer()
				if got := f.unlockedTB(b); got != n {
					b.Fatalf("%d of %d users unlocked", got, n)
				}
				if mails, err := f.st.Outbox(context.Background(), ""); err != nil || len(mails) != n {
					b.Fatalf("%d replies queued, %v; want %d", len(mails), err, n)
				}
				b.ReportMetric(float64(n)/took.Seconds(), "msgs/s")
				b.ReportMetric(float64(n)/floor.Seconds(), "floor-msgs/s")
				b.ReportMetric(floor.Seconds()/took.Seconds(), "ratio")
			}
		})
	}
}

// rawFetch times one session fetching every body of the INBOX: the floor.
func rawFetch(tb testing.TB, d *mailtest.Dovecot, n int) time.Duration {
	tb.Helper()
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(d.User, d.Password).Wait(); err != nil {
		tb.Fatal(err)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		tb.Fatal(err)
	}
	// A first pass lets Dovecot build its index of the new files, which
	// the drain finds built too.
	var all imap.UIDSet
	all.AddRange(1, 0)
	if _, err := c.Fetch(all, &imap.FetchOptions{UID: true}).Collect(); err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil || len(msgs) != n {
		tb.Fatalf("raw fetch: %d messages, %v", len(msgs), err)
	}
	return time.Since(start)
}
