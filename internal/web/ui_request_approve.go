package web

import (
	"fmt"
	"net/http"
)

// approveRequest approves a pending request, which unlocks its user and
// answers the contact. A request decided already (by anyone, through any
// channel) is reported on the queue page and changes nothing.
func (u *ui) approveRequest(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := requestID(r)
	if err != nil {
		return err
	}
	req, err := u.approve(r.Context(), v.Principal, id, "")
	return u.done(w, r, "/queue", err, fmt.Sprintf("Request #%d approved: %s is unlocked.", id, req.Username))
}
