package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// userData is the user page's Data.
type userData struct {
	User  domain.User
	Audit []domain.AuditEntry
	// Directory names the org's remote directory, empty for builtin;
	// NoLock and NoPassword say why its lock and password forms are
	// disabled, when they are.
	Directory, NoLock, NoPassword string
}

// userPage shows one user, its lock and failed logins, the unlock, lock
// and generate-password forms, and the user's recent audit entries.
func (u *ui) userPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	org, err := u.orgFor(r, v)
	if err != nil {
		return err
	}
	var d userData
	dir, err := u.directoryOf(org)
	if err != nil {
		return err
	}
	if dir == nil {
		d.User, err = u.Store.User(r.Context(), org.Slug, r.PathValue("username"))
	} else {
		d.Directory = dir.Name()
		if c := dir.Capabilities(); !c.SetPassword {
			d.NoPassword = passwordUnsupported(dir.Name())
		}
		if !dir.Capabilities().Lock {
			d.NoLock = lockUnsupported(dir.Name())
		}
		ctx, cancel := u.waitDirectory(r.Context())
		defer cancel()
		d.User, err = remoteUser(ctx, org, dir, r.PathValue("username"))
	}
	if err != nil {
		return err
	}
	d.Audit, err = u.Store.ListAudit(r.Context(), store.AuditFilter{OrgID: org.ID, Target: d.User.Username, Limit: 20})
	if err != nil {
		return err
	}
	return u.render(w, r, http.StatusOK, "user", orgView(v, org, "users", d.User.Username, d))
}
