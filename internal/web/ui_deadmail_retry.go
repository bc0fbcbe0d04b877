package web

import (
	"fmt"
	"net/http"
)

// retryMailForm puts one dead mail back in the queue; staff only.
func (u *ui) retryMailForm(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := mailIDParam(r)
	if err != nil {
		return err
	}
	m, err := u.retryMail(r.Context(), v.Principal, id)
	return u.done(w, r, "/dead-mail", err, fmt.Sprintf("Mail %d to %s is queued again.", id, m.To))
}
