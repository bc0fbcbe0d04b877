package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
)

// signInData is the sign-in page's Data.
type signInData struct {
	Email string
	// CSRF is the form's double-submit token (see csrf.go).
	CSRF  string
	Next  string
	Error string
}

// signInPage shows the sign-in form; a signed-in operator goes on to the
// page they asked for.
func (u *ui) signInPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if _, err := u.loadVisit(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	u.renderSignIn(w, r, http.StatusOK, signInData{Next: next})
}

// Sign-in refusals from the HTTP layer; the store's are ErrSignInInvalid
// and ErrSignInLocked.
const msgClientThrottled = "too many sign-in attempts from your address, try again later"

// signIn checks the form's token, the client's sign-in budget, then the
// operator's email, password and (once enrolled) code, and starts a session
// under a new token (never one the browser brought). Every refusal is the
// sign-in page with one of a few fixed sentences: 401 for a wrong email,
// password or code, whichever it was; 429 with Retry-After for a locked
// address (known or not), a client over its budget, or no free hashing
// slot. An operator who must enrol a second factor and has not is sent to
// enrol (ui_totp.go) and can do nothing else until they have.
func (u *ui) signIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := u.checkCSRF(w, r, u.cookieValue(r, signInCookie)); err != nil {
		u.fail(w, r, nil, err)
		return
	}
	d := signInData{Email: strings.TrimSpace(r.PostForm.Get("email")), Next: localPath(r.PostForm.Get("next"))}
	if ok, wait := u.signInClients.take(clientAddr(ctx), u.Now()); !ok {
		u.refuseSignIn(w, r, d, rateLimited(w, wait, msgClientThrottled))
		return
	}
	op, err := u.Store.SignIn(ctx, u.signInHashes, store.Credentials{Email: d.Email,
		Password: r.PostForm.Get("password"), Code: r.PostForm.Get("code")}, source(ctx))
	var locked *store.SignInLockedError
	switch {
	case errors.Is(err, store.ErrSignInInvalid):
		u.refuseSignIn(w, r, d, domain.Errorf(codeUnauthorized, "%s", err.Error()))
		return
	case errors.As(err, &locked):
		u.refuseSignIn(w, r, d, rateLimited(w, locked.Until.Sub(u.Now()), err.Error()))
		return
	case errors.Is(err, password.ErrBusy):
		u.refuseSignIn(w, r, d, u.hashBusy(w, err))
		return
	case err != nil:
		u.fail(w, r, nil, err)
		return
	}
	if old := u.cookieValue(r, sessionCookie); old != "" {
		if err := u.Store.DeleteSession(ctx, old); err != nil {
			u.fail(w, r, nil, err)
			return
		}
	}
	token, _, err := u.Store.CreateSession(ctx, op)
	if err != nil {
		u.fail(w, r, nil, err)
		return
	}
	u.Log.Info("operator signed in", "operator", op.Email, "totp", op.TOTP,
		"request_id", httpRequestID(ctx), "client", clientAddr(ctx).String())
	u.setCookie(w, sessionCookie, token, 0, http.SameSiteLaxMode)
	u.setCookie(w, signInCookie, "", -1, http.SameSiteStrictMode)
	if u.mustEnrol(op.Role, op.TOTP) {
		http.Redirect(w, r, totpPath, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// refuseSignIn answers the form again with refusal's status and words.
func (u *ui) refuseSignIn(w http.ResponseWriter, r *http.Request, d signInData, refusal error) {
	ctx := r.Context()
	u.Log.Info("operator sign-in refused", "email", d.Email, "reason", domain.ErrorMessage(refusal),
		"request_id", httpRequestID(ctx), "client", clientAddr(ctx).String())
	d.Error = domain.ErrorMessage(refusal)
	u.renderSignIn(w, r, status(domain.ErrorCode(refusal)), d)
}

// renderSignIn renders the form with its double-submit token, setting the
// token's cookie when the browser has none.
func (u *ui) renderSignIn(w http.ResponseWriter, r *http.Request, status int, d signInData) {
	d.CSRF = u.formToken(w, r, signInCookie)
	if err := u.render(w, r, status, "signin", view{Title: "Sign in", Data: d}); err != nil {
		u.fail(w, r, nil, err)
	}
}

// mustEnrol reports whether an operator of role who has (enrolled) or has
// not a second factor must enrol one before anything else, per
// Config.RequireTOTP.
func (u *ui) mustEnrol(role domain.Role, enrolled bool) bool {
	switch {
	case enrolled:
		return false
	case u.RequireTOTP == RequireTOTPAll:
		return true
	case u.RequireTOTP == RequireTOTPNone:
		return false
	}
	return role == domain.RoleStaff
}
