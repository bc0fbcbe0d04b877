package web

import (
	"net/http"
	"strconv"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// cursorDeadMail is the cursor kind of the dead-mail list (api_page.go).
const cursorDeadMail = "dead-mail"

// apiDeadMail lists dead mail, oldest first, with each one's last error;
// staff only.
func (s *Server) apiDeadMail(w http.ResponseWriter, r *http.Request, p Principal) error {
	if err := checkListQuery(r, "limit", "cursor"); err != nil {
		return err
	}
	pg, err := readListPage(r, cursorDeadMail)
	if err != nil {
		return err
	}
	f := store.DeadMailFilter{Limit: pg.limit}
	if f.AfterID, err = pg.afterID(); err != nil {
		return err
	}
	mails, err := s.Store.ListDeadMail(r.Context(), f)
	if err != nil {
		return err
	}
	views := make([]deadMailJSON, len(mails))
	for i, m := range mails {
		views[i] = toDeadMailJSON(m)
	}
	return writeListJSON(w, pg, views, func(v deadMailJSON) string { return strconv.FormatInt(v.ID, 10) })
}

// mailIDParam reads the {id} path value: a positive whole number.
func mailIDParam(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, domain.Errorf(domain.CodeInvalid, "mail id must be a positive whole number")
	}
	return id, nil
}
