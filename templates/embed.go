// Package templates holds the templates unlockd renders, embedded into the
// binary. Mail templates live under mail/: a text/template (*.txt.tmpl) and
// an html/template (*.html.tmpl) per kind of mail. Operators may override
// any file by putting one of the same name in the directory named by the
// templates_dir configuration key.
//
// The web UI's pages (html/template) and its stylesheet live under web/;
// they are part of the program and are not overridden.
package templates

import "embed"

// FS holds the embedded templates, addressed by their path under this
// directory (for example "mail/reply.txt.tmpl" or "web/queue.html").
//
//go:embed mail/*.tmpl web/*.html web/*.css
var FS embed.FS
