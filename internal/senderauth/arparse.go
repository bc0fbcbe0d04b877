package senderauth

import (
	"errors"
	"fmt"
	"strings"
)

// arHeader is one Authentication-Results header field (RFC 8601).
type arHeader struct {
	id      string // authserv-id
	results []arResult
}

// arResult is one resinfo: "dkim=pass header.d=acme.example".
type arResult struct {
	method string            // lower case, without a version
	value  string            // lower case
	props  map[string]string // "header.d", "smtp.mailfrom", "reason": value, quotes removed
}

// maxARResults bounds the results read from one header.
const maxARResults = 64

// parseAuthResults parses an Authentication-Results value. Comments are
// removed first; quoted strings are read whole, so a ";" or "=" inside
// quotes ends nothing (go-msgauth's authres.Parse splits there). The only
// version accepted is 1.
func parseAuthResults(v string) (arHeader, error) {
	segs, err := splitQuoted(stripComments(v), ';')
	if err != nil {
		return arHeader{}, err
	}
	head, err := words(segs[0])
	if err != nil {
		return arHeader{}, err
	}
	if len(head) == 0 || len(head) > 2 {
		return arHeader{}, errors.New("malformed authserv-id")
	}
	if len(head) == 2 && head[1] != "1" {
		return arHeader{}, fmt.Errorf("unsupported version %q", head[1])
	}
	h := arHeader{id: unquote(head[0])}
	for _, seg := range segs[1:] {
		ws, err := words(seg)
		if err != nil {
			return h, err
		}
		if len(ws) == 0 || (len(ws) == 1 && strings.EqualFold(ws[0], "none")) {
			continue
		}
		if len(h.results) == maxARResults {
			return h, errors.New("too many results")
		}
		r, err := parseResult(ws)
		if err != nil {
			return h, err
		}
		h.results = append(h.results, r)
	}
	return h, nil
}

// parseResult reads the words of one resinfo: "method[/version]=result"
// followed by "key=value" pairs.
func parseResult(ws []string) (arResult, error) {
	method, value, ok := strings.Cut(ws[0], "=")
	if !ok || method == "" || value == "" {
		return arResult{}, fmt.Errorf("malformed result %q", ws[0])
	}
	method, _, _ = strings.Cut(method, "/")
	if !isKeyword(method) {
		return arResult{}, fmt.Errorf("malformed method %q", method)
	}
	r := arResult{method: strings.ToLower(method), value: strings.ToLower(unquote(value)), props: map[string]string{}}
	for _, w := range ws[1:] {
		k, val, ok := strings.Cut(w, "=")
		if !ok || !isKeyword(k) {
			return r, fmt.Errorf("malformed property %q", w)
		}
		k = strings.ToLower(k)
		if _, dup := r.props[k]; dup {
			return r, fmt.Errorf("property %s repeated", k)
		}
		r.props[k] = unquote(val)
	}
	return r, nil
}

// splitQuoted splits s at sep outside quoted strings.
func splitQuoted(s string, sep byte) ([]string, error) {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if quoted {
		return nil, errors.New("unterminated quoted string")
	}
	return append(out, s[start:]), nil
}

// words splits s at white space outside quoted strings, after joining
// "a = b" into "a=b" and "a / b" into "a/b".
func words(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\' && i+1 < len(s):
			cur.WriteByte(c)
			cur.WriteByte(s[i+1])
			i++
			continue
		case c == '"':
			quoted = !quoted
		case !quoted && isWSP(c):
			if next := nextNonSpace(s, i); cur.Len() > 0 && next < len(s) && !joins(s[next]) && !joinsAfter(cur.String()) {
				out = append(out, cur.String())
				cur.Reset()
			}
			i = nextNonSpace(s, i) - 1
			continue
		}
		cur.WriteByte(c)
	}
	if quoted {
		return nil, errors.New("unterminated quoted string")
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out, nil
}

// isKeyword reports whether s is a method or property name: letters,
// digits, "-", "_" and ".".
func isKeyword(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func nextNonSpace(s string, i int) int {
	for i < len(s) && isWSP(s[i]) {
		i++
	}
	return i
}

// joins reports whether c glues the word before it to the one after.
func joins(c byte) bool { return c == '=' || c == '/' || c == '.' }

func joinsAfter(w string) bool { return w != "" && joins(w[len(w)-1]) }

// unquote removes the quotes around a quoted string and its backslash
// escapes; other values come back unchanged.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	var b strings.Builder
	for i := 1; i < len(s)-1; i++ {
		if s[i] == '\\' && i+1 < len(s)-1 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
