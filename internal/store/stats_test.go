package store_test

import (
	"maps"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestPendingByOrg counts the queue per org with one query: decided items
// and other orgs' do not count.
func TestPendingByOrg(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		mustOrg(t, s, "acme", nil)
		mustOrg(t, s, "globex", nil)
		mustContact(t, s, "acme", contactAddr)
		for _, name := range []string{"a", "b", "c"} {
			mustFailedLock(t, s, "acme", name, s.Now())
		}
		first := queuedRequest(t, s, "<p1@acme.example>", "a")
		queuedRequest(t, s, "<p2@acme.example>", "b")
		queuedRequest(t, s, "<p3@acme.example>", "c")
		if _, err := s.RejectRequest(ctx, first, "", "not now", "test", "cli", nil); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			slug string
			want map[string]int
		}{
			{"", map[string]int{"acme": 2}},
			{"acme", map[string]int{"acme": 2}},
			{"globex", map[string]int{}},
		} {
			got, err := s.PendingByOrg(ctx, tc.slug)
			if err != nil || !maps.Equal(got, tc.want) {
				t.Errorf("PendingByOrg(%q) = %v, %v; want %v", tc.slug, got, err, tc.want)
			}
		}
		st, err := s.Stats(ctx)
		if err != nil || st.PendingRequests != 2 {
			t.Errorf("Stats = %+v, %v; want 2 pending", st, err)
		}
		if r, err := s.Request(ctx, first, ""); err != nil || r.State != domain.ItemRejected || r.Note != "not now" {
			t.Errorf("rejected request = %+v, %v", r, err)
		}
	})
}
