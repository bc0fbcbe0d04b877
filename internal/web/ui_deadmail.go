package web

import (
	"net/http"
	"strconv"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// deadMailPerPage is the length of a page of the dead-mail list.
const deadMailPerPage = 50

// deadMailData is the dead-mail page's Data.
type deadMailData struct {
	Mail []store.DeadMail
	// After is the id this page starts after; Next, the one the next page
	// starts after (0 on the last page).
	After, Next int64
}

// deadMailPage lists mail the outbox gave up on, oldest first, with its
// last error and the buttons to retry or discard it; staff only.
func (u *ui) deadMailPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := v.Principal.Allow(domain.RoleStaff); err != nil {
		return err
	}
	var d deadMailData
	if after := r.URL.Query().Get("after"); after != "" {
		var err error
		if d.After, err = strconv.ParseInt(after, 10, 64); err != nil || d.After < 0 {
			return domain.Errorf(domain.CodeInvalid, "after must be a mail id")
		}
	}
	var err error
	if d.Mail, err = u.Store.ListDeadMail(r.Context(), store.DeadMailFilter{AfterID: d.After, Limit: deadMailPerPage}); err != nil {
		return err
	}
	if len(d.Mail) == deadMailPerPage {
		d.Next = d.Mail[len(d.Mail)-1].ID
	}
	return u.render(w, r, http.StatusOK, "deadmail", view{Title: "Dead mail", Section: "deadmail", Visit: v, Data: d})
}
