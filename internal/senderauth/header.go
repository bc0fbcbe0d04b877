package senderauth

import (
	"bytes"
	"strings"
)

// field is one header field, unfolded: continuation lines are joined with
// their line breaks removed.
type field struct {
	key   string
	value string
}

// headerFields splits the header of raw into fields, top to bottom. It reads
// the way go-msgauth's DKIM verifier does (a line starting with a space or
// tab continues the previous field; the header ends at the first empty line
// or at the end of raw), so that the n-th DKIM-Signature found here is the
// n-th one go-msgauth verifies.
func headerFields(raw []byte) []field {
	var fields []field
	for len(raw) > 0 {
		var line []byte
		line, raw, _ = bytes.Cut(raw, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		if len(fields) > 0 && (line[0] == ' ' || line[0] == '\t') {
			fields[len(fields)-1].value += " " + strings.TrimSpace(string(line))
			continue
		}
		k, val, _ := strings.Cut(string(line), ":")
		fields = append(fields, field{key: strings.TrimSpace(k), value: strings.TrimSpace(val)})
	}
	return fields
}

// values returns the values of the fields named key, top to bottom.
func values(fields []field, key string) []string {
	var vs []string
	for _, f := range fields {
		if strings.EqualFold(f.key, key) {
			vs = append(vs, f.value)
		}
	}
	return vs
}

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
