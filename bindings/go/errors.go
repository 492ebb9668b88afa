package polyipc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// Status is a polyipc status code (polyipc_status in polyipc.h). Every
// non-zero Status is also an error, so the Err* constants below work with
// errors.Is.
type Status int

// The status codes of polyipc.h; the numbers are stable.
const (
	StatusOK           Status = 0
	StatusTimeout      Status = 1  // the wait ran out
	StatusEmpty        Status = 2  // non-blocking get on an empty queue
	StatusFull         Status = 3  // non-blocking put on a full queue
	StatusClosed       Status = 4  // closed for writing and drained
	StatusNotFound     Status = 5  // OpenOnly of a name that does not exist
	StatusExists       Status = 6  // CreateOnly of a name that exists
	StatusInvalidArg   Status = 7  // bad name, size or option; use after Close
	StatusInvalidJSON  Status = 8  // a JSON-format queue was given malformed JSON
	StatusTooLarge     Status = 9  // message larger than the queue can ever hold
	StatusPermission   Status = 10 // the OS refused access to the object
	StatusOwnerDead    Status = 11 // acquired, but the previous holder died holding it
	StatusIncompatible Status = 12 // the name holds another kind, layout or options
	StatusNoMemory     Status = 13 // /dev/shm has no room (never a SIGBUS later), or a table is full
	StatusNotOwner     Status = 14
	StatusBroken       Status = 15
	StatusSystem       Status = 16 // an unexpected OS error
	StatusOutOfRange   Status = 17 // an index outside a list or array (since 0.7.0)
)

// Sentinel errors for errors.Is. Every error this package returns for a
// failing native call is an *Error whose Status matches one of them.
const (
	ErrTimeout      = StatusTimeout
	ErrEmpty        = StatusEmpty
	ErrFull         = StatusFull
	ErrClosed       = StatusClosed
	ErrNotFound     = StatusNotFound
	ErrExists       = StatusExists
	ErrInvalidArg   = StatusInvalidArg
	ErrInvalidJSON  = StatusInvalidJSON
	ErrTooLarge     = StatusTooLarge
	ErrPermission   = StatusPermission
	ErrOwnerDead    = StatusOwnerDead
	ErrIncompatible = StatusIncompatible
	ErrNoMemory     = StatusNoMemory
	ErrNotOwner     = StatusNotOwner
	ErrBroken       = StatusBroken
	ErrSystem       = StatusSystem
	ErrOutOfRange   = StatusOutOfRange
)

// ErrHandleClosed is matched (besides ErrInvalidArg) by the error of any call
// on a handle after its Close.
var ErrHandleClosed = errors.New("polyipc: use of a closed handle")

var statusNames = [...]string{
	"POLYIPC_OK", "POLYIPC_ERR_TIMEOUT", "POLYIPC_ERR_EMPTY", "POLYIPC_ERR_FULL", "POLYIPC_ERR_CLOSED",
	"POLYIPC_ERR_NOT_FOUND", "POLYIPC_ERR_EXISTS", "POLYIPC_ERR_INVALID_ARG", "POLYIPC_ERR_INVALID_JSON",
	"POLYIPC_ERR_TOO_LARGE", "POLYIPC_ERR_PERMISSION", "POLYIPC_ERR_OWNER_DEAD", "POLYIPC_ERR_INCOMPATIBLE",
	"POLYIPC_ERR_NO_MEMORY", "POLYIPC_ERR_NOT_OWNER", "POLYIPC_ERR_BROKEN", "POLYIPC_ERR_SYSTEM",
	"POLYIPC_ERR_OUT_OF_RANGE",
}

// String is the C name of the status, e.g. "POLYIPC_ERR_TIMEOUT".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "POLYIPC_STATUS_" + strconv.Itoa(int(s))
}

func (s Status) Error() string { return "polyipc: " + s.String() }

// Error is a failing polyipc call: the status and the library's message,
// which names the object and the cause.
type Error struct {
	Status  Status
	Message string
	cause   error // context.DeadlineExceeded, ErrHandleClosed, ...
}

func (e *Error) Error() string {
	return "polyipc: " + e.Message + " (" + e.Status.String() + ")"
}

// Is reports whether target is e's Status (the Err* constants).
func (e *Error) Is(target error) bool {
	s, ok := target.(Status)
	return ok && s == e.Status
}

// Unwrap gives the cause where there is one (context.DeadlineExceeded for a
// context deadline, ErrHandleClosed for use after Close).
func (e *Error) Unwrap() error { return e.cause }

func newError(s Status, cause error, format string, args ...any) *Error {
	return &Error{Status: s, Message: fmt.Sprintf(format, args...), cause: cause}
}

// The SWIG wrappers report a failing C call as a panic with the value
// "polyipc:<code>:<message>" (bindings/swig/go.i), and so do Queue's
// hot-path glue calls (native.QueuePut, native.QueueGetInto). recoverInto,
// deferred directly by every function that calls into internal/native
// (Queue.endCall where the call also holds the queue's guard), turns it into
// an *Error; any other panic goes on.
func recoverInto(err *error) { panicInto(recover(), err) }

// panicInto turns what recover() returned (recover works only in the deferred
// function itself, so each one calls it and hands the value here) into *err;
// any other panic goes on.
func panicInto(r any, err *error) {
	if r == nil {
		return
	}
	if e := errorFromPanic(r); e != nil {
		*err = e
		return
	}
	panic(r)
}

func errorFromPanic(r any) *Error {
	s, ok := r.(string)
	if !ok || !strings.HasPrefix(s, "polyipc:") {
		return nil
	}
	rest := s[len("polyipc:"):]
	i := strings.IndexByte(rest, ':')
	if i < 0 {
		return nil
	}
	code, convErr := strconv.Atoi(rest[:i])
	if convErr != nil {
		return nil
	}
	return &Error{Status: Status(code), Message: rest[i+1:]}
}

// loadErr is set once at load when the library does not match the binding.
var loadErr = checkVersion(native.Polyipc_version_number(), native.Polyipc_version(), BindingVersionNumber)

// BindingVersionNumber is POLYIPC_VERSION_NUMBER of the polyipc.h this
// binding was generated from.
var BindingVersionNumber = native.POLYIPC_BINDING_VERSION_NUMBER

func checkVersion(lib int, libText string, binding int) error {
	if lib == binding {
		return nil
	}
	return newError(StatusIncompatible, nil,
		"the loaded libpolyipc is version %s (%d) but this Go binding was generated for version number %d: "+
			"build the binding against the library it runs with", libText, lib, binding)
}

// CheckVersion returns nil when the loaded libpolyipc is the version this
// binding was generated for. When it is not, every call of this package
// returns this same ErrIncompatible error.
func CheckVersion() error { return loadErr }
