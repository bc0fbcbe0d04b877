package sqltable

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A compiled statement is the configured text with its named parameters
// replaced by the driver's placeholders ($1, $2 … for PostgreSQL, ? for
// MySQL), and the parameter each placeholder stands for.
type compiled struct {
	query string
	// params names the value of each placeholder: for PostgreSQL the
	// distinct names in order of first use ($n is params[n-1]), for MySQL
	// one entry per occurrence.
	params []string
}

// uses reports whether the statement refers to parameter name.
func (c compiled) uses(name string) bool { return slices.Contains(c.params, name) }

// args returns the statement's arguments from the named values.
func (c compiled) args(values map[string]any) []any {
	args := make([]any, len(c.params))
	for i, p := range c.params {
		args[i] = values[p]
	}
	return args
}

// compile rewrites stmt's named parameters (:name, a letter or underscore
// then letters, digits or underscores) into the placeholders of the
// driver (mysql or not: PostgreSQL). Text inside string literals, quoted
// identifiers, dollar-quoted strings and comments is left alone, as are
// "::" casts and a colon right after a word or number (PostgreSQL's array
// slices, a[1:2]). A parameter not in allowed, a positional placeholder
// ($1 or ?) or an unterminated literal or comment is an error.
func compile(stmt string, mysql bool, allowed []string) (compiled, error) {
	var (
		b     strings.Builder
		c     compiled
		index = map[string]int{} // PostgreSQL: name → placeholder number
	)
	s := stmt
	for i := 0; i < len(s); {
		ch := s[i]
		var next byte
		if i+1 < len(s) {
			next = s[i+1]
		}
		prevWord := i > 0 && isWordByte(s[i-1])
		switch {
		case ch == '\'' || ch == '"' || (ch == '`' && mysql):
			end, err := endQuoted(s, i, ch, mysql && ch != '`')
			if err != nil {
				return compiled{}, err
			}
			b.WriteString(s[i:end])
			i = end
		case !mysql && (ch == 'E' || ch == 'e') && next == '\'' && !prevWord:
			end, err := endQuoted(s, i+1, '\'', true)
			if err != nil {
				return compiled{}, err
			}
			b.WriteString(s[i:end])
			i = end
		case !mysql && ch == '$' && !prevWord:
			if next >= '0' && next <= '9' {
				return compiled{}, fmt.Errorf("positional placeholder at offset %d: use named parameters such as :username", i)
			}
			end, err := endDollarQuoted(s, i)
			if err != nil {
				return compiled{}, err
			}
			b.WriteString(s[i:end])
			i = end
		case ch == '-' && next == '-' && (!mysql || i+2 >= len(s) || s[i+2] <= ' '),
			ch == '#' && mysql:
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				end = len(s) - i
			}
			b.WriteString(s[i : i+end])
			i += end
		case ch == '/' && next == '*':
			end, err := endBlockComment(s, i, !mysql)
			if err != nil {
				return compiled{}, err
			}
			b.WriteString(s[i:end])
			i = end
		case ch == '?' && mysql:
			return compiled{}, fmt.Errorf("positional placeholder ? at offset %d: use named parameters such as :username", i)
		case ch == ':' && next == ':':
			b.WriteString("::")
			i += 2
		case ch == ':' && isWordStart(next) && !prevWord:
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			name := s[i+1 : j]
			if !slices.Contains(allowed, name) {
				return compiled{}, fmt.Errorf("unknown parameter :%s (this statement takes :%s)", name, strings.Join(allowed, ", :"))
			}
			if mysql {
				b.WriteByte('?')
				c.params = append(c.params, name)
			} else {
				n, ok := index[name]
				if !ok {
					c.params = append(c.params, name)
					n = len(c.params)
					index[name] = n
				}
				b.WriteString("$" + strconv.Itoa(n))
			}
			i = j
		default:
			b.WriteByte(ch)
			i++
		}
	}
	c.query = b.String()
	return c, nil
}

func isWordStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isWordByte(c byte) bool { return isWordStart(c) || (c >= '0' && c <= '9') || c >= 0x80 }

// endQuoted returns the offset just past the literal opened by the quote
// at s[start]; a doubled quote stands for itself, and with backslash a
// backslash escapes the next byte.
func endQuoted(s string, start int, quote byte, backslash bool) (int, error) {
	for i := start + 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if backslash {
				i++
			}
		case quote:
			if i+1 < len(s) && s[i+1] == quote {
				i++
				continue
			}
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated %c literal starting at offset %d", quote, start)
}

// endDollarQuoted returns the offset just past the PostgreSQL dollar-quoted
// string ($$…$$ or $tag$…$tag$) at s[start], or start+1 when the dollar
// opens none.
func endDollarQuoted(s string, start int) (int, error) {
	j := start + 1
	for j < len(s) && isWordByte(s[j]) {
		j++
	}
	if j >= len(s) || s[j] != '$' {
		return start + 1, nil
	}
	tag := s[start : j+1]
	end := strings.Index(s[j+1:], tag)
	if end < 0 {
		return 0, fmt.Errorf("unterminated dollar-quoted string %s starting at offset %d", tag, start)
	}
	return j + 1 + end + len(tag), nil
}

// endBlockComment returns the offset just past the /* comment */ at
// s[start]; PostgreSQL's nest.
func endBlockComment(s string, start int, nested bool) (int, error) {
	depth := 0
	for i := start; i+1 < len(s); i++ {
		switch {
		case s[i] == '/' && s[i+1] == '*' && (nested || depth == 0):
			depth++
			i++
		case s[i] == '*' && s[i+1] == '/':
			depth--
			i++
			if depth == 0 {
				return i + 1, nil
			}
		}
	}
	return 0, fmt.Errorf("unterminated /* comment starting at offset %d", start)
}
