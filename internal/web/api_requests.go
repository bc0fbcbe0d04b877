package web

import (
	"net/http"
	"strconv"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// apiRequests lists request items, oldest first, within the principal's
// scope: ?status=pending|applied|rejected|expired (or not_locked,
// unknown_user), ?org= (an admin's own org, whether given or not).
func (s *Server) apiRequests(w http.ResponseWriter, r *http.Request, p Principal) error {
	if err := checkListQuery(r, "status", "org", "limit", "cursor"); err != nil {
		return err
	}
	f := store.RequestFilter{OrgSlug: p.Scope()}
	if q := r.URL.Query(); q.Has("org") {
		var err error
		if f.OrgSlug, err = s.orgQuery(r, p); err != nil {
			return err
		}
	}
	if q := r.URL.Query(); q.Has("status") {
		st, err := domain.ParseItemState(q.Get("status"))
		if err != nil {
			return err
		}
		f.State = st
	}
	pg, err := readListPage(r, cursorRequests)
	if err != nil {
		return err
	}
	if f.AfterID, err = pg.afterID(); err != nil {
		return err
	}
	f.Limit = pg.limit
	reqs, err := s.Store.ListRequests(r.Context(), f)
	if err != nil {
		return err
	}
	views := make([]requestJSON, len(reqs))
	for i, rq := range reqs {
		views[i] = toRequestJSON(rq)
	}
	return writeListJSON(w, pg, views, func(v requestJSON) string { return strconv.FormatInt(v.ID, 10) })
}

// requestIDParam reads the {id} path value: a positive whole number.
func requestIDParam(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, domain.Errorf(domain.CodeInvalid, "request id must be a positive whole number")
	}
	return id, nil
}
