"""A native handle shared by threads, released exactly once, never under a call.

A call borrows the pointer: it appends a token to `calls`, then checks
`closed`; it removes its token when done. close() sets `closed`, then looks at
`calls`. list.append/pop and dict.pop are atomic under the GIL, so for any
interleaving either the caller sees `closed` (and backs off) or close() sees
the caller's token (and leaves the release to the last caller out). Whoever
releases takes the pointer with one atomic dict.pop, so it is released once.
This costs ~0.1 us per call, a lock pair costs several times that.

Blocking calls wait in slices and test `closed` between them, so a close()
from another thread ends their wait within a slice with ValueError.
"""

from ._native import lib

_release_native = lib.delete_NativeQueue


def open_mode(create, exclusive):
    """The C API's open mode for the create=/exclusive= arguments every class takes."""
    if exclusive:
        return lib.POLYIPC_CREATE_ONLY
    return lib.POLYIPC_OPEN_OR_CREATE if create else lib.POLYIPC_OPEN_ONLY


class Handle:
    __slots__ = ("ptr", "calls", "closed", "what", "_owned", "_free")

    def __init__(self, ptr, what, free=None):
        self.ptr = ptr        # the SWIG pointer object; valid while a call holds a token and saw closed False
        self.calls = []       # one token per call in flight
        self.closed = False
        self.what = what      # "Queue 'jobs'": names the object in errors
        self._owned = {"ptr": ptr}
        self._free = free or _release_native  # the native destructor (delete_NativeQueue, delete_NativeLock, ...)

    def closed_error(self):
        return ValueError(f"{self.what} is closed")

    def enter(self):
        """Borrows the pointer for one call; pair with leave()."""
        self.calls.append(None)
        if self.closed:
            self.leave()
            raise self.closed_error()
        return self.ptr

    def leave(self):
        self.calls.pop()
        if self.closed and not self.calls:
            self._release()

    def check(self):
        """Between wait slices: ValueError when close() was called meanwhile."""
        if self.closed:
            raise self.closed_error()

    def close(self):
        self.closed = True
        if not self.calls:
            self._release()

    def _release(self):
        ptr = self._owned.pop("ptr", None)
        if ptr is not None:
            self._free(ptr)


class HandleOwner:
    """What a named object over one guarded handle shares; it sets `_name` and `_handle`."""

    __slots__ = ()

    def _call(self, fn, *args):
        h = self._handle
        ptr = h.enter()
        try:
            return fn(ptr, *args)
        finally:
            h.leave()

    @property
    def name(self):
        return self._name

    @property
    def closed(self):
        """True once close() released this handle."""
        return self._handle.closed
