"""Pipe, Connection and wait: multiprocessing.connection's names over named
polyipc pipes, which processes in any language can open by name.

    import polyipc
    from polyipc.connection import wait

    a, b = polyipc.Pipe("chat")                 # both ends of the duplex pipe "chat"
    a.send({"hello": 1})                        # JSON on the way in
    b.recv()                                    # {'hello': 1}
    b.send_bytes(b'[1, 2]')                     # raw bytes (a JSON pipe checks they are JSON)

    # in another process, in any language:
    c = polyipc.Connection("chat", "b")         # end B of the existing pipe "chat"

    ready = wait([c, some_polyipc_queue], timeout=5)

Differences from multiprocessing, on purpose:
  - a pipe has a name and lives in POSIX shared memory until polyipc.unlink()
    removes it; a process opens one end by name with Connection(name, end)
    (a Connection pickled to another process, e.g. a spawn Process argument,
    reopens its end by name);
  - objects travel as JSON (send/recv), not pickles, so a Go or Java process
    can read them; send_bytes/recv_bytes carry the message unchanged, but a
    JSON-format pipe (the default, the C API's default) checks they are JSON:
    use format=BYTES for arbitrary bytes;
  - Pipe(name, duplex=False) returns (reader, writer) as multiprocessing does:
    (end B, end A), since on a one-way polyipc pipe end A sends and end B
    receives;
  - end of stream comes when every handle of the other end is closed or its
    processes died (a kill -9 is noticed within ~100 ms), once everything sent
    was received: recv() then raises EOFError (polyipc.Closed), send() raises
    BrokenPipeError (polyipc.BrokenPipe);
  - there is no file descriptor: fileno() raises io.UnsupportedOperation
    (an OSError); polyipc.connection.wait() waits on polyipc Connections and
    Queues, not on sockets or other descriptors;
  - a forked child shares the parent's handle; the other end sees EOF when the
    process that opened the end closes it or dies, so a child that outlives its
    parent should open the end itself with Connection(name, end).
Every blocking call waits in 50 ms slices with the GIL released: Ctrl-C raises
KeyboardInterrupt within a slice, close() from another thread ends the wait.
"""

import io
import json
import math
import time
from multiprocessing import BufferTooShort

from . import _errors, _jsoncodec
from ._handle import Handle, HandleOwner, open_mode
from ._native import lib
from ._queues import BYTES, JSON, SLICE_SECONDS, _NativeQueue

__all__ = ["Pipe", "Connection", "wait", "BufferTooShort"]

_SLICE_NS = int(SLICE_SECONDS * 1e9)
_FORMATS = {JSON: lib.POLYIPC_FORMAT_JSON, BYTES: lib.POLYIPC_FORMAT_BYTES}
_ENDS = {"a": 0, "b": 1, 0: 0, 1: 1}
_Timeout = _errors.TimeoutError
_Empty = _errors.Empty
_Full = _errors.Full
_Closed = _errors.Closed
_monotonic = time.monotonic
_send = lib.NativePipe_send
_recv = lib.NativePipe_recv
_poll = lib.NativePipe_poll
_encode = _jsoncodec.encode
_decode = _jsoncodec.decode


class ConnectionClosedError(ValueError, OSError):
    """The Connection handle was closed: a ValueError (as every closed polyipc object) and an
    OSError (what multiprocessing's Connection raises: "handle is closed")."""

    __module__ = "polyipc"


class _ConnHandle(Handle):
    __slots__ = ()

    def closed_error(self):
        return ConnectionClosedError(f"{self.what} is closed (handle is closed)")


_NOT_OPEN = _ConnHandle(None, "Connection")
_NOT_OPEN.closed = True


def _end_number(end):
    try:
        return _ENDS[end.lower() if isinstance(end, str) else end]
    except (KeyError, TypeError, AttributeError):
        raise ValueError(f"end must be 'a' or 'b', not {end!r}") from None


def _format_number(fmt):
    try:
        return _FORMATS[fmt.lower() if isinstance(fmt, str) else fmt]
    except (KeyError, AttributeError):
        raise ValueError(f"format must be {JSON!r} or {BYTES!r}, not {fmt!r}") from None


