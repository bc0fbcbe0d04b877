package web_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// walk pages through the list at path, limit items at a time, and returns
// every item and the number of pages.
func (f *apiFixture) walk(t *testing.T, who, path string, limit int) (items []json.RawMessage, pages int) {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	cursor := ""
	for {
		q := fmt.Sprintf("%s%slimit=%d", path, sep, limit)
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor *string           `json:"next_cursor"`
		}
		f.call(t, who, "GET", q, "").want(t, http.StatusOK, &page)
		pages++
		if len(page.Items) > limit {
			t.Fatalf("%s: %d items, more than limit %d", q, len(page.Items), limit)
		}
		items = append(items, page.Items...)
		if page.NextCursor == nil {
			return items, pages
		}
		if *page.NextCursor == "" || *page.NextCursor == cursor || pages > 100 {
			t.Fatalf("%s: next_cursor %q after %q", q, *page.NextCursor, cursor)
		}
		cursor = *page.NextCursor
	}
}

// TestAPIPagination walks every list in pages smaller than the list and
// checks the pages add up to the whole list, in order, each item once.
func TestAPIPagination(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		for i := 0; i < 7; i++ {
			f.mustUser(t, orgA, i%2 == 0)
			if _, err := s.AddContact(ctx, orgA, contact(f.unique("c")+"@example.org"), "test", "cli"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateOrg(ctx, domain.Org{Slug: f.unique("org"), Name: "x", Policy: domain.DefaultPolicy()}); err != nil {
				t.Fatal(err)
			}
			f.mustRequest(t, orgA)
		}
		for _, tc := range []struct {
			who, path string
			limit     int
		}{
			{asAdminA, "/api/v1/orgs/acme/users", 3},
			{asAdminA, "/api/v1/orgs/acme/users?status=locked", 2},
			{asAdminA, "/api/v1/orgs/acme/contacts", 3},
			{asStaff, "/api/v1/orgs", 4},
			{asAdminA, "/api/v1/requests", 5},
			{asAdminA, "/api/v1/requests?status=pending", 7}, // exactly a full page, then an empty one
			{asStaff, "/api/v1/audit?org=acme", 9},
			{asStaff, "/api/v1/audit", 10},
		} {
			all, _ := f.walk(t, tc.who, tc.path, 1000)
			if len(all) < tc.limit {
				t.Fatalf("%s has %d items: not enough to page by %d", tc.path, len(all), tc.limit)
			}
			got, pages := f.walk(t, tc.who, tc.path, tc.limit)
			if wantPages := len(all)/tc.limit + 1; pages != wantPages {
				t.Errorf("%s by %d: %d pages for %d items, want %d", tc.path, tc.limit, pages, len(all), wantPages)
			}
			if !slices.EqualFunc(got, all, func(a, b json.RawMessage) bool { return string(a) == string(b) }) {
				t.Errorf("%s by %d: paged items differ from the whole list:\n%s\n%s", tc.path, tc.limit, got, all)
			}
		}
	})
}

func TestAPIPaginationBadInput(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		f.mustUser(t, orgA, false)
		f.mustUser(t, orgA, false)
		var page struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor string            `json:"next_cursor"`
		}
		f.call(t, asStaff, "GET", "/api/v1/orgs/acme/users?limit=1", "").want(t, http.StatusOK, &page)
		usersCursor := page.NextCursor
		page.NextCursor = ""
		f.call(t, asStaff, "GET", "/api/v1/orgs/acme/users?limit=1000", "").want(t, http.StatusOK, &page)
		if len(page.Items) != 2 || page.NextCursor != "" {
			t.Errorf("limit at the cap: %d items, cursor %q", len(page.Items), page.NextCursor)
		}
		forged := base64.RawURLEncoding.EncodeToString([]byte("requests:abc"))
		for _, path := range []string{
			"/api/v1/orgs/acme/users?limit=0",
			"/api/v1/orgs/acme/users?limit=-1",
			"/api/v1/orgs/acme/users?limit=1001",
			"/api/v1/orgs/acme/users?limit=100000",
			"/api/v1/orgs/acme/users?limit=abc",
			"/api/v1/orgs/acme/users?limit=",
			"/api/v1/orgs/acme/users?limit=1&limit=2",
			"/api/v1/orgs/acme/users?cursor=",
			"/api/v1/orgs/acme/users?cursor=!!!",
			"/api/v1/orgs/acme/users?cursor=" + base64.RawURLEncoding.EncodeToString([]byte("users:")),
			"/api/v1/orgs?cursor=" + usersCursor,
			"/api/v1/requests?cursor=" + forged,
			"/api/v1/audit?cursor=" + forged,
			"/api/v1/orgs/acme/users?status=bogus",
			"/api/v1/orgs/acme/users?reason=bogus",
			"/api/v1/orgs/acme/users?status=active&reason=admin",
			"/api/v1/orgs/acme/users?sort=name",
		} {
			f.call(t, asStaff, "GET", path, "").wantError(t, http.StatusBadRequest)
		}
	})
}
