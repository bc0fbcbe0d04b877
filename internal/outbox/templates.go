package outbox

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"

	"github.com/unlockd/unlockd/templates"
)

// Template names, relative to the templates' mail/ folder and to an
// operator's templates_dir.
const (
	tmplReply        = "reply"
	tmplNotifyAdmins = "notify_admins"
	tmplNotifyStaff  = "notify_staff"
	tmplNotifyDigest = "notify_digest"
)

// mailTemplate is one kind of mail: a text template, which may define a
// "subject" template, and an HTML template.
type mailTemplate struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// loadTemplates parses every mail template once: from overrideDir when it
// holds a file of that name (either directly or under mail/), otherwise
// from the embedded defaults.
func loadTemplates(overrideDir string) (map[string]mailTemplate, error) {
	out := map[string]mailTemplate{}
	for _, name := range []string{tmplReply, tmplNotifyAdmins, tmplNotifyStaff, tmplNotifyDigest} {
		src, where, err := readTemplate(overrideDir, name+".txt.tmpl")
		if err != nil {
			return nil, err
		}
		t, err := texttemplate.New(name + ".txt.tmpl").Option("missingkey=error").Parse(src)
		if err != nil {
			return nil, fmt.Errorf("outbox: parse template %s: %w", where, err)
		}
		src, where, err = readTemplate(overrideDir, name+".html.tmpl")
		if err != nil {
			return nil, err
		}
		h, err := htmltemplate.New(name + ".html.tmpl").Option("missingkey=error").Parse(src)
		if err != nil {
			return nil, fmt.Errorf("outbox: parse template %s: %w", where, err)
		}
		out[name] = mailTemplate{text: t, html: h}
	}
	return out, nil
}

// readTemplate returns a template's source and where it came from.
func readTemplate(overrideDir, file string) (src, where string, err error) {
	if overrideDir != "" {
		for _, p := range []string{filepath.Join(overrideDir, "mail", file), filepath.Join(overrideDir, file)} {
			b, err := os.ReadFile(p)
			if err == nil {
				return string(b), p, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", "", fmt.Errorf("outbox: read template: %w", err)
			}
		}
	}
	b, err := fs.ReadFile(templates.FS, "mail/"+file)
	if err != nil {
		return "", "", fmt.Errorf("outbox: embedded template %s: %w", file, err)
	}
	return string(b), "embedded mail/" + file, nil
}

// execute renders t with data into its subject (empty when the text
// template defines none), text and HTML.
func (t mailTemplate) execute(data any) (subject, text, html string, err error) {
	var b bytes.Buffer
	if sub := t.text.Lookup("subject"); sub != nil {
		if err := sub.Execute(&b, data); err != nil {
			return "", "", "", fmt.Errorf("outbox: render %s subject: %w", t.text.Name(), err)
		}
		subject = oneLine(b.String())
		b.Reset()
	}
	if err := t.text.Execute(&b, data); err != nil {
		return "", "", "", fmt.Errorf("outbox: render %s: %w", t.text.Name(), err)
	}
	text = b.String()
	b.Reset()
	if err := t.html.Execute(&b, data); err != nil {
		return "", "", "", fmt.Errorf("outbox: render %s: %w", t.html.Name(), err)
	}
	return subject, text, b.String(), nil
}

// oneLine folds s into a single line fit for a header: control characters
// and runs of white space become one space.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
