package domain

import (
	"errors"
	"fmt"
)

// Code classifies an error for callers: the HTTP layer maps each code to a
// status and the command line to an exit code, in one place each.
type Code string

// Error codes.
const (
	CodeInvalid   Code = "invalid"   // bad input
	CodeNotFound  Code = "not_found" // no such thing, or not visible to the caller
	CodeConflict  Code = "conflict"  // already exists, or already decided
	CodeForbidden Code = "forbidden" // the caller may not do this
	CodeRateLimit Code = "rate_limited"
	CodeGone      Code = "gone" // existed, but is used up or expired, such as a confirmation link
	CodeInternal  Code = "internal"
)

// Error is an error a user can act on: a code and a message safe to show.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.Message }

// Sentinel errors, matched with errors.Is.
var (
	ErrNotFound = &Error{Code: CodeNotFound, Message: "not found"}
	ErrConflict = &Error{Code: CodeConflict, Message: "conflict"}
)

// Is makes errors.Is(err, ErrNotFound) true for every *Error of that
// code, and likewise ErrConflict; any other *Error sentinel (such as
// ErrLockChanged) matches only itself.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t == ErrNotFound || t == ErrConflict)
}

// Errorf returns an *Error with code c.
func Errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, args...)}
}

func invalidf(format string, args ...any) *Error { return Errorf(CodeInvalid, format, args...) }

// ErrorCode returns the code of the first *Error in err's chain, or
// CodeInternal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic text that reveals nothing internal.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
