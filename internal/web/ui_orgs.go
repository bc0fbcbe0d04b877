package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
)

// orgRow is one line of the organisations page.
type orgRow struct {
	Org     domain.Org
	Pending int
}

// orgsPage lets staff pick an org, with each org's count of waiting
// requests. An admin has one org and goes straight to it.
func (u *ui) orgsPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	if !v.Principal.Staff() {
		http.Redirect(w, r, "/orgs/"+v.Principal.OrgSlug, http.StatusSeeOther)
		return nil
	}
	orgs, err := u.Store.Orgs(r.Context())
	if err != nil {
		return err
	}
	counts, err := u.Store.PendingByOrg(r.Context(), "")
	if err != nil {
		return err
	}
	rows := make([]orgRow, len(orgs))
	for i, o := range orgs {
		rows[i] = orgRow{Org: o, Pending: counts[o.Slug]}
	}
	return u.render(w, r, http.StatusOK, "orgs", view{Title: "Organisations", Section: "orgs", Visit: v,
		Data: struct{ Orgs []orgRow }{rows}})
}

// orgFor returns the org named by the path's {org}, if the operator may
// see it: another org is not found, exactly like a missing one.
func (u *ui) orgFor(r *http.Request, v *visit) (domain.Org, error) {
	slug := r.PathValue("org")
	if err := v.Principal.Org(slug); err != nil {
		return domain.Org{}, err
	}
	return u.Store.Org(r.Context(), slug)
}
