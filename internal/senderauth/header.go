package senderauth

import "strings"

// tagList parses a DKIM tag=value list (RFC 6376 §3.2). Whitespace is
// removed from values, since it is folding whitespace there. ok is false
// when the list is malformed or repeats a tag.
func tagList(s string) (tags map[string]string, ok bool) {
	tags = make(map[string]string)
	for _, spec := range strings.Split(s, ";") {
		k, v, found := strings.Cut(spec, "=")
		if !found {
			if strings.TrimSpace(spec) == "" {
				continue
			}
			return tags, false
		}
		k = strings.TrimSpace(k)
		if _, dup := tags[k]; dup {
			return tags, false
		}
		tags[k] = strings.Join(strings.Fields(v), "")
	}
	return tags, true
}

// stripComments removes RFC 5322 comments, "(...)" possibly nested, from
// a header value, leaving quoted strings alone. Each comment becomes a
// space so that the tokens around it stay apart.
func stripComments(s string) string {
	var b strings.Builder
	depth := 0
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && (quoted || depth > 0):
			// A quoted-pair: keep it inside quotes, drop it inside comments.
			if depth == 0 {
				b.WriteByte(c)
				if i+1 < len(s) {
					b.WriteByte(s[i+1])
				}
			}
			i++
		case quoted:
			b.WriteByte(c)
			if c == '"' {
				quoted = false
			}
		case c == '(':
			if depth == 0 {
				b.WriteByte(' ')
			}
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
			// inside a comment
		case c == '"':
			quoted = true
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
