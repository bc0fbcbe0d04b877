package web

import (
	"fmt"
	"net/http"
)

// rejectRequest declines a pending request with a note, which the answer to
// the contact carries; the user stays locked.
func (u *ui) rejectRequest(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := requestID(r)
	if err != nil {
		return err
	}
	req, err := u.reject(r.Context(), v.Principal, id, r.PostForm.Get("note"))
	return u.done(w, r, "/queue", err, fmt.Sprintf("Request #%d declined; %s stays locked.", id, req.Username))
}
