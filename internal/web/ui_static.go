package web

import (
	"net/http"

	"github.com/unlockd/unlockd/templates"
)

// stylesheet serves the UI's one stylesheet from the embedded templates.
func (u *ui) stylesheet(w http.ResponseWriter, r *http.Request) {
	css, err := templates.FS.ReadFile("web/style.css")
	if err != nil {
		u.fail(w, r, nil, err)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(css)
}
