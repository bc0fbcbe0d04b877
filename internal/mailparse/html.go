package mailparse

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxHTMLDepth bounds the element nesting that htmlToText follows.
const maxHTMLDepth = 200

// htmlToText renders an HTML body as plain text: tags stripped, script,
// style and head dropped, entities decoded, block elements on their own
// lines. Quotes and signatures that mail clients mark up (blockquote,
// Gmail's gmail_signature, Thunderbird's moz-signature, Outlook's
// id="Signature") are dropped too, since SPEC §3 ignores them; reply
// headers such as "On ... wrote:" stay, for cleanText to cut at.
func htmlToText(src string) string {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return ""
	}
	var r htmlRenderer
	r.node(doc, 0)
	return r.String()
}

type htmlRenderer struct {
	strings.Builder
	pre int
}

func (r *htmlRenderer) newline() {
	s := r.String()
	if s != "" && !strings.HasSuffix(s, "\n") {
		r.WriteByte('\n')
	}
}

func (r *htmlRenderer) node(n *html.Node, depth int) {
	if depth > maxHTMLDepth {
		return
	}
	switch n.Type {
	case html.TextNode:
		r.text(n.Data)
		return
	case html.CommentNode, html.DoctypeNode:
		return
	case html.ElementNode:
		if skipElement(n) {
			return
		}
	}
	block := n.Type == html.ElementNode && isBlock(n.DataAtom)
	if block {
		r.newline()
	}
	if n.DataAtom == atom.Pre {
		r.pre++
	}
	if n.DataAtom == atom.Br {
		r.WriteByte('\n')
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		r.node(c, depth+1)
	}
	if n.DataAtom == atom.Pre {
		r.pre--
	}
	if block {
		r.newline()
	}
}

// text writes a text node, collapsing white space outside <pre>.
func (r *htmlRenderer) text(s string) {
	if r.pre > 0 {
		r.WriteString(s)
		return
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		if s != "" && !strings.HasSuffix(r.String(), "\n") && !strings.HasSuffix(r.String(), " ") && r.Len() > 0 {
			r.WriteByte(' ')
		}
		return
	}
	cur := r.String()
	if startsWithSpace(s) && cur != "" && !strings.HasSuffix(cur, "\n") && !strings.HasSuffix(cur, " ") {
		r.WriteByte(' ')
	}
	r.WriteString(strings.Join(fields, " "))
	if endsWithSpace(s) {
		r.WriteByte(' ')
	}
}

func startsWithSpace(s string) bool {
	return s != "" && strings.ContainsRune(" \t\r\n\f", rune(s[0]))
}

func endsWithSpace(s string) bool {
	return s != "" && strings.ContainsRune(" \t\r\n\f", rune(s[len(s)-1]))
}

func skipElement(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Head, atom.Title, atom.Noscript,
		atom.Template, atom.Blockquote, atom.Object, atom.Iframe, atom.Svg:
		return true
	}
	for _, a := range n.Attr {
		switch a.Key {
		case "hidden":
			return true
		case "style":
			if hiddenStyle(a.Val) {
				return true
			}
		case "class":
			for _, c := range strings.Fields(a.Val) {
				switch c {
				case "gmail_signature", "moz-signature":
					return true
				}
			}
		case "id":
			if a.Val == "Signature" {
				return true
			}
		}
	}
	return false
}

// hiddenStyle reports whether an inline style hides its element from the
// reader: display:none, visibility:hidden, a zero font size, opacity or
// height. Text the reader cannot see names no one.
func hiddenStyle(style string) bool {
	for decl := range strings.SplitSeq(strings.ToLower(style), ";") {
		k, v, ok := strings.Cut(decl, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "!important"))
		switch k {
		case "display":
			if v == "none" {
				return true
			}
		case "visibility":
			if v == "hidden" || v == "collapse" {
				return true
			}
		case "font-size", "opacity", "max-height", "height":
			if zeroLength(v) {
				return true
			}
		}
	}
	return false
}

// zeroLength reports whether a CSS value is zero in any unit ("0", "0px",
// "0.0em", "0%").
func zeroLength(v string) bool {
	v = strings.TrimRight(v, "abcdefghijklmnopqrstuvwxyz%")
	if v == "" {
		return false
	}
	for _, c := range v {
		if c != '0' && c != '.' {
			return false
		}
	}
	return true
}

func isBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Li, atom.Ul, atom.Ol, atom.Tr,
		atom.Table, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Hr, atom.Pre, atom.Section, atom.Article, atom.Header,
		atom.Footer, atom.Dl, atom.Dt, atom.Dd, atom.Address, atom.Center,
		atom.Form, atom.Main, atom.Nav, atom.Aside, atom.Body, atom.Html:
		return true
	}
	return false
}
