"""SharedMemory: multiprocessing.shared_memory.SharedMemory over a named polyipc
block of bytes, which processes in any language can attach by name.

    from polyipc.shared_memory import SharedMemory       # also polyipc.SharedMemory

    shm = SharedMemory("frame", create=True, size=1 << 20)   # fails if "frame" exists
    shm.buf[:5] = b"hello"                                   # a memoryview of the bytes (format 'B')
    other = SharedMemory("frame")                            # attach, whatever its size
    bytes(other.buf[:5])                                     # b'hello'
    other.close(); shm.close(); shm.unlink()

As CPython's: name=None with create=True makes a random name ("psm_..."); create=True
is an exclusive create (FileExistsError / polyipc.Exists) unless exclusive=False is given
(then an existing block of the same size is attached; another size is polyipc.Incompatible);
create=False attaches (FileNotFoundError / polyipc.NotFound), and `size` is ignored then.
The bytes start zeroed. close() refuses with BufferError while memoryviews made from `buf`
(slices, numpy arrays over it, ...) are still alive, as CPython's does; a SharedMemory that
is garbage-collected without close() keeps the mapping until the last such view is gone.
Nothing is removed at exit (there is no resource tracker): unlink() removes the name, and
attached processes keep their bytes after that.
"""

import ctypes
import json
import os
import sys

from . import _errors
from ._handle import Handle, HandleOwner
from ._native import lib

__all__ = ["SharedMemory"]

_getrefcount = sys.getrefcount

_NOT_OPEN = Handle(None, "SharedMemory")
_NOT_OPEN.closed = True


class SharedMemory(HandleOwner):
    """A named block of shared memory; multiprocessing.shared_memory.SharedMemory's API.

    SharedMemory(name=None, create=False, size=0, *, track=True, exclusive=True, mode=0,
                 ephemeral=False)

    .buf is a writable memoryview (format 'B') of the `size` bytes, .name the name, .size
    the size; close() releases this process's mapping (BufferError while views of buf are
    still alive); unlink() removes the name. track is accepted for compatibility and ignored.
    mode: permission bits (default 0600); ephemeral: unlinked when the last process detaches.
    """

    _buf = None
    _array = None
    _size = 0

    def __init__(self, name=None, create=False, size=0, *, track=True, exclusive=True, mode=0, ephemeral=False):
        self._handle = _NOT_OPEN
        self._name = name
        if not size >= 0:
            raise ValueError("'size' must be a positive integer")
        if create:
            if size == 0:
                raise ValueError("'size' must be a positive number different from zero")
            open_mode = lib.POLYIPC_CREATE_ONLY if exclusive or name is None else lib.POLYIPC_OPEN_OR_CREATE
        else:
            if name is None:
                raise ValueError("'name' can only be None if create=True")
            open_mode, size = lib.POLYIPC_OPEN_ONLY, 0
        if name is not None and not isinstance(name, str):
            raise TypeError(f"shared memory name must be str or None, not {type(name).__name__}")
        while True:
            self._name = name if name is not None else "psm_" + os.urandom(6).hex()
            try:
                ptr = lib.NativeSharedMemory_open(self._name, open_mode, int(size), int(mode), int(bool(ephemeral)))
                break
            except _errors.Exists:
                if name is not None:
                    raise
        ptr = getattr(ptr, "this", ptr)
        self._handle = Handle(ptr, f"SharedMemory {self._name!r}", lib.delete_NativeSharedMemory)
        self._size = lib.NativeSharedMemory_size(ptr)
        # The view: a ctypes array over the mapping, which keeps the native handle (and so the
        # mapping) alive for as long as any memoryview of it exists. Its reference count tells
        # close() whether views are still alive (each managed buffer holds one reference).
        array = _Bytes(self._size).from_address(lib.NativeSharedMemory_address(ptr))
        array._keep = ptr
        self._array = array
        del array
        self._baseline = _getrefcount(self._array)
        self._buf = memoryview(self._array).cast("B")

    @property
    def buf(self):
        """A writable memoryview of the bytes (None after close())."""
        return self._buf

    @property
    def size(self):
        return self._size

    closed = property(HandleOwner.closed.fget, doc="True once close() released the mapping (polyipc extra).")

    def close(self):
        """Releases buf and this process's mapping. BufferError, and the mapping stays, while
        objects made from buf (slices, numpy arrays, other memoryviews) are alive, as CPython's.
        Idempotent."""
        if self._buf is not None:
            self._buf.release()  # BufferError when something holds a buffer of buf itself
            self._buf = None
        if getattr(self, "_array", None) is not None:
            if _getrefcount(self._array) > self._baseline:
                raise BufferError("cannot close exported pointers exist")
            self._array = None
        self._handle.close()

    def unlink(self):
        """Removes the name; attached processes (this one included) keep their bytes."""
        lib.polyipc_unlink(self._name)

    def stat(self):
        """The block's size and attached processes, as a dict (polyipc extra)."""
        return json.loads(self._call(lib.NativeSharedMemory_stat_json))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __reduce__(self):
        return (self.__class__, (self.name, False, self.size))

    def __repr__(self):
        return f"{self.__class__.__name__}({self._name!r}, size={getattr(self, '_size', 0)})"


_types = {}


def _Bytes(size):
    """A ctypes array type of `size` bytes whose instances take attributes."""
    t = _types.get(size)
    if t is None:
        t = type("_SharedBytes", (ctypes.c_ubyte * size,), {})
        if len(_types) < 64:
            _types[size] = t
    return t
