package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/templates"
)

// pages holds one parsed template set per page of templates/web, each
// with the layout and the shared partials.
type pages map[string]*template.Template

// parsePages parses templates/web once: layout.html and partials.html
// with each other file, which is a page named by its base name.
func (u *ui) parsePages() (pages, error) {
	base, err := template.New("").Funcs(u.funcs()).ParseFS(templates.FS, "web/layout.html", "web/partials.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	files, err := fs.Glob(templates.FS, "web/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: list pages: %w", err)
	}
	p := pages{}
	for _, file := range files {
		name := strings.TrimSuffix(path.Base(file), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := base.Clone()
		if err == nil {
			t, err = t.ParseFS(templates.FS, file)
		}
		if err != nil {
			return nil, fmt.Errorf("web: parse page %s: %w", name, err)
		}
		p[name] = t
	}
	return p, nil
}

// view is what the layout renders: the page's own Data and what every page
// shows around it.
type view struct {
	Title string
	// Section is the main navigation entry to highlight: "queue", "orgs"
	// or "deadmail".
	Section string
	// Visit is nil on pages for visitors who are not signed in.
	Visit *visit
	// Org, when set, heads the page with the org's name and tabs; Tab is
	// the tab to highlight.
	Org   *domain.Org
	Tab   string
	Flash *flash
	Data  any
}

// orgView is the view of one of an org's tabs.
func orgView(v *visit, org domain.Org, tab, title string, data any) view {
	return view{Title: title + " · " + org.Name, Section: "orgs", Visit: v, Org: &org, Tab: tab, Data: data}
}

// render executes a page into a buffer and only then writes it, so that a
// template error never leaves half a page: it is returned instead, before
// anything is written. The flash message of the previous request, if any,
// is shown and cleared.
func (u *ui) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) error {
	t, ok := u.pages[name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	if v.Flash == nil {
		v.Flash = u.takeFlash(w, r)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
	return nil
}

// errorData is the error page's Data.
type errorData struct {
	Status     int
	StatusText string
	Message    string
}

// fail answers with the error page and the status of err's code. Internal
// errors are logged with their detail and shown with a generic message;
// nothing else of them reaches the page.
func (u *ui) fail(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	code := errorCode(err)
	if code == domain.CodeInternal || code == codeUnavailable {
		u.Log.Error("web UI request failed", "method", r.Method, "path", r.URL.Path,
			"request_id", httpRequestID(r.Context()), "client", clientAddr(r.Context()).String(), slog.Any("error", err))
	}
	st, msg := status(code), errorMessage(err)
	d := errorData{Status: st, StatusText: http.StatusText(st), Message: msg}
	if err := u.render(w, r, st, "error", view{Title: d.StatusText, Visit: v, Data: d}); err != nil {
		u.Log.Error("render error page", slog.Any("error", err))
		http.Error(w, msg, st)
	}
}

// flash is a one-time message shown on the page a form action redirects to.
type flash struct {
	Kind    string // "ok", "warn" or "error"
	Message string
}

const maxFlash = 500

// setFlash leaves a message for the next page, in a short-lived cookie. It
// holds no secret; the page escapes it like any other text.
func (u *ui) setFlash(w http.ResponseWriter, kind, msg string) {
	if len(msg) > maxFlash {
		msg = msg[:maxFlash]
	}
	u.setCookie(w, flashCookie, kind+"."+base64.RawURLEncoding.EncodeToString([]byte(msg)), 60, http.SameSiteLaxMode)
}

// takeFlash returns the message setFlash left, and clears it.
func (u *ui) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	c := u.cookieValue(r, flashCookie)
	if c == "" {
		return nil
	}
	u.setCookie(w, flashCookie, "", -1, http.SameSiteLaxMode)
	kind, enc, _ := strings.Cut(c, ".")
	msg, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || (kind != "ok" && kind != "warn" && kind != "error") || len(msg) == 0 || len(msg) > maxFlash {
		return nil
	}
	return &flash{Kind: kind, Message: string(msg)}
}

// done ends a form action the post/redirect/get way. Success, and errors
// the operator can act on (already decided, not locked, bad input), become
// a flash message on the page at to; any other error is returned, for the
// error page (not found, forbidden, internal).
func (u *ui) done(w http.ResponseWriter, r *http.Request, to string, err error, okMsg string) error {
	var de *directoryError
	switch domain.ErrorCode(err) {
	case domain.CodeConflict, domain.CodeInvalid, domain.CodeWeakPassword:
		u.setFlash(w, "error", domain.ErrorMessage(err))
	case domain.CodeInternal:
		// An org's directory that did not answer, or answered wrongly: a
		// message on the page the person came from, nothing done.
		if !errors.As(err, &de) {
			if err != nil {
				return err
			}
			u.setFlash(w, "ok", okMsg)
			break
		}
		u.setFlash(w, "error", errorMessage(err))
	default:
		if err != nil {
			return err
		}
		u.setFlash(w, "ok", okMsg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