def _poll_deadline(timeout):
    """multiprocessing's poll/wait timeouts: None forever, <= 0 a single check."""
    if timeout is None:
        return None
    if isinstance(timeout, float) and math.isnan(timeout):
        raise ValueError("'timeout' must be a number of seconds or None, not nan")
    return _monotonic() + max(timeout, 0)


def _slice(deadline):
    if deadline is None:
        return _SLICE_NS
    left = deadline - _monotonic()
    return int(min(left, SLICE_SECONDS) * 1e9) if left > 0 else 0


def _reopen(name, end):
    return Connection(name, end)


class Connection(HandleOwner):
    """One end of a named polyipc pipe; multiprocessing.connection.Connection's methods.

    Connection(name, end, *, create=False, exclusive=False, duplex=None, format=None,
               capacity_bytes=0, mode=0, ephemeral=False)

    end is 'a' or 'b'. create=False opens the end of an existing pipe whatever its options
    (polyipc.NotFound when there is none); create=True opens or creates it, with duplex
    (default True) and format (default JSON) that must agree with an existing pipe
    (polyipc.Incompatible). Several handles, in several processes, may hold one end.
    """

    def __init__(self, name, end, *, create=False, exclusive=False, duplex=None, format=None,
                 capacity_bytes=0, mode=0, ephemeral=False):
        self._handle = _NOT_OPEN  # so __repr__ and close() work if opening fails
        if not isinstance(name, str):
            raise TypeError(f"pipe name must be str, not {type(name).__name__}")
        self._name = name
        self._end = "ab"[_end_number(end)]
        if not create and not exclusive and duplex is None and format is None:
            ptr = lib.NativePipe_open_existing(name, _end_number(end))
        else:
            ptr = lib.NativePipe_open(name, open_mode(create, exclusive), _end_number(end),
                                      int(True if duplex is None else bool(duplex)),
                                      _format_number(JSON if format is None else format), int(capacity_bytes),
                                      int(mode), int(bool(ephemeral)))
        self._attach(ptr)

    def _attach(self, ptr):
        self._handle = _ConnHandle(getattr(ptr, "this", ptr), f"Connection {self._name!r} end {self._end.upper()}",
                                   lib.delete_NativePipe)
        try:
            info = self.stat()
        except BaseException:
            self._handle.close()
            raise
        self._duplex = bool(info["duplex"])
        self._format = info["format"]
        self._capacity = int(info["capacity_bytes"])
        self._readable = self._duplex or self._end == "b"
        self._writable = self._duplex or self._end == "a"

    @classmethod
    def _from_native(cls, name, end, ptr):
        self = cls.__new__(cls)
        self._handle = _NOT_OPEN
        self._name = name
        self._end = end
        self._attach(ptr)
        return self

    # ---- properties ------------------------------------------------------------
    @property
    def end(self):
        """'a' or 'b'."""
        return self._end

    @property
    def readable(self):
        """True if this end can receive (both ends of a duplex pipe, end B of a one-way pipe)."""
        return self._readable

    @property
    def writable(self):
        """True if this end can send (both ends of a duplex pipe, end A of a one-way pipe)."""
        return self._writable

    @property
    def duplex(self):
        return self._duplex

    @property
    def format(self):
        """polyipc.JSON ('json': sends are checked to be JSON) or polyipc.BYTES ('bytes')."""
        return self._format

    def _check_readable(self):
        if not self._readable:
            raise OSError("connection is write-only")

    def _check_writable(self):
        if not self._writable:
            raise OSError("connection is read-only")

    # ---- send --------------------------------------------------------------------
    def _send_data(self, data, timeout=None):
        h = self._handle
        ptr = h.enter()
        try:
            self._check_writable()
            deadline = None if timeout is None else _monotonic() + timeout
            while True:
                ns = _slice(deadline)
                try:
                    return _send(ptr, data, ns)
                except (_Timeout, _Full) as e:
                    if ns == 0:
                        raise _errors.TimeoutError(f"{e}; no room within {timeout:g} s") from None
                    h.check()
                except _Closed as e:
                    raise _errors.BrokenPipe(str(e)) from None
        finally:
            h.leave()

    def send(self, obj):
        """Sends obj as JSON (json.dumps: dicts, lists, str, int, float, bool, None). Waits while
        the pipe is full. BrokenPipeError (polyipc.BrokenPipe) when the other end is closed,
        TypeError when obj is not JSON-serialisable (as json.dumps), ValueError for NaN or
        infinities and when it is larger than the pipe can hold (polyipc.TooLarge)."""
        self._send_data(_encode(obj))

    def send_bytes(self, buf, offset=0, size=None):
        """Sends buf[offset:offset + size] (a bytes-like object) as one message, unchanged.
        A JSON-format pipe checks it is JSON (polyipc.InvalidJSON, a ValueError)."""
        m = memoryview(buf)
        if m.itemsize > 1:
            m = m.cast("B")
        n = m.nbytes
        if offset < 0:
            raise ValueError("offset is negative")
        if n < offset:
            raise ValueError("buffer length < offset")
        if size is None:
            size = n - offset
        elif size < 0:
            raise ValueError("size is negative")
        elif offset + size > n:
            raise ValueError("buffer length < offset + size")
        self._send_data(m[offset:offset + size] if (offset or size != n) else m)

    # ---- receive -------------------------------------------------------------------
    def _recv_data(self, timeout=None):
        h = self._handle
        ptr = h.enter()
        try:
            self._check_readable()
            deadline = None if timeout is None else _monotonic() + timeout
            while True:
                ns = _slice(deadline)
                try:
                    return _recv(ptr, ns)  # CLOSED: polyipc.Closed, an EOFError
                except (_Timeout, _Empty) as e:
                    if ns == 0:
                        raise _errors.TimeoutError(f"{e}; nothing within {timeout:g} s") from None
                    h.check()
        finally:
            h.leave()

    def recv(self):
        """Waits for the next message and returns it decoded from JSON. EOFError (polyipc.Closed)
        at end of stream: the other end is closed (or its processes died) and every message it
        sent was received."""
        return _decode(self._recv_data())

    def recv_bytes(self, maxlength=None):
        """Waits for the next message and returns it as bytes. EOFError at end of stream. A message
        longer than maxlength closes this handle and raises OSError, as multiprocessing does."""
        if maxlength is not None and maxlength < 0:
            raise ValueError("negative maxlength")
        data = self._recv_data()
        if maxlength is not None and len(data) > maxlength:
            self.close()
            raise OSError("bad message length")
        return data

    def recv_bytes_into(self, buf, offset=0):
        """Waits for the next message and copies it into the writable buffer buf at byte offset
        `offset`; returns its length. multiprocessing.BufferTooShort (with the whole message as
        args[0]) when it does not fit; EOFError at end of stream."""
        m = memoryview(buf)
        try:
            if m.readonly:
                raise TypeError("recv_bytes_into needs a writable buffer")
            if m.itemsize > 1 or m.format != "B":
                m = m.cast("B")
            n = m.nbytes
            if offset < 0:
                raise ValueError("negative offset")
            if offset > n:
                raise ValueError("offset too large")
            data = self._recv_data()
            size = len(data)
            if n - offset < size:
                raise BufferTooShort(data)
            m[offset:offset + size] = data
            return size
        finally:
            m.release()

    def poll(self, timeout=0.0):
        """True when recv() would not wait: a message is there, or the end of stream (recv then
        raises EOFError). timeout in seconds: 0 (the default) checks once, None waits forever,
        a negative one counts as 0 (as multiprocessing)."""
        deadline = _poll_deadline(timeout)
        h = self._handle
        ptr = h.enter()
        try:
            self._check_readable()
            while True:
                ns = _slice(deadline)
                try:
                    _poll(ptr, ns)
                    return True
                except _Closed:
                    return True
                except (_Timeout, _Empty):
                    if ns == 0:
                        return False
                    h.check()
        finally:
            h.leave()

    # ---- state -------------------------------------------------------------------------
    def fileno(self):
        """Unsupported: a polyipc pipe has no file descriptor (use polyipc.connection.wait)."""
        raise io.UnsupportedOperation("polyipc connections have no file descriptor; "
                                      "use polyipc.connection.wait() to wait on several")

    def close(self):
        """Releases this handle of the end (not the pipe: see polyipc.unlink). The other end sees
        EOF once no handle of this end is left. Idempotent."""
        self._handle.close()

    def unlink(self):
        """Removes the pipe's name (polyipc.unlink(self.name)); open handles keep working."""
        lib.polyipc_unlink(self._name)

    def stat(self):
        """The pipe's options and counters, both ends', as a dict."""
        return json.loads(self._call(lib.NativePipe_stat_json))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __reduce__(self):
        # Another process reopens the same end by name (in its POLYIPC_NAMESPACE).
        return _reopen, (self._name, self._end)

    def __repr__(self):
        state = " closed" if self.closed else ""
        return f"<polyipc.Connection {getattr(self, '_name', '?')!r} end {getattr(self, '_end', '?')}{state}>"


