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
	// Directory names the org's remote directory (empty for builtin),
	// whose locked accounts are listed, and whose failed-login locks are
	// Failed; Problem says why they are missing.
	Directory, Problem string
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
	dir, err := u.directoryOf(org)
	switch {
	case err != nil:
		return err
	case dir != nil:
		d.Directory = dir.Name()
		d.Locked, err = u.listRemote(ctx, org, dir, "", remoteListLimit)
		if err != nil && !shownOnPage(err) {
			return err
		}
		if err != nil {
			d.Problem = errorMessage(err)
		}
		for _, l := range d.Locked {
			if l.Lock != nil && l.Lock.Reason == domain.LockFailedLogins {
				d.Failed = append(d.Failed, l)
			}
		}
	default:
		if d.Locked, err = u.Store.ListUsers(ctx, org.Slug, store.UserFilter{Status: domain.StatusLocked, Limit: store.MaxLimit}); err != nil {
			return err
		}
		if d.Failed, err = u.Store.ListUsers(ctx, org.Slug, store.UserFilter{FailedOnly: true, Limit: store.MaxLimit}); err != nil {
			return err
		}
	}
	pending, err := u.Store.PendingByOrg(ctx, org.Slug)
	if err != nil {
		return err
	}
	d.Pending = pending[org.Slug]
	return u.render(w, r, http.StatusOK, "org", orgView(v, org, "overview", "Overview", d))
}
