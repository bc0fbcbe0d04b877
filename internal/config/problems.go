package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Path is the key path at fault, such as "mailboxes[1].imap.address";
	// it is empty for a problem with the document as a whole.
	Path string
	// Message says what is wrong. Problems found by Load end with
	// "(line N)" when the line is known.
	Message string
}

// String formats p as "path: message".
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Problems is the error returned by [Load] and [Config.Validate]: every
// problem found, in the order found. Use errors.As to get at the list.
type Problems struct {
	List []Problem
}

// Error prints one "path: message" per line.
func (ps *Problems) Error() string {
	lines := make([]string, len(ps.List))
	for i, p := range ps.List {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// add records a problem at path.
func (ps *Problems) add(path, format string, args ...any) {
	ps.List = append(ps.List, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// has reports whether a problem is already recorded at path.
func (ps *Problems) has(path string) bool {
	for _, p := range ps.List {
		if p.Path == path {
			return true
		}
	}
	return false
}

// err returns ps as an error, or nil when there is no problem.
func (ps *Problems) err() error {
	if ps == nil || len(ps.List) == 0 {
		return nil
	}
	return ps
}
