package web

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strings"

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

// signIn checks the form's token, then the operator's email and password,
// and starts a session under a new token (never one the browser brought).
// Refusals say only "invalid email or password" or "account locked, try
// later".
func (u *ui) signIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := u.checkCSRF(w, r, u.cookieValue(r, signInCookie)); err != nil {
		u.fail(w, r, nil, err)
		return
	}
	d := signInData{Email: strings.TrimSpace(r.PostForm.Get("email")), Next: localPath(r.PostForm.Get("next"))}
	op, err := u.Store.SignIn(ctx, d.Email, r.PostForm.Get("password"), source(ctx))
	switch {
	case errors.Is(err, store.ErrSignInInvalid), errors.Is(err, store.ErrSignInLocked):
		u.Log.Info("operator sign-in refused", "email", d.Email, "reason", err.Error(), "request_id", source(ctx))
		d.Error = err.Error()
		st := http.StatusUnauthorized
		if errors.Is(err, store.ErrSignInLocked) {
			st = http.StatusTooManyRequests
		}
		u.renderSignIn(w, r, st, d)
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
	u.Log.Info("operator signed in", "operator", op.Email, "request_id", source(ctx))
	u.setCookie(w, sessionCookie, token, 0, http.SameSiteLaxMode)
	u.setCookie(w, signInCookie, "", -1, http.SameSiteStrictMode)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// renderSignIn renders the form with its double-submit token, setting the
// token's cookie when the browser has none.
func (u *ui) renderSignIn(w http.ResponseWriter, r *http.Request, status int, d signInData) {
	d.CSRF = u.cookieValue(r, signInCookie)
	if len(d.CSRF) < 26 {
		d.CSRF = rand.Text()
		u.setCookie(w, signInCookie, d.CSRF, 0, http.SameSiteStrictMode)
	}
	if err := u.render(w, r, status, "signin", view{Title: "Sign in", Data: d}); err != nil {
		u.fail(w, r, nil, err)
	}
}
