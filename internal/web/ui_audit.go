package web

import (
	"net/http"
	"strconv"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// auditPerPage is the length of a page of the audit log.
const auditPerPage = 100

// auditData is the audit page's Data.
type auditData struct {
	Entries []domain.AuditEntry
	// Before is the id older entries start before; 0 on the last page.
	Before int64
}

// auditPage shows the org's audit log, newest first, a page at a time.
func (u *ui) auditPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	org, err := u.orgFor(r, v)
	if err != nil {
		return err
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	var d auditData
	d.Entries, err = u.Store.ListAudit(r.Context(), store.AuditFilter{OrgID: org.ID, BeforeID: before, Limit: auditPerPage})
	if err != nil {
		return err
	}
	if len(d.Entries) == auditPerPage {
		d.Before = d.Entries[len(d.Entries)-1].ID
	}
	return u.render(w, r, http.StatusOK, "audit", orgView(v, org, "audit", "Audit log", d))
}
