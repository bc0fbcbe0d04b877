package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on free text, in bytes. Every way in (API, web UI, CSV import,
// command line) reaches the same checks below, so the same value is
// accepted or refused, with the same words, whichever way it comes.
const (
	// MaxNameBytes bounds org, contact and display names.
	MaxNameBytes = 200
	// MaxEmailBytes bounds an address: RFC 5321's limit on a path.
	MaxEmailBytes = 254
	// MaxNoteBytes bounds an operator's note on a lock, an approval or a
	// rejection.
	MaxNoteBytes = 1000
)

// CheckName returns name without the white space around it, or an error
// naming field when it is longer than MaxNameBytes or is not UTF-8 text
// without control characters. An empty name passes: the caller says
// whether one is required.
func CheckName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	if err := checkText(field, name, MaxNameBytes, false); err != nil {
		return "", err
	}
	return name, nil
}

// RequireName is CheckName for a name that must not be empty.
func RequireName(field, name string) (string, error) {
	name, err := CheckName(field, name)
	if err == nil && name == "" {
		err = invalidf("%s must not be empty", field)
	}
	return name, err
}

// CheckEmail checks the length of an address already normalised (see
// internal/address, which parses it), naming field.
func CheckEmail(field, addr string) error {
	if len(addr) > MaxEmailBytes {
		return invalidf("%s is longer than %d bytes", field, MaxEmailBytes)
	}
	return nil
}

// CheckNote returns an optional note (of a lock, say) without the white
// space around it, with the bounds every note has: at most MaxNoteBytes
// of UTF-8 text, line breaks and tabs but no other control characters.
func CheckNote(note string) (string, error) { return checkNote(note, "") }

// checkNote returns an operator's note without the white space around it.
// why, when set, makes the note required and says what it must tell; a
// note is at most MaxNoteBytes of UTF-8 text, with line breaks and tabs
// but no other control characters.
func checkNote(note, why string) (string, error) {
	note = strings.TrimSpace(note)
	if note == "" && why != "" {
		return "", invalidf("note is required: %s", why)
	}
	if err := checkText("note", note, MaxNoteBytes, true); err != nil {
		return "", err
	}
	return note, nil
}

// checkText bounds a free-text field and refuses invalid UTF-8 and control
// characters (but line breaks and tabs when multiline).
func checkText(field, s string, max int, multiline bool) error {
	switch {
	case len(s) > max:
		return invalidf("%s is longer than %d bytes", field, max)
	case !utf8.ValidString(s):
		return invalidf("%s is not valid UTF-8", field)
	}
	bad := strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t'))
	})
	if bad >= 0 {
		return invalidf("%s %.64q contains a control character", field, s)
	}
	return nil
}
