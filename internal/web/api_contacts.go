package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/store"
)

// apiContacts lists the org's authorised contacts by address; staff also
// see which other orgs share each address.
func (s *Server) apiContacts(w http.ResponseWriter, r *http.Request, p Principal) error {
	slug, err := orgParam(r)
	if err != nil {
		return err
	}
	if err := checkListQuery(r, "limit", "cursor"); err != nil {
		return err
	}
	pg, err := readListPage(r, cursorContacts)
	if err != nil {
		return err
	}
	contacts, err := s.Store.ListContacts(r.Context(), slug, store.ContactFilter{AfterEmail: pg.after, Limit: pg.limit})
	if err != nil {
		return err
	}
	views := make([]contactJSON, len(contacts))
	for i, c := range contacts {
		views[i] = toContactJSON(c, p)
	}
	return writeListJSON(w, pg, views, func(c contactJSON) string { return c.Email })
}
