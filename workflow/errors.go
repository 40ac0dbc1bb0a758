package workflow

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an Error; the web layer maps each code to one HTTP status.
type Code string

// Error codes. They are stable: API clients read them from error.code.
const (
	EInvalid       Code = "invalid"       // malformed request: bad JSON, wrong types (400)
	EUnprocessable Code = "unprocessable" // well-formed but breaks a rule; Details name the fields (422)
	ENotFound      Code = "not_found"     // missing or outside the caller's scope (404)
	EConflict      Code = "conflict"      // wrong state, lost a race, duplicate (409)
	EForbidden     Code = "forbidden"     // the caller's role may not do this (403)
	EUnauthorized  Code = "unauthorized"  // no or expired session (401)
	ETooLarge      Code = "too_large"     // body or file over its limit (413)
	EUnsupported   Code = "unsupported"   // file type not accepted (415)
	ETooMany       Code = "too_many"      // throttled (429)
	EUnavailable   Code = "unavailable"   // database unreachable, shutting down (503)
	EInternal      Code = "internal"      // a bug or an I/O failure; logged once (500)
)

// Detail is one reason an input was refused, tied to a field where there is one.
type Detail struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type of grantflow. Message is safe to show a user
// (Bahasa Indonesia); Err, when set, is the underlying cause for the logs.
type Error struct {
	Code    Code
	Message string
	Details []Detail
	Err     error
	// RetryAfter, when set, tells a throttled or refused client when to try again.
	RetryAfter time.Duration
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error of the given code that keeps err as its cause.
func Wrap(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns the code of the first *Error in err's chain, EInternal for
// any other non-nil error and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// Problems collects field-level reasons so that a validation reports every
// failing rule at once instead of the first.
type Problems []Detail

// Add records a reason for field.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, Detail{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when no problem was recorded, else an EUnprocessable *Error
// with message msg and every recorded reason as details.
func (p Problems) Err(msg string) error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: EUnprocessable, Message: msg, Details: append([]Detail(nil), p...)}
}
