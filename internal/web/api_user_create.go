package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/address"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
)

// userCreate is the body of POST /orgs/{org}/users. The password is
// optional; without one the user cannot sign in until one is set. One that
// is given, "" included, must pass domain.CheckPassword.
type userCreate struct {
	Username    string         `json:"username"`
	DisplayName string         `json:"display_name"`
	Email       string         `json:"email"`
	Password    optionalString `json:"password"`
}

// apiUserCreate adds a user to the org, active. A username taken in the org
// is a conflict.
func (s *Server) apiUserCreate(w http.ResponseWriter, r *http.Request, p Principal) error {
	slug, err := orgParam(r)
	if err != nil {
		return err
	}
	var in userCreate
	if err := readJSONBody(r, &in, false); err != nil {
		return err
	}
	u, err := in.user()
	if err != nil {
		return err
	}
	if in.Password.Set {
		if u.PasswordHash, err = s.signInHashes.Hash(r.Context(), in.Password.Value, password.Default); err != nil {
			return s.hashBusy(w, err)
		}
	}
	if u, err = s.Store.CreateUser(r.Context(), slug, u, p.Actor, source(r.Context())); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toUserJSON(slug, u, s.Now()))
	return nil
}

// user checks the body as the store will (address.Check,
// domain.User.Normalize), before the password is hashed; the caller
// hashes it, if one is given.
func (in userCreate) user() (domain.User, error) {
	u := domain.User{Username: in.Username, DisplayName: in.DisplayName}
	if in.Email != "" {
		email, err := address.Check("email", in.Email)
		if err != nil {
			return u, err
		}
		u.Email = email
	}
	if err := u.Normalize(); err != nil {
		return u, err
	}
	if in.Password.Set {
		if err := domain.CheckPassword(in.Password.Value, u.Username, u.Email, u.DisplayName); err != nil {
			return u, err
		}
	}
	return u, nil
}
