package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/address"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// userPatch is the body of PATCH /orgs/{org}/users/{username}: the fields
// given change; an empty email clears the address.
type userPatch struct {
	DisplayName optionalString `json:"display_name"`
	Email       optionalString `json:"email"`
}

// change checks the body as the store will (address.Check; the store
// applies domain.User.Normalize) and returns the change.
func (in userPatch) change() (store.UserChange, error) {
	var c store.UserChange
	if !in.DisplayName.Set && !in.Email.Set {
		return c, domain.Errorf(domain.CodeInvalid, "no field to change: give display_name, email or both")
	}
	if in.DisplayName.Set {
		c.DisplayName = &in.DisplayName.Value
	}
	if in.Email.Set {
		email := in.Email.Value
		if email != "" {
			var err error
			if email, err = address.Check("email", email); err != nil {
				return c, err
			}
		}
		c.Email = &email
	}
	return c, nil
}

// apiUserUpdate changes a user's display name or address, with an audit
// entry naming what changed.
func (s *Server) apiUserUpdate(w http.ResponseWriter, r *http.Request, p Principal) error {
	org, username, err := userParams(r)
	if err != nil {
		return err
	}
	var in userPatch
	if err := readJSONBody(r, &in, false); err != nil {
		return err
	}
	c, err := in.change()
	if err != nil {
		return err
	}
	u, err := s.updateUser(r.Context(), p, org, username, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUserJSON(org, u, s.Now()))
	return nil
}
