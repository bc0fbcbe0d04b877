package mailparse

import (
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
)

// Limits that keep a hostile or huge message cheap: text beyond them is not
// needed to find usernames.
const (
	maxPartText  = 1 << 20 // bytes read from one text part
	maxTotalText = 2 << 20 // bytes of text kept from all parts
	maxDepth     = 16      // multipart nesting followed
	maxParts     = 500     // parts visited
)

// textKind says where a piece of text came from.
type textKind int

const (
	kindNone textKind = iota
	kindPlain
	kindHTML
)

type walker struct {
	parts int
	total int
}

// bodyText returns the text of e's body, before quotes and signatures are
// removed. Decoding problems and truncation end the walk quietly: whatever
// was decoded before them is kept.
func bodyText(e *message.Entity) string {
	w := &walker{}
	s, _ := w.entity(e, 0)
	return s
}

// mediaType returns the lower-case media type of e, "text/plain" when
// absent (RFC 2045 §5.2).
func mediaType(e *message.Entity) string {
	v := e.Header.Get("Content-Type")
	if strings.TrimSpace(v) == "" {
		return "text/plain"
	}
	t, _, err := mime.ParseMediaType(v)
	if t == "" && err != nil {
		t, _, _ = strings.Cut(v, ";")
	}
	return strings.ToLower(strings.TrimSpace(t))
}

// isAttachment reports whether e is a file rather than the message text:
// a disposition of attachment, or a file name in its Content-Disposition or
// Content-Type, even on an inline text part ("users.txt" shown inline was
// still written by whoever made the file).
func isAttachment(e *message.Entity) bool {
	if v := e.Header.Get("Content-Disposition"); v != "" {
		d, params, err := mime.ParseMediaType(v)
		if d == "" && err != nil {
			d, _, _ = strings.Cut(v, ";")
		}
		if strings.EqualFold(strings.TrimSpace(d), "attachment") || params["filename"] != "" ||
			strings.Contains(strings.ToLower(v), "filename") {
			return true
		}
	}
	_, params, _ := mime.ParseMediaType(e.Header.Get("Content-Type"))
	return params["name"] != ""
}

func (w *walker) entity(e *message.Entity, depth int) (string, textKind) {
	w.parts++
	if w.parts > maxParts || w.total >= maxTotalText || isAttachment(e) {
		return "", kindNone
	}
	t := mediaType(e)
	switch {
	case strings.HasPrefix(t, "multipart/"):
		if depth >= maxDepth {
			return "", kindNone
		}
		return w.multipart(e, t == "multipart/alternative", depth)
	case t == "text/plain":
		return w.read(e), kindPlain
	case t == "text/html":
		return htmlToText(w.read(e)), kindHTML
	}
	return "", kindNone
}

// multipart walks the parts of e. In an alternative it keeps the first
// non-empty plain text, else the first non-empty HTML text; otherwise it
// joins the texts of all parts.
func (w *walker) multipart(e *message.Entity, alternative bool, depth int) (string, textKind) {
	mr := e.MultipartReader()
	if mr == nil {
		return "", kindNone
	}
	var texts []string
	var plain, html string
	kind := kindNone
	for {
		p, err := mr.NextPart()
		if p == nil || (err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err)) {
			break // io.EOF, or a broken or truncated multipart
		}
		s, k := w.entity(p, depth+1)
		if strings.TrimSpace(s) == "" {
			continue
		}
		switch {
		case alternative && k == kindPlain && plain == "":
			plain = s
		case alternative && k == kindHTML && html == "":
			html = s
		case !alternative:
			texts = append(texts, s)
			kind = max(kind, k)
		}
		if w.parts > maxParts || w.total >= maxTotalText {
			break
		}
	}
	switch {
	case !alternative:
		return strings.Join(texts, "\n"), kind
	case plain != "":
		return plain, kindPlain
	case html != "":
		return html, kindHTML
	}
	return "", kindNone
}

// read returns up to maxPartText bytes of e's decoded body as valid UTF-8.
// Bytes that are not UTF-8 (an unknown or missing charset) are taken as
// ISO-8859-1, which never fails and keeps ASCII usernames intact.
func (w *walker) read(e *message.Entity) string {
	limit := min(maxPartText, maxTotalText-w.total)
	b, _ := io.ReadAll(io.LimitReader(e.Body, int64(limit)))
	w.total += len(b)
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			r = rune(b[0])
		}
		sb.WriteRune(r)
		b = b[n:]
	}
	return sb.String()
}
