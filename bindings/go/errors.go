// SPDX-License-Identifier: Apache-2.0

package providermux

/*
#include <providermux.h>
*/
import "C"

import (
	"encoding/json"
)

// Error is a failed library call or a stream that ended with an `error` event.
//
// errors.Is(err, ErrRateLimited) (and every other Err* sentinel) matches by Code. When a
// cancellation came from a context.Context, errors.Is(err, context.Canceled) (or
// context.DeadlineExceeded) is true as well.
type Error struct {
	Code       int32  // negative status, e.g. CodeTimeout
	StatusName string // e.g. "PMX_ERR_TIMEOUT"
	HTTPStatus int    // HTTP status of the provider's last answer, 0 when none
	Provider   string // provider of the last attempt, "" when none
	Message    string // human-readable; lists every attempt when all failed
	Attempts   int    // number of provider attempts made
	// Details is the stream `error` event (nil for errors of blocking calls).
	Details json.RawMessage

	cause    error // context error that caused a cancellation, if any
	sentinel bool
}

func sentinel(code int32) *Error {
	return &Error{Code: code, StatusName: StatusName(code), sentinel: true}
}

// Error implements error: "PMX_ERR_TIMEOUT: message".
func (e *Error) Error() string {
	if e.Message == "" {
		return e.StatusName
	}
	return e.StatusName + ": " + e.Message
}

// Is reports whether target is the sentinel for e's code (errors.Is(err, ErrTimeout)).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t == nil {
		return false
	}
	if t.sentinel {
		return t.Code == e.Code
	}
	return t == e
}

// Unwrap gives the context error behind a cancellation requested through a context.
func (e *Error) Unwrap() error { return e.cause }

// newError builds an Error from a status code and an optional pmx_error filled in by C.
func newError(code C.pmx_status, cerr *C.pmx_error) *Error {
	c := int32(code)
	if c == 0 && cerr != nil {
		c = int32(cerr.code)
	}
	e := &Error{Code: c, StatusName: StatusName(c)}
	if cerr != nil {
		e.HTTPStatus = int(cerr.http_status)
		e.Attempts = int(cerr.attempts)
		e.Provider = C.GoString(&cerr.provider[0])
		e.Message = C.GoString(&cerr.message[0])
	}
	return e
}

func routerClosedError() *Error {
	return &Error{Code: CodeRouterClosed, StatusName: StatusName(CodeRouterClosed),
		Message: "router is closed"}
}

func cancelledError(cause error) *Error {
	return &Error{Code: CodeCancelled, StatusName: StatusName(CodeCancelled),
		Message: "cancelled: " + cause.Error(), cause: cause}
}