def Pipe(name, duplex=True, *, create=True, exclusive=False, format=JSON, capacity_bytes=0, mode=0,
         ephemeral=False):
    """Opens (or creates) the named pipe and returns a pair of Connections, as
    multiprocessing.Pipe: duplex=True gives (end A, end B), both sending and receiving;
    duplex=False gives (reader, writer) = (end B, end A).

    create=False opens an existing pipe (polyipc.NotFound otherwise); exclusive=True fails with
    polyipc.Exists when it exists. duplex and format must agree with an existing pipe
    (polyipc.Incompatible). capacity_bytes: each direction's ring (default 4 MiB; a message is
    at most capacity_bytes - 8 bytes). ephemeral: unlinked when the last process detaches."""
    if not isinstance(name, str):
        raise TypeError(f"pipe name must be str, not {type(name).__name__}")
    fmt = _format_number(format)
    args = (int(bool(duplex)), fmt, int(capacity_bytes), int(mode), int(bool(ephemeral)))
    a = Connection._from_native(name, "a", lib.NativePipe_open(name, open_mode(create, exclusive), 0, *args))
    try:
        b = Connection._from_native(name, "b", lib.NativePipe_open(name, lib.POLYIPC_OPEN_ONLY, 1, *args))
    except BaseException:
        a.close()
        raise
    return (a, b) if duplex else (b, a)


