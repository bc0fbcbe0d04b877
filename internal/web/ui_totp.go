package web

import (
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/totp"
)

// totpPath is the page where an operator enrols a second factor.
const totpPath = "/account/totp"

// totpIssuer names unlockd in authenticator apps.
const totpIssuer = "unlockd"

// totpData is the enrolment page's Data.
type totpData struct {
	// Enrolled is set once the operator has a second factor.
	Enrolled bool
	// Required is set when the operator must enrol before going on.
	Required bool
	// Secret, QR and URI offer a fresh secret to enrol.
	Secret string
	QR     template.HTML
	URI    string
	Error  string
	// Codes are the recovery codes, shown once, right after enrolment.
	Codes []string
}

// totpPage shows whether the operator has a second factor and, if not, a
// fresh secret as a QR code and as text, with the form that confirms it.
// The secret is kept nowhere until a code made from it is entered.
func (u *ui) totpPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	if v.operator.TOTP {
		return u.render(w, r, http.StatusOK, "totp", view{Title: "Two-factor sign-in", Visit: v, Data: totpData{Enrolled: true}})
	}
	return u.renderEnrol(w, r, v, http.StatusOK, totp.NewSecret(), "")
}

func (u *ui) renderEnrol(w http.ResponseWriter, r *http.Request, v *visit, st int, secret, msg string) error {
	uri := totp.URI(totpIssuer, v.Email, secret)
	qr, err := qrSVG(uri)
	if err != nil {
		return err
	}
	d := totpData{Required: v.MustEnrol, Secret: secret, QR: qr, URI: uri, Error: msg}
	return u.render(w, r, st, "totp", view{Title: "Two-factor sign-in", Visit: v, Data: d})
}

// enrolTOTP checks a code made from the offered secret and, when it
// matches, stores the secret with fresh recovery codes, which it shows
// once. The confirming code's time step is recorded as used.
func (u *ui) enrolTOTP(w http.ResponseWriter, r *http.Request, v *visit) error {
	secret := r.PostForm.Get("secret")
	if _, err := totp.Code(secret, 0); err != nil || len(secret) != 32 {
		return domain.Errorf(domain.CodeInvalid, "the form's secret is malformed: reload the page and start again")
	}
	if v.operator.TOTP {
		return u.done(w, r, totpPath, domain.Errorf(domain.CodeConflict, "a second factor is enrolled already"), "")
	}
	code := strings.ReplaceAll(strings.TrimSpace(r.PostForm.Get("code")), " ", "")
	step, ok := totp.Match(secret, code, u.Now(), 0)
	if !ok {
		return u.renderEnrol(w, r, v, http.StatusUnprocessableEntity, secret,
			"that code does not match: check that the device's clock is right and enter the code it shows now")
	}
	codes := totp.NewRecoveryCodes(totp.RecoveryCodes)
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i] = totp.RecoveryHash(c)
	}
	if err := u.Store.EnrolTOTP(r.Context(), v.operator, secret, step, hashes, source(r.Context())); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return u.done(w, r, totpPath, err, "")
		}
		return err
	}
	u.Log.Info("operator enrolled a second factor", "operator", v.Email, "request_id", httpRequestID(r.Context()))
	v.MustEnrol = false
	w.Header().Set("Cache-Control", "no-store")
	return u.render(w, r, http.StatusOK, "totp", view{Title: "Two-factor sign-in", Visit: v, Data: totpData{Enrolled: true, Codes: codes}})
}
