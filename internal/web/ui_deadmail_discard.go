package web

import (
	"fmt"
	"net/http"
)

// discardMailForm deletes one dead mail unsent; staff only.
func (u *ui) discardMailForm(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := mailIDParam(r)
	if err != nil {
		return err
	}
	m, err := u.discardMail(r.Context(), v.Principal, id)
	return u.done(w, r, "/dead-mail", err, fmt.Sprintf("Mail %d to %s was discarded.", id, m.To))
}
