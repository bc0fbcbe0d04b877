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
}

// usersPage lists the org's users by username, a page at a time.
func (u *ui) usersPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	org, err := u.orgFor(r, v)
	if err != nil {
		return err
	}
	d := usersData{After: r.URL.Query().Get("after")}
	d.Users, err = u.Store.ListUsers(r.Context(), org.Slug, store.UserFilter{AfterUsername: d.After, Limit: usersPerPage})
	if err != nil {
		return err
	}
	if len(d.Users) == usersPerPage {
		d.Next = d.Users[len(d.Users)-1].Username
	}
	return u.render(w, r, http.StatusOK, "users", orgView(v, org, "users", "Users", d))
}
