"""The exception hierarchy: one class per polyipc status, each also a subclass
of the builtin (or queue module) exception a Python programmer already catches.

    PolyipcError                      .status (int), .status_name, str() = the library's message
    +- TimeoutError      (builtins.TimeoutError)  a wait ran out (join(timeout), ...)
    +- Empty             (queue.Empty)             get_nowait / get(timeout=...) found nothing
    +- Full              (queue.Full)              put_nowait / put(timeout=...) found no room
    +- Closed            (EOFError)                queue closed for writing (and drained, for get)
    +- NotFound          (FileNotFoundError)       opening a name that does not exist
    +- Exists            (FileExistsError)         exclusive create of a name that exists
    +- InvalidArgument   (ValueError)              bad name, bad size, bad option
    +- InvalidJSON       (ValueError)              malformed JSON put on a JSON queue
    +- TooLarge          (ValueError)              message larger than the queue can ever hold
    +- PermissionDenied  (PermissionError)         the OS refused access
    +- OwnerDead                                   acquired, previous holder died holding it
    |                                              (the sync classes never raise it: see OwnerDeadWarning)
    +- Incompatible                                the name holds another kind / layout
    +- NoMemory          (MemoryError)
    +- NotOwner          (RuntimeError, AssertionError)
    |                                              release / wait / notify of a lock this thread does not
    |                                              hold: threading raises RuntimeError there,
    |                                              multiprocessing.RLock AssertionError
    +- Broken            (threading.BrokenBarrierError)  barrier broken / aborted / reset
    |  +- BarrierTimeout (also TimeoutError)       this waiter's own timeout broke the barrier
    +- SystemFailure     (OSError)                 unexpected OS error
    +- OutOfRange        (IndexError)              an index outside a List or Array
    +- BrokenPipe        (BrokenPipeError)         Connection.send() to a pipe whose other end is
                                                   closed (status CLOSED, as Closed; not in BY_STATUS)

    OwnerDeadWarning (RuntimeWarning)              issued by an acquire that took a lock whose
                                                   holder died holding it (the lock IS held)

`Closed` is an EOFError, as multiprocessing's Connection.recv() raises at end
of stream: `except EOFError` ends a consumer loop.
"""

import builtins
import errno as _errno
import queue as _queue
import threading as _threading

from . import polyipc_native as _native

__all__ = [
    "PolyipcError", "TimeoutError", "Empty", "Full", "Closed", "NotFound", "Exists", "InvalidArgument",
    "InvalidJSON", "TooLarge", "PermissionDenied", "OwnerDead", "Incompatible", "NoMemory", "NotOwner",
    "Broken", "BarrierTimeout", "SystemFailure", "OutOfRange", "OwnerDeadWarning", "BrokenPipe",
]


class PolyipcError(Exception):
    """A failed polyipc call. `status` is the C API's polyipc_status code."""

    __module__ = "polyipc"
    status = 0

    @property
    def status_name(self):
        return _native.polyipc_status_name(self.status)

    @property
    def message(self):
        return str(self)


def _status_error(name, status, *bases, errno=None, doc=""):
    namespace = {"status": status, "__doc__": doc, "__module__": "polyipc"}
    if errno is not None:
        # OSError subclasses: keep str() the library's message, but fill errno.
        def __init__(self, *args, _errno_value=errno):
            super(cls, self).__init__(*args)
            self.errno = _errno_value

        namespace["__init__"] = __init__
    cls = type(name, (PolyipcError,) + bases, namespace)
    return cls


TimeoutError = _status_error("TimeoutError", _native.POLYIPC_ERR_TIMEOUT, builtins.TimeoutError,
                             errno=_errno.ETIMEDOUT, doc="A wait ran out (also builtins.TimeoutError).")
Empty = _status_error("Empty", _native.POLYIPC_ERR_EMPTY, _queue.Empty,
                      doc="Nothing to get in time (also queue.Empty).")
Full = _status_error("Full", _native.POLYIPC_ERR_FULL, _queue.Full, doc="No room to put in time (also queue.Full).")
Closed = _status_error("Closed", _native.POLYIPC_ERR_CLOSED, EOFError,
                       doc="End of stream: the queue was closed for writing (and, for get, drained). An EOFError.")
