package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// apiAudit lists audit entries, newest first: ?org= (an admin's own org
// whether given or not; for staff, a deleted org's too), ?user= (entries
// whose target is that username).
func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request, p Principal) error {
	if err := checkListQuery(r, "org", "user", "limit", "cursor"); err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.AuditFilter{OrgSlug: p.Scope()}
	if q.Has("org") {
		slug, err := s.orgQuery(r, p)
		if errors.Is(err, domain.ErrNotFound) && p.Staff() {
			slug, f.Deleted = q.Get("org"), true
			err = s.deletedOrg(r, slug, err)
		}
		if err != nil {
			return err
		}
		f.OrgSlug = slug
	}
	if q.Has("user") {
		if err := domain.ValidateUsername(q.Get("user")); err != nil {
			return err
		}
		f.Target = q.Get("user")
	}
	pg, err := readListPage(r, cursorAudit)
	if err != nil {
		return err
	}
	if f.BeforeID, err = pg.afterID(); err != nil {
		return err
	}
	f.Limit = pg.limit
	entries, err := s.Store.AuditLog(r.Context(), f)
	if err != nil {
		return err
	}
	views := make([]auditJSON, len(entries))
	for i, e := range entries {
		views[i] = toAuditJSON(e)
	}
	return writeListJSON(w, pg, views, func(v auditJSON) string { return strconv.FormatInt(v.ID, 10) })
}

// orgQuery reads ?org=: a valid slug of an org the principal may see and
// that exists (another org's is not found, like a missing one).
func (s *Server) orgQuery(r *http.Request, p Principal) (string, error) {
	slug := r.URL.Query().Get("org")
	if err := p.Org(slug); err != nil {
		return "", err
	}
	if err := domain.ValidateSlug(slug); err != nil {
		return "", err
	}
	if _, err := s.Store.Org(r.Context(), slug); err != nil {
		return "", err
	}
	return slug, nil
}

// deletedOrg returns nil when audit entries of a deleted org with the slug
// exist (they stay, found by it: store.DeleteOrg), otherwise notFound.
func (s *Server) deletedOrg(r *http.Request, slug string, notFound error) error {
	found, err := s.Store.AuditLog(r.Context(), store.AuditFilter{OrgSlug: slug, Deleted: true, Limit: 1})
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return notFound
	}
	return nil
}
