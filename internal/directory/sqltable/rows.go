package sqltable

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
)

// Columns the lookup and list statements may return, by name. username,
// locked, lock_reason and locked_at are required; any other name is an
// error, so that a misspelt alias is not silently ignored.
var columns = map[string]bool{
	"username": true, "display_name": false, "email": false,
	"locked": true, "lock_reason": true, "locked_at": true, "lock_expires": false,
	"lock_note": false, "locked_by": false,
}

// maxText bounds a text column's value; a longer one is an error, not a
// truncation.
const maxText = 4096

// record is one row: each column's value by name.
type record map[string]any

// scanRecords reads at most limit rows of rows (all when limit < 0) after
// checking its columns.
func scanRecords(rows *sql.Rows, limit int) ([]record, error) {
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, n := range names {
		if _, ok := columns[n]; !ok {
			return nil, fmt.Errorf("unexpected column %q (the statement may return username, display_name, email, locked, lock_reason, locked_at, lock_expires, lock_note, locked_by)", n)
		}
		if seen[n] {
			return nil, fmt.Errorf("column %q returned twice", n)
		}
		seen[n] = true
	}
	for n, required := range columns {
		if required && !seen[n] {
			return nil, fmt.Errorf("the statement must return a column named %s", n)
		}
	}
	var out []record
	for (limit < 0 || len(out) < limit) && rows.Next() {
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		r := record{}
		for i, n := range names {
			r[n] = vals[i]
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// user maps r to a domain user whose lock's Mark records locked_at and the
// raw lock_reason (see mark).
func (d *Directory) user(r record) (domain.User, error) {
	var u domain.User
	var err error
	text := func(col string) string {
		if err != nil {
			return ""
		}
		var s string
		s, err = asText(col, r[col])
		return s
	}
	u.Username, u.DisplayName, u.Email = text("username"), text("display_name"), text("email")
	reason, note, by := text("lock_reason"), text("lock_note"), text("locked_by")
	if err != nil {
		return u, err
	}
	if u.Username == "" {
		return u, fmt.Errorf("a row has no username")
	}
	locked, err := asBool("locked", r["locked"])
	if err != nil || !locked {
		return u, err
	}
	at, err := asTime("locked_at", r["locked_at"])
	if err != nil {
		return u, err
	}
	if at.IsZero() {
		return u, fmt.Errorf("user %q is locked with no locked_at, which unlock needs to lift only this lock", u.Username)
	}
	expires, err := asTime("lock_expires", r["lock_expires"])
	if err != nil {
		return u, err
	}
	l := &domain.Lock{Reason: domain.LockAdmin, At: at, Expires: expires, Note: note, By: by, Mark: mark(at, reason)}
	if d.failed[reason] {
		l.Reason = domain.LockFailedLogins
	}
	u.Lock = l
	return u, nil
}

// mark is Lock.Mark for a lock at at with the raw reason: locked_at in UTC
// as RFC 3339 with nanoseconds, a space, then the reason.
func mark(at time.Time, reason string) string {
	return at.UTC().Format(time.RFC3339Nano) + " " + reason
}

// parseMark splits a Mark written by mark.
func parseMark(m string) (time.Time, string, error) {
	ts, reason, ok := strings.Cut(m, " ")
	at, err := time.Parse(time.RFC3339Nano, ts)
	if !ok || err != nil {
		return time.Time{}, "", fmt.Errorf("lock mark %q was not written by an sql directory", m)
	}
	return at, reason, nil
}

func asText(col string, v any) (string, error) {
	var s string
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		s = v
	case []byte:
		s = string(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	default:
		return "", fmt.Errorf("column %s: %T is not text", col, v)
	}
	if len(s) > maxText {
		return "", fmt.Errorf("column %s: %d bytes, more than %d", col, len(s), maxText)
	}
	return s, nil
}

func asBool(col string, v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case int64:
		if v == 0 || v == 1 {
			return v == 1, nil
		}
	case []byte, string:
		s, _ := asText(col, v)
		switch strings.ToLower(s) {
		case "1", "t", "true":
			return true, nil
		case "0", "f", "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("column %s: %v (%T) is not a boolean (true/false, 1/0)", col, v, v)
}

// asTime reads a timestamp column: time.Time from either driver, or text
// in RFC 3339 or "2006-01-02 15:04:05.999999" (UTC); NULL is the zero time.
func asTime(col string, v any) (time.Time, error) {
	switch v := v.(type) {
	case nil:
		return time.Time{}, nil
	case time.Time:
		return v, nil
	case []byte, string:
		s, _ := asText(col, v)
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
			if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("column %s: %v (%T) is not a timestamp", col, v, v)
}
