package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// usersPerPage is the length of a page of the users list.
const usersPerPage = 50

// usersData is the users list's Data.
type usersData struct {
	Users []domain.User
	// After is the username this page starts after; Next, the one the next
	// page starts after (empty on the last page).
	After, Next string
	// Directory names the org's remote directory, whose locked accounts
	// only are listed; empty for builtin.
	Directory string
	// Problem says why the directory's list is missing.
	Problem string
}

// usersPage lists the org's users by username, a page at a time.
func (u *ui) usersPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	org, err := u.orgFor(r, v)
	if err != nil {
		return err
	}
	d := usersData{After: r.URL.Query().Get("after")}
	dir, err := u.directoryOf(org)
	switch {
	case err != nil:
		return err
	case dir != nil:
		d.Directory = dir.Name()
		d.Users, err = u.listRemote(r.Context(), org, dir, d.After, usersPerPage)
		if err != nil && !shownOnPage(err) {
			return err
		}
		if err != nil {
			d.Problem = errorMessage(err)
		}
	default:
		d.Users, err = u.Store.ListUsers(r.Context(), org.Slug, store.UserFilter{AfterUsername: d.After, Limit: usersPerPage})
		if err != nil {
			return err
		}
	}
	if len(d.Users) == usersPerPage {
		d.Next = d.Users[len(d.Users)-1].Username
	}
	return u.render(w, r, http.StatusOK, "users", orgView(v, org, "users", "Users", d))
}
