package web

import "net/http"

// signOut ends the session, in the store and in the browser.
func (u *ui) signOut(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := u.Store.DeleteSession(r.Context(), v.token); err != nil {
		return err
	}
	u.setCookie(w, sessionCookie, "", -1, http.SameSiteLaxMode)
	u.setFlash(w, "ok", "You are signed out.")
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}
