package store

import (
	"database/sql/driver"
	"strconv"
	"strings"
	"time"
)

// jsonRows renders rows as a JSON array of objects keyed by column, for
// PostgreSQL's json_populate_recordset: one parameter for a whole batch,
// so the server parses and binds a short statement instead of thousands
// of placeholders. ok is false when a value has no JSON form that
// PostgreSQL reads back as it would the value itself (bytes: bytea is not
// a JSON string); insertRows then binds placeholders.
func jsonRows(columns []string, rows [][]any) (out string, ok bool) {
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range rows {
		if len(r) != len(columns) {
			return "", false
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		for j, v := range r {
			if j > 0 {
				b.WriteByte(',')
			}
			appendJSONString(&b, columns[j])
			b.WriteByte(':')
			if !appendJSONValue(&b, v) {
				return "", false
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.String(), true
}

// appendJSONValue writes v, as database/sql would hand it to the driver, in
// JSON: null, a number, a boolean, a string, or a time in RFC 3339 with
// nanoseconds (PostgreSQL rounds it to microseconds, as it does a bound
// time). It reports false for any other kind of value.
func appendJSONValue(b *strings.Builder, v any) bool {
	v, err := driver.DefaultParameterConverter.ConvertValue(v)
	if err != nil {
		return false
	}
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		appendJSONString(b, v)
	case time.Time:
		appendJSONString(b, v.Format(time.RFC3339Nano))
	default: // float64, []byte
		return false
	}
	return true
}

// appendJSONString writes s as a JSON string. Bytes that are not UTF-8 go
// as they are, and NUL as \u0000: PostgreSQL refuses both, as it refuses
// them bound.
func appendJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
