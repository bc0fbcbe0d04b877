package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// queueData is the queue page's Data.
type queueData struct {
	// OrgSlug is the org the queue is narrowed to; empty for every org.
	OrgSlug  string
	Requests []store.Request
}

// queuePage lists the pending requests the operator may decide, oldest
// first, with their evidence: staff see every org's (or one org's, with
// ?org=), admins their own org's.
func (u *ui) queuePage(w http.ResponseWriter, r *http.Request, v *visit) error {
	slug := r.URL.Query().Get("org")
	if slug == "" {
		slug = v.Principal.Scope()
	} else if err := v.Principal.Org(slug); err != nil {
		return err
	} else if _, err := u.Store.Org(r.Context(), slug); err != nil {
		return err
	}
	reqs, err := u.Store.ListRequests(r.Context(), store.RequestFilter{OrgSlug: slug, State: domain.ItemPending, Limit: store.MaxLimit})
	if err != nil {
		return err
	}
	return u.render(w, r, http.StatusOK, "queue", view{Title: "Queue", Section: "queue", Visit: v,
		Data: queueData{OrgSlug: slug, Requests: reqs}})
}
