package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// userData is the user page's Data.
type userData struct {
	User  domain.User
	Audit []domain.AuditEntry
}

// userPage shows one user, its lock and failed logins, the unlock, lock
// and generate-password forms, and the user's recent audit entries.
func (u *ui) userPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	org, err := u.orgFor(r, v)
	if err != nil {
		return err
	}
	var d userData
	if d.User, err = u.Store.User(r.Context(), org.Slug, r.PathValue("username")); err != nil {
		return err
	}
	d.Audit, err = u.Store.ListAudit(r.Context(), store.AuditFilter{OrgID: org.ID, Target: d.User.Username, Limit: 20})
	if err != nil {
		return err
	}
	return u.render(w, r, http.StatusOK, "user", orgView(v, org, "users", d.User.Username, d))
}
