package outbox_test

import (
	"testing"

	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// BenchmarkDeliver measures replies delivered per second to the local
// sink over one connection per batch of 50, from an SQLite store.
func BenchmarkDeliver(b *testing.B) {
	s := storetest.Open(b, storetest.Engine{Name: store.SQLite})
	f := newFixture(b, s)
	sink := mailtest.StartSMTP(b)
	w := f.newWorker(b, sink, func(c *outbox.Config) { c.BatchSize = 50 })
	f.queueReplies(b, b.N)
	b.ResetTimer()
	for delivered := 0; delivered < b.N; {
		n, err := w.DeliverOnce(ctx)
		if err != nil || n == 0 {
			b.Fatalf("DeliverOnce = %d, %v after %d", n, err, delivered)
		}
		delivered += n
	}
	b.StopTimer()
	if got := len(sink.Messages()); got != b.N {
		b.Fatalf("sink holds %d, want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
}
