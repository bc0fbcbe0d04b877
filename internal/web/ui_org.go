package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// orgData is the org overview's Data.
type orgData struct {
	Pending int
	Locked  []domain.User
	Failed  []domain.User
}

// orgPage is an org's overview: its waiting requests, its locked users
// with reason and since when, and its users with failed logins, with the
// one-click reset.
func (u *ui) orgPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	org, err := u.orgFor(r, v)
	if err != nil {
		return err
	}
	var d orgData
	if d.Locked, err = u.Store.ListUsers(ctx, org.Slug, store.UserFilter{Status: domain.StatusLocked, Limit: store.MaxLimit}); err != nil {
		return err
	}
	if d.Failed, err = u.Store.ListUsers(ctx, org.Slug, store.UserFilter{FailedOnly: true, Limit: store.MaxLimit}); err != nil {
		return err
	}
	pending, err := u.Store.PendingByOrg(ctx, org.Slug)
	if err != nil {
		return err
	}
	d.Pending = pending[org.Slug]
	return u.render(w, r, http.StatusOK, "org", orgView(v, org, "overview", "Overview", d))
}
