package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/store"
)

// apiOrgs lists organisations by slug (staff).
func (s *Server) apiOrgs(w http.ResponseWriter, r *http.Request, _ Principal) error {
	if err := checkListQuery(r, "limit", "cursor"); err != nil {
		return err
	}
	pg, err := readListPage(r, cursorOrgs)
	if err != nil {
		return err
	}
	orgs, err := s.Store.ListOrgs(r.Context(), store.OrgFilter{AfterSlug: pg.after, Limit: pg.limit})
	if err != nil {
		return err
	}
	views := make([]orgJSON, len(orgs))
	for i, o := range orgs {
		views[i] = toOrgJSON(o)
	}
	return writeListJSON(w, pg, views, func(v orgJSON) string { return v.Slug })
}
