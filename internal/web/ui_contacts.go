package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// contactsPerPage is the length of a page of the contacts list.
const contactsPerPage = 50

// contactsData is the contacts page's Data.
type contactsData struct {
	Contacts []domain.Contact
	// After is the address this page starts after; Next, the one the next
	// page starts after (empty on the last page).
	After, Next string
}

// contactsPage lists the org's authorised contacts, a page at a time. Staff
// also see which other orgs share each address, and the forms to add and
// remove contacts; an admin only sees the list.
func (u *ui) contactsPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	org, err := u.orgFor(r, v)
	if err != nil {
		return err
	}
	d := contactsData{After: r.URL.Query().Get("after")}
	d.Contacts, err = u.Store.ListContacts(r.Context(), org.Slug, store.ContactFilter{AfterEmail: d.After, Limit: contactsPerPage})
	if err != nil {
		return err
	}
	if len(d.Contacts) == contactsPerPage {
		d.Next = d.Contacts[len(d.Contacts)-1].Email
	}
	if !v.Principal.Staff() {
		for i := range d.Contacts {
			d.Contacts[i].SharedWith = nil // other orgs' names are staff's to see
		}
	}
	return u.render(w, r, http.StatusOK, "contacts", orgView(v, org, "contacts", "Contacts", d))
}
