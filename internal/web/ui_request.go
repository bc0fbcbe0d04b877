package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// requestData is the request page's Data.
type requestData struct {
	Request store.Request
	// User is the requested user as it is now; zero for an unknown user.
	User domain.User
}

// requestPage shows one request with its evidence and, while it is
// pending, the approve and reject forms. Another org's request is not
// found.
func (u *ui) requestPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := requestID(r)
	if err != nil {
		return err
	}
	req, err := u.Store.Request(r.Context(), id, v.Principal.Scope())
	if err != nil {
		return err
	}
	d := requestData{Request: req}
	if req.OrgSlug != "" {
		d.User, err = u.Store.User(r.Context(), req.OrgSlug, req.Username)
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return err
		}
	}
	return u.render(w, r, http.StatusOK, "request", view{Title: "Request #" + strconv.FormatInt(id, 10),
		Section: "queue", Visit: v, Data: d})
}

// requestID reads the {id} of a request path; a malformed one is not
// found, like a missing one.
func requestID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.Errorf(domain.CodeNotFound, "request %q not found", r.PathValue("id"))
	}
	return id, nil
}
