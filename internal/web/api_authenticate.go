package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
)

// credentials is the body of POST /orgs/{org}/authenticate.
type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// apiAuthenticate checks a user's password for the host application and
// counts the attempt (SPEC §2): {"result": "ok"|"invalid"|"locked"}. An
// unknown user is "invalid", in the same time as a wrong password. The
// check runs in the host application's own share of password hashing
// (SignInLimits.AuthenticateHashes); when that is full past the wait, 429
// with Retry-After.
func (s *Server) apiAuthenticate(w http.ResponseWriter, r *http.Request, _ Principal) error {
	slug, err := orgParam(r)
	if err != nil {
		return err
	}
	var in credentials
	if err := readJSONBody(r, &in, false); err != nil {
		return err
	}
	if err := domain.ValidateUsername(in.Username); err != nil {
		return err
	}
	if in.Password == "" {
		return domain.Errorf(domain.CodeInvalid, "password is required")
	}
	if err := checkLength("password", in.Password, password.MaxLength); err != nil {
		return err
	}
	result, err := s.Store.Authenticate(r.Context(), s.authHashes, slug, in.Username, in.Password, source(r.Context()))
	if err != nil {
		return s.hashBusy(w, err)
	}
	writeJSON(w, http.StatusOK, map[string]domain.LoginResult{"result": result})
	return nil
}
