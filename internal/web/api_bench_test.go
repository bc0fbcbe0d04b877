package web_test

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/storetest"
)

// The API's hot paths over real HTTP and a real store, on each engine:
//
//	go test -run '^$' -bench API -benchtime 5s ./internal/web/
//
// With UNLOCKD_TEST_POSTGRES set they run on PostgreSQL too. For load
// figures with many concurrent clients next to PostgreSQL's own, use
// go run ./internal/bench api (README, Benchmarks).

// benchClient keeps a connection per parallel benchmark goroutine.
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}

// benchCall sends one request as the staff token and checks the status.
func benchCall(b *testing.B, f *apiFixture, method, path string, want int) {
	req, err := http.NewRequest(method, f.url+path, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.tokens[asStaff])
	resp, err := benchClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("%s %s: status %d, want %d", method, path, resp.StatusCode, want)
	}
}

// BenchmarkAPIGetUser reads users of org A, one after another.
func BenchmarkAPIGetUser(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			f := newAPIFixture(b, storetest.Open(b, e))
			names := make([]string, 100)
			for i := range names {
				names[i] = f.mustUser(b, orgA, i%2 == 0)
			}
			var n atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					benchCall(b, f, "GET", "/api/v1/orgs/acme/users/"+names[n.Add(1)%int64(len(names))], http.StatusOK)
				}
			})
		})
	}
}

// BenchmarkAPIUnlock unlocks a different locked user on every call, so
// each call really unlocks (and audits) someone.
func BenchmarkAPIUnlock(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			s := storetest.Open(b, e)
			f := newAPIFixture(b, s)
			now := f.clock()
			users := make([]domain.User, b.N)
			for i := range users {
				users[i] = domain.User{Username: fmt.Sprintf("locked%07d", i), FailedLogins: 5, LastFailedAt: now,
					Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: now, By: domain.ActorSystem}}
			}
			if _, err := s.Import(ctx, orgA, nil, users, "bench", "cli"); err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					benchCall(b, f, "POST", fmt.Sprintf("/api/v1/orgs/acme/users/locked%07d/unlock", n.Add(1)-1), http.StatusOK)
				}
			})
		})
	}
}
