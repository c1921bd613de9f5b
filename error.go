package leadwire

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each code to one status in one place.
const (
	EINVALID      = "invalid"                // the request or one of its fields is malformed (400)
	ENOTFOUND     = "not_found"              // the channel, lead or route does not exist (404)
	EMETHOD       = "method_not_allowed"     // the route exists but not with this method (405)
	ECONFLICT     = "conflict"               // an idempotency key was reused for another body (409)
	ETOOLARGE     = "too_large"              // the body is over the size limit (413)
	EUNSUPPORTED  = "unsupported_media_type" // the content type cannot be decoded (415)
	EFORBIDDEN    = "forbidden"              // the origin is not allowed to post to the channel, or the user may not do this (403)
	EUNAUTHORIZED = "unauthorized"           // no valid credential: a missing, revoked or unknown token or session, a wrong password (401)
	ETOOMANY      = "too_many_requests"      // too many failed sign-ins from this account or address; retry later (429)
	EUNAVAILABLE  = "unavailable"            // the store cannot take writes now (disk full, read-only, starting); retry later (503)
	EINTERNAL     = "internal"               // anything else; never caused by the client (500)
)

// Error is an application error: a code from the list above and a message
// for a person that names what was wrong.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err when it is or wraps an *Error, and
// EINTERNAL otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err when it is or wraps an *Error,
// and a generic message otherwise, so internal details never reach a client.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
