package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// BenchmarkRetentionSweep measures the daily sweep deleting 20,000
// decisions past limits.retention, each with a request item, in batches
// of 1000, on each engine:
//
//	go test -run '^$' -bench RetentionSweep -benchtime 1x ./internal/store
func BenchmarkRetentionSweep(b *testing.B) {
	const n = 20000
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				s := storetest.Open(b, e)
				start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
				s.Now = func() time.Time { return start }
				if _, err := s.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: domain.DefaultPolicy()}); err != nil {
					b.Fatal(err)
				}
				if _, err := s.AddContact(ctx, "acme", domain.Contact{Email: contactAddr}, "test", "cli"); err != nil {
					b.Fatal(err)
				}
				for lo := 0; lo < n; lo += 500 {
					in := make([]store.Input, 0, 500)
					for i := lo; i < lo+500; i++ {
						key := fmt.Sprintf("<old%d@acme.example>", i)
						in = append(in, store.Input{Message: store.Message{Mailbox: "support", Key: key, MessageID: key},
							Facts: verified(contactAddr, "nobody")})
					}
					if _, err := s.DecideBatch(ctx, in, nil); err != nil {
						b.Fatal(err)
					}
				}
				later := start.Add(401 * day)
				s.Now = func() time.Time { return later }
				b.StartTimer()
				t0 := time.Now()
				swept, err := s.SweepRetention(ctx, store.Retention{Records: 400 * day})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(swept.Decisions)/time.Since(t0).Seconds(), "decisions/s")
				if swept.Decisions != n-1 || swept.RequestItems != n-1 {
					b.Fatalf("swept %+v, want %d decisions and items (the newest stays)", swept, n-1)
				}
				b.ReportMetric(float64(swept.Batches), "batches")
			}
		})
	}
}
