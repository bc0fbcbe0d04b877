package web

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// A user is what the API's hot paths answer with, so it is written
// without reflection: in a profile of GET .../users/{username} under load,
// encoding/json took about 5% of the server's CPU. appendJSON writes
// exactly what encoding/json's Encoder writes for a userJSON, newline
// included (FuzzUserJSON holds it to that).

// appendJSON appends v as encoding/json's Encoder writes it.
func (v userJSON) appendJSON(b []byte) []byte {
	b = append(b, `{"org":`...)
	b = appendJSONString(b, v.Org)
	b = append(b, `,"username":`...)
	b = appendJSONString(b, v.Username)
	b = append(b, `,"display_name":`...)
	b = appendJSONString(b, v.DisplayName)
	b = append(b, `,"email":`...)
	b = appendJSONString(b, v.Email)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(v.Status))
	b = append(b, `,"lock":`...)
	if l := v.Lock; l == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"reason":`...)
		b = appendJSONString(b, string(l.Reason))
		b = append(b, `,"at":`...)
		b = appendJSONTime(b, l.At)
		b = append(b, `,"by":`...)
		b = appendJSONString(b, l.By)
		b = append(b, `,"note":`...)
		b = appendJSONString(b, l.Note)
		if l.ExpiresAt != nil {
			b = append(b, `,"expires_at":`...)
			b = appendJSONTime(b, *l.ExpiresAt)
		}
		b = append(b, '}')
	}
	b = append(b, `,"failed_logins":`...)
	b = strconv.AppendInt(b, int64(v.FailedLogins), 10)
	if v.LastFailedAt != nil {
		b = append(b, `,"last_failed_at":`...)
		b = appendJSONTime(b, *v.LastFailedAt)
	}
	b = append(b, `,"has_password":`...)
	b = strconv.AppendBool(b, v.HasPassword)
	return append(b, "}\n"...)
}

// appendJSONTime appends t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds, for the years it accepts).
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json quotes strings with
// HTML escaping on (the Encoder's default): ", \ and control characters
// escaped, <, > and & as \u003c, \u003e and \u0026, U+2028 and U+2029
// escaped, and bytes that are not UTF-8 replaced by \ufffd.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