NotFound = _status_error("NotFound", _native.POLYIPC_ERR_NOT_FOUND, FileNotFoundError, errno=_errno.ENOENT,
                         doc="No object of that name (also FileNotFoundError).")
Exists = _status_error("Exists", _native.POLYIPC_ERR_EXISTS, FileExistsError, errno=_errno.EEXIST,
                       doc="An object of that name exists (also FileExistsError).")
InvalidArgument = _status_error("InvalidArgument", _native.POLYIPC_ERR_INVALID_ARG, ValueError,
                                doc="Bad name, size or option (also ValueError).")
InvalidJSON = _status_error("InvalidJSON", _native.POLYIPC_ERR_INVALID_JSON, ValueError,
                            doc="Malformed JSON given to a JSON-format queue (also ValueError).")
TooLarge = _status_error("TooLarge", _native.POLYIPC_ERR_TOO_LARGE, ValueError,
                         doc="The message can never fit (also ValueError).")
PermissionDenied = _status_error("PermissionDenied", _native.POLYIPC_ERR_PERMISSION, PermissionError,
                                 errno=_errno.EACCES, doc="The OS refused access (also PermissionError).")
OwnerDead = _status_error("OwnerDead", _native.POLYIPC_ERR_OWNER_DEAD,
                          doc="Acquired, but the previous holder died holding it.")
Incompatible = _status_error("Incompatible", _native.POLYIPC_ERR_INCOMPATIBLE,
                             doc="The name holds another kind of object, other options or another layout.")
NoMemory = _status_error("NoMemory", _native.POLYIPC_ERR_NO_MEMORY, MemoryError,
                         doc="/dev/shm has no room for the object (or a pipe's next pages), or a table of handles is full.")
NotOwner = _status_error("NotOwner", _native.POLYIPC_ERR_NOT_OWNER, RuntimeError, AssertionError,
                         doc="Release (or a condition's wait/notify) of a lock this thread does not hold. "
                             "A RuntimeError as threading raises, and an AssertionError as multiprocessing.RLock.")
Broken = _status_error("Broken", _native.POLYIPC_ERR_BROKEN, _threading.BrokenBarrierError,
                       doc="A barrier was broken, aborted or reset (also threading.BrokenBarrierError).")


class BarrierTimeout(Broken, TimeoutError):
    """Barrier.wait's own timeout ran out: it broke the barrier for every waiter, as
    threading.Barrier does. A polyipc.Broken (threading.BrokenBarrierError) and a TimeoutError."""

    __module__ = "polyipc"
    status = _native.POLYIPC_ERR_TIMEOUT


class OwnerDeadWarning(RuntimeWarning):
    """An acquire took a lock whose previous holder died holding it. The acquire
    succeeded (the lock is held) and `previous_owner_died` is True on the object:
    repair what the lock guards. Issued with warnings.warn; filter it with
    warnings.simplefilter("ignore", polyipc.OwnerDeadWarning) where you check the flag."""

    __module__ = "polyipc"


SystemFailure = _status_error("SystemFailure", _native.POLYIPC_ERR_SYSTEM, OSError,
                              doc="An unexpected OS error; the message carries the errno text.")

OutOfRange = _status_error("OutOfRange", _native.POLYIPC_ERR_OUT_OF_RANGE, IndexError,
                           doc="An index outside a List or Array (also IndexError).")

BrokenPipe = _status_error("BrokenPipe", _native.POLYIPC_ERR_CLOSED, BrokenPipeError, errno=_errno.EPIPE,
                          doc="Connection.send() when the other end of the pipe is closed (also BrokenPipeError).")

BY_STATUS = {cls.status: cls for cls in (
    TimeoutError, Empty, Full, Closed, NotFound, Exists, InvalidArgument, InvalidJSON, TooLarge,
    PermissionDenied, OwnerDead, Incompatible, NoMemory, NotOwner, Broken, SystemFailure, OutOfRange)}


def error_for(status, message):
    """The exception for a status a batch call returned (they return it rather than raise:
    a batch can succeed in part); a status newer than this package is a PolyipcError."""
    err = BY_STATUS.get(status, PolyipcError)(message)
    err.status = status
    return err
