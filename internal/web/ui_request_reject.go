package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/unlockd/unlockd/internal/domain"
)

// rejectRequest declines a pending request with a note, which the answer to
// the contact carries; the user stays locked.
func (u *ui) rejectRequest(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := requestID(r)
	if err != nil {
		return err
	}
	note := strings.TrimSpace(r.PostForm.Get("note"))
	if note == "" {
		return u.done(w, r, "/queue", domain.Errorf(domain.CodeInvalid, "say why the request is declined: the contact reads the note"), "")
	}
	req, err := u.reject(r.Context(), v.Principal, id, note)
	return u.done(w, r, "/queue", err, fmt.Sprintf("Request #%d declined; %s stays locked.", id, req.Username))
}