def wait(object_list, timeout=None):
    """Waits until at least one of object_list (polyipc Connections and Queues, of any format) is
    ready and returns the ready ones, in object_list's order, as
    multiprocessing.connection.wait. A Connection is ready when recv() would not wait (a message,
    or end of stream); a Queue when get() would not wait (a message, or closed and drained).
    timeout in seconds: None waits forever, 0 (or less) checks once; [] when none became ready."""
    objs = list(object_list)
    deadline = _poll_deadline(timeout)
    for obj in objs:
        if not isinstance(obj, (Connection, _NativeQueue)):
            raise TypeError(f"polyipc.connection.wait waits on polyipc Connections and Queues, "
                            f"not {type(obj).__name__}")
        if isinstance(obj, Connection):
            obj._check_readable()
    if not objs:
        if deadline is None:
            raise ValueError("polyipc.connection.wait: nothing to wait on, and no timeout")
        while _slice(deadline):  # nothing can become ready: wait out the timeout, interruptibly
            time.sleep(_slice(deadline) / 1e9)
        return []
    ws = lib.NativeWaitSet_create()
    entered = []
    try:
        for obj in objs:
            h = obj._handle
            ptr = h.enter()
            entered.append(h)
            if isinstance(obj, Connection):
                lib.NativeWaitSet_add_pipe(ws, ptr)
            else:
                lib.NativeWaitSet_add_queue(ws, ptr)
        while True:
            ns = _slice(deadline)
            try:
                lib.NativeWaitSet_wait(ws, ns)
                break
            except _Timeout:
                if ns == 0:
                    return []
                for h in entered:
                    h.check()
        ready = lib.NativeWaitSet_ready
        return [obj for i, obj in enumerate(objs) if ready(ws, i)]
    finally:
        for h in entered:
            h.leave()
        lib.delete_NativeWaitSet(ws)
