package web

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// Pagination. Every list takes ?limit= (default defaultListLimit, from 1 to
// store.MaxLimit; outside that range it is refused) and ?cursor=, and answers {"items": [...],
// "next_cursor": "..."}. A cursor is opaque to clients: base64url of the
// list's kind and the sort key of the last item returned. next_cursor is
// set whenever a page came back full, so the last page may be empty; a
// client pages until next_cursor is absent. Filters are not part of the
// cursor: pass the same ones with each page.

const defaultListLimit = 100

// Cursor kinds, so that a cursor of one list is refused by another.
const (
	cursorOrgs     = "orgs"
	cursorContacts = "contacts"
	cursorUsers    = "users"
	cursorRequests = "requests"
	cursorAudit    = "audit"
)

// listPage is a parsed ?limit= and ?cursor=.
type listPage struct {
	kind  string
	limit int
	// after is the sort key of the last item already seen; "" for the
	// first page.
	after string
}

// readListPage parses ?limit= and ?cursor= for the list named kind.
func readListPage(r *http.Request, kind string) (listPage, error) {
	pg := listPage{kind: kind, limit: defaultListLimit}
	q := r.URL.Query()
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > store.MaxLimit {
			return pg, domain.Errorf(domain.CodeInvalid, "limit must be a whole number from 1 to %d", store.MaxLimit)
		}
		pg.limit = n
	}
	if q.Has("cursor") {
		raw, err := base64.RawURLEncoding.DecodeString(q.Get("cursor"))
		key, ok := strings.CutPrefix(string(raw), kind+":")
		if err != nil || !ok || key == "" {
			return pg, domain.Errorf(domain.CodeInvalid, "cursor is not one this list gave out")
		}
		pg.after = key
	}
	return pg, nil
}

// afterID returns the cursor's key as a positive id, 0 for none.
func (pg listPage) afterID() (int64, error) {
	if pg.after == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(pg.after, 10, 64)
	if err != nil || id < 1 {
		return 0, domain.Errorf(domain.CodeInvalid, "cursor is not one this list gave out")
	}
	return id, nil
}

// list is the answer to a list request.
type listJSON[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// writeListJSON answers with items and, when the page is full, a cursor after
// the last one, whose sort key is key(last).
func writeListJSON[T any](w http.ResponseWriter, pg listPage, items []T, key func(T) string) error {
	out := listJSON[T]{Items: items}
	if out.Items == nil {
		out.Items = []T{}
	}
	if len(items) > 0 && len(items) >= pg.limit {
		out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(pg.kind + ":" + key(items[len(items)-1])))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
