"""Queue, JoinableQueue and SimpleQueue: multiprocessing's names over named
polyipc queues shared with processes in any language.

Differences from multiprocessing, on purpose:
  - a queue has a name and lives in POSIX shared memory until polyipc.unlink()
    removes it; close() only releases this handle (idempotent);
  - objects travel as JSON (json.dumps / json.loads), not pickles, so a Go or
    Java process can read them; BYTES-format queues carry bytes unchanged;
  - close_writes() ends the stream for everyone: getters drain what is left,
    then get() raises polyipc.Closed (an EOFError), and so does put();
  - on a JoinableQueue a get() is a lease of this process: task_done() must be
    called by the process that got the item, and if that process dies first
    the item is handed to another getter.
  - a negative timeout is a ValueError (as queue.Queue; multiprocessing.Queue
    treats it as 0).

Consuming iteration: `for item in q:` (Queue, JoinableQueue) takes items with get() until
close_writes() ends the stream, then the loop ends without an error.

Extras: put_many / get_many (batches), put_bytes / get_bytes (raw messages), and
reserve(n) / borrow() (zero copy: large messages written and read in the ring itself,
through a Reservation's or a Borrowed message's memoryview .buf).
"""

import json
import operator
import time

from . import _errors, _jsoncodec
from ._handle import HandleOwner, open_mode
from ._native import lib

__all__ = ["Queue", "JoinableQueue", "SimpleQueue", "Reservation", "Borrowed", "FIFO", "LIFO", "PRIORITY", "JSON",
           "BYTES"]

FIFO, LIFO, PRIORITY = "fifo", "lifo", "priority"
JSON, BYTES = "json", "bytes"
_ORDERS = {FIFO: lib.POLYIPC_FIFO, LIFO: lib.POLYIPC_LIFO, PRIORITY: lib.POLYIPC_PRIORITY}
_FORMATS = {JSON: lib.POLYIPC_FORMAT_JSON, BYTES: lib.POLYIPC_FORMAT_BYTES}

# A blocking call waits in slices this long, so Ctrl-C (KeyboardInterrupt) and
# a close() from another thread are noticed within one slice.
SLICE_SECONDS = 0.05
_SLICE_NS = int(SLICE_SECONDS * 1e9)

# Hand-written METH_FASTCALL calls (python.i): NativeQueue_put/get without SWIG's
# argument handling, a first attempt that keeps the GIL, and get through a stack
# buffer; _get_text returns str (a JSON queue's text, for a custom loads); _get_json
# returns the object, decoded in C, or by _jsoncodec.decode_text (set below) when the
# text holds what only the stdlib decodes (big ints, NaN, deep nesting, errors ...).
_put = lib.polyipc_python_queue_put
_get = lib.polyipc_python_queue_get
_get_text = lib.polyipc_python_queue_get_text
_get_json = lib.polyipc_python_queue_get_json
# json_loads(bytes, fallback): the same C decoder, for get_many's messages
_json_loads = lib.polyipc_python_json_loads
# put_json(ptr, obj, ...) writes plain JSON types itself; NotImplemented leaves obj to the stdlib.
_put_json = lib.polyipc_python_queue_put_json
_put_many = lib.polyipc_python_put_many
_get_many = lib.polyipc_python_get_many
# Zero copy (python.i): one attempt of polyipc_queue_reserve / _borrow, given the QueueHandle;
# they return the C objects below, which end their ticket and never let the ring go under a view.
_reserve = lib.polyipc_python_queue_reserve
_borrow = lib.polyipc_python_queue_borrow
Reservation = lib.Reservation
Borrowed = lib.Borrowed
_TIMEOUT, _EMPTY, _FULL, _TOO_LARGE = (lib.POLYIPC_ERR_TIMEOUT, lib.POLYIPC_ERR_EMPTY, lib.POLYIPC_ERR_FULL,
                                       lib.POLYIPC_ERR_TOO_LARGE)
_Timeout = _errors.TimeoutError
_Empty = _errors.Empty
_Full = _errors.Full
_monotonic = time.monotonic

_json_encode = _jsoncodec.encode
_decode_json_text = _jsoncodec.decode_text
lib.polyipc_python_set_json_fallback(_decode_json_text)


def _bytes_only(obj):
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return obj
    raise TypeError(f"a BYTES-format queue carries bytes-like objects, not {type(obj).__name__}")


def _check_timeout(timeout):
    if timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")


def _choice(kind, value, table):
    try:
        return table[value.lower() if isinstance(value, str) else value]
    except (KeyError, AttributeError):
        raise ValueError(f"{kind} must be one of {', '.join(map(repr, table))}, not {value!r}") from None


# The queue's handle: _handle.Handle's rules (a call borrows the pointer, close() releases it once,
# never under a call), in C, where QueueBase's put/get keep them without a Python frame.
_Handle = lib.QueueHandle
_release_native = lib.delete_NativeQueue
_NOT_OPEN = _Handle(None, "queue")
_NOT_OPEN.closed = True
# QueueBase._set_fast kinds: what put(obj) / get() with the defaults do in C; anything else
# (and every other call) goes to _put_slow / _get_slow.
_PY, _RAW, _CJSON = 0, 1, 2


def _reopen(cls, name):
    return cls(name, create=False)


class _NativeQueue(lib.QueueBase, HandleOwner):
    """What the three queue classes share: opening, the guarded handle, the
    blocking-in-slices put/get, and the introspection calls.

    lib.QueueBase (python.i) holds the handle (`_handle`) and gives the C methods put, get,
    put_bytes and get_bytes: the common call (the defaults: wait forever, the default codec)
    runs there without a Python frame; every other one comes back here, to _put_slow,
    _get_slow, _put_bytes_slow or _get_bytes_slow, with the same arguments."""

    _joinable = False
    _kind = "Queue"

    def __init__(self, name, maxsize=0, *, create=True, exclusive=False, order=None, format=None,
                 capacity_bytes=0, max_message_bytes=0, mode=0, ephemeral=False, dumps=None, loads=None):
        if not isinstance(name, str):
            raise TypeError(f"queue name must be str, not {type(name).__name__}")
        if maxsize is None or maxsize < 0:
            maxsize = 0  # like multiprocessing: <= 0 means unbounded
        self._name = name
        self._handle = _NOT_OPEN  # so __repr__ and close() work if opening fails
        if not create and order is None and format is None:
            ptr = lib.NativeQueue_open_existing(name)  # whatever options it was created with
        else:
            ptr = lib.NativeQueue_open(
                name, open_mode(create, exclusive), _choice("order", FIFO if order is None else order, _ORDERS),
                _choice("format", JSON if format is None else format, _FORMATS), int(self._joinable),
                int(maxsize), int(capacity_bytes), int(max_message_bytes), int(mode), int(bool(ephemeral)))
        ptr = getattr(ptr, "this", ptr)  # the SWIG pointer object itself: no proxy on the hot path
        self._handle = _Handle(ptr, f"{self._kind} {name!r}", _release_native)
        try:
            info = self.stat()  # the queue as it is, also when it existed with other limits
            if bool(info["joinable"]) != self._joinable:
                hint = "polyipc.JoinableQueue" if info["joinable"] else "polyipc.Queue"
                raise _errors.Incompatible(
                    f"queue {name!r}: is {'' if info['joinable'] else 'not '}joinable; open it with {hint}")
        except BaseException:
            self._handle.close()
            raise
        self._maxsize = int(info["max_items"])
        self._batch_bytes = 1 << 16  # get_many buffer; grows when a message needs more
        self._order = info["order"]
        self._format = info["format"]
        # put()/get() call _encode/_decode when set; None = the BYTES default (bytes in, bytes out).
        # get() takes its message with _get_obj, then calls _get_decode on it when set: a JSON
        # queue's default is _get_json (decoded in C) and nothing after; with a custom loads it
        # takes the text (_get_text) and calls loads on it.
        if self._format == JSON:
            self._encode = dumps or _json_encode
            self._decode = loads or _decode_json_text
            self._get_obj = _get_text if loads else _get_json
            self._get_decode = loads
        else:
            self._encode = dumps
            self._decode = loads
            self._get_obj = _get
            self._get_decode = loads
        fast = _CJSON if self._format == JSON else _RAW
        self._set_fast(_PY if dumps else fast, _PY if loads else fast)

    # ---- put / get ------------------------------------------------------------
    def _put_data(self, data, priority, block, timeout):
        h = self._handle
        ptr = h.enter()
        try:
            if not block:
                try:
                    return _put(ptr, data, priority, 0)  # FULL -> polyipc.Full (a queue.Full)
                except _Timeout as e:  # the lock was busy: like multiprocessing, that is Full too
                    raise _Full(str(e)) from None
            if timeout is None:
                while True:
                    try:
                        return _put(ptr, data, priority, _SLICE_NS)
                    except _Timeout:
                        h.check()
            _check_timeout(timeout)
            deadline = _monotonic() + timeout
            while True:
                left = deadline - _monotonic()
                try:
                    return _put(ptr, data, priority, int(min(left, SLICE_SECONDS) * 1e9) if left > 0 else 0)
                except _Timeout as e:
                    if _monotonic() >= deadline:
                        raise _Full(str(e)) from None
                    h.check()
        finally:
            h.leave()

    def _get_data(self, block, timeout, _get=_get):
        h = self._handle
        ptr = h.enter()
        try:
            if not block:
                try:
                    return _get(ptr, 0)  # EMPTY -> polyipc.Empty (a queue.Empty)
                except _Timeout as e:  # the lock was busy: like multiprocessing, that is Empty too
                    raise _Empty(str(e)) from None
            if timeout is None:
                while True:
                    try:
                        return _get(ptr, _SLICE_NS)
                    except _Timeout:
                        h.check()
            _check_timeout(timeout)
            deadline = _monotonic() + timeout
            while True:
                left = deadline - _monotonic()
                try:
                    return _get(ptr, int(min(left, SLICE_SECONDS) * 1e9) if left > 0 else 0)
                except _Timeout as e:
                    if _monotonic() >= deadline:
                        raise _Empty(str(e)) from None
                    h.check()
        finally:
            h.leave()

    # put(obj, block=True, timeout=None, *, priority=0) and get(block=True, timeout=None) are
    # QueueBase's C methods (see the class docstring): put(obj) and get() with the default codec
    # run there; these do every other call, with the same arguments.
    def _put_slow(self, obj, block=True, timeout=None, *, priority=0):
        encode = self._encode
        if encode is _json_encode:  # the default JSON encoding: made in native code when it can be
            put = _put_json
        elif encode is not None:
            obj = encode(obj)
            put = _put
        elif obj.__class__ is bytes:
            put = _put
        else:
            obj = _bytes_only(obj)
            put = _put
        if not block or timeout is not None:
            return self._put_data(_json_encode(obj) if put is _put_json else obj, priority, block, timeout)
        h = self._handle
        ptr = h.enter()
        try:
            while True:
                try:
                    if put(ptr, obj, priority, _SLICE_NS) is None:
                        return
                    obj = _json_encode(obj)  # NotImplemented: a type only the stdlib encodes
                    put = _put
                except _Timeout:
                    h.check()
        finally:
            h.leave()

    def _get_slow(self, block=True, timeout=None):
        if not block or timeout is not None:
            data = self._get_data(block, timeout, self._get_obj)
        else:
            h = self._handle
            ptr = h.enter()
            try:
                get = self._get_obj
                while True:
                    try:
                        data = get(ptr, _SLICE_NS)
                        break
                    except _Timeout:
                        h.check()
            finally:
                h.leave()
        decode = self._get_decode
        return data if decode is None else decode(data)

    # ---- zero copy ----------------------------------------------------------------
    def _zero_copy(self, attempt, args, block, timeout, fail):
        """attempt(handle, *args, timeout_ns) in slices, as _put_data / _get_data wait."""
        h = self._handle
        h.enter()
        try:
            if not block:
                try:
                    return attempt(h, *args, 0)  # FULL / EMPTY: polyipc.Full / polyipc.Empty
                except _Timeout as e:  # the lock was busy: Full / Empty too, as put / get
                    raise fail(str(e)) from None
            if timeout is None:
                while True:
                    try:
                        return attempt(h, *args, _SLICE_NS)
                    except _Timeout:
                        h.check()
            _check_timeout(timeout)
            deadline = _monotonic() + timeout
            while True:
                left = deadline - _monotonic()
                try:
                    return attempt(h, *args, int(min(left, SLICE_SECONDS) * 1e9) if left > 0 else 0)
                except _Timeout as e:
                    if _monotonic() >= deadline:
                        raise fail(str(e)) from None
                    h.check()
        finally:
            h.leave()

    def reserve(self, n, block=True, timeout=None):
        """Zero copy: room for a message of exactly n bytes in the queue's ring, returned as a
        polyipc.Reservation whose .buf (a writable memoryview) is written in place, then
        published by commit() (a JSON queue validates the bytes then: polyipc.InvalidJSON, and
        the message is dropped) or dropped by cancel(). As a context manager it commits when
        the block ends normally and cancels when it raises.

        Waits for room as put() does: queue.Full (polyipc.Full) when there is none in time,
        polyipc.TooLarge when n bytes can never fit, polyipc.Closed after close_writes().
        Priority 0 on PRIORITY queues. The space behind a reservation is reused only after it
        ends: keep it short. commit() / cancel() raise BufferError while memoryviews made from
        .buf (slices, casts, arrays) are alive; .buf itself is released by them."""
        n = operator.index(n)
        if n < 0:
            raise ValueError("'n' must be a non-negative number of bytes")
        return self._zero_copy(_reserve, (n,), block, timeout, _Full)

    def borrow(self, block=True, timeout=None):
        """Zero copy: takes the next message as get_bytes() does, but leaves its bytes in the
        ring, returned as a polyipc.Borrowed whose .buf is a read-only memoryview of them
        (the object is bytes-like too: bytes(b), len(b)), until release() (the context
        manager releases on exit). A process that dies first gives the message back to the
        queue for the next getter. queue.Empty (polyipc.Empty) / polyipc.Closed as get().

        On a JoinableQueue the message is a lease until task_done(), as after get(). Space
        behind a borrowed message is reused only after its release: keep it short. release()
        raises BufferError while memoryviews made from .buf are alive."""
        return self._zero_copy(_borrow, (), block, timeout, _Empty)

    # ---- batches --------------------------------------------------------------
    def put_many(self, objs, block=True, timeout=None):
        """Puts every object of `objs` in order, under as few locks and wake-ups as possible.
        Waits for room like put(); when the time runs out, raises queue.Full (polyipc.Full)
        whose `.done` says how many (the first ones) were put."""
        encode = self._encode or _bytes_only
        items = tuple(bytes(d) if isinstance(d, (bytearray, memoryview)) else d for d in map(encode, objs))
        if not items:
            return
        if timeout is not None:
            _check_timeout(timeout)
            deadline = _monotonic() + timeout
        status_error = _errors.BY_STATUS
        h = self._handle
        ptr = h.enter()
        try:
            start = 0
            while True:
                if not block:
                    ns = 0
                elif timeout is None:
                    ns = _SLICE_NS
                else:
                    left = deadline - _monotonic()
                    ns = int(min(left, SLICE_SECONDS) * 1e9) if left > 0 else 0
                done, status, message = _put_many(ptr, items, start, ns)
                start += done
                if start == len(items):
                    return
                if status in (_TIMEOUT, _FULL, 0):
                    if ns == 0 or (timeout is not None and _monotonic() >= deadline):
                        err = _Full(message or f"queue {self._name!r}: full")
                        err.done = start
                        raise err
                    h.check()
                    continue
                err = status_error[status](message)
                err.status, err.done = status, start
                raise err
        finally:
            h.leave()

    def get_many(self, max_count=64, block=True, timeout=None):
        """Takes up to max_count objects: waits for the first like get(), then takes those
        already there. Returns a non-empty list; queue.Empty / polyipc.Closed like get()."""
        if max_count < 1:
            raise ValueError("max_count must be at least 1")
        if timeout is not None:
            _check_timeout(timeout)
            deadline = _monotonic() + timeout
        h = self._handle
        ptr = h.enter()
        try:
            cap = self._batch_bytes
            while True:
                if not block:
                    ns = 0
                elif timeout is None:
                    ns = _SLICE_NS
                else:
                    left = deadline - _monotonic()
                    ns = int(min(left, SLICE_SECONDS) * 1e9) if left > 0 else 0
                datas, status, message, needed = _get_many(ptr, max_count, cap, ns)
                if datas:
                    break
                if status == _TOO_LARGE and needed:
                    cap = max(needed, cap)  # the first message needs more room: retry at once
                    continue
                if status == _TIMEOUT or status == _EMPTY:
                    if ns == 0 or (timeout is not None and _monotonic() >= deadline):
                        raise _Empty(message)
                    h.check()
                    continue
                raise _errors.error_for(status, message)
        finally:
            h.leave()
        decode = self._decode
        if decode is None:
            return datas
        if decode is _decode_json_text:  # the default: the C decoder (the stdlib's for what it leaves)
            return [_json_loads(d, decode) for d in datas]
        if self._format == JSON:  # the JSON decoders take str
            return [decode(d.decode("utf-8")) for d in datas]
        return [decode(d) for d in datas]

    # put_bytes(data, block=True, timeout=None, *, priority=0): raw bytes (or str, as UTF-8); a
    # JSON-format queue still checks they are JSON. get_bytes(block=True, timeout=None): the next
    # message as raw bytes, whatever the format. Both are QueueBase's C methods; these do the rest.
    def _put_bytes_slow(self, data, block=True, timeout=None, *, priority=0):
        self._put_data(data, priority, block, timeout)

    def _get_bytes_slow(self, block=True, timeout=None):
        return self._get_data(block, timeout)

    # ---- state ------------------------------------------------------------------
    @property
    def maxsize(self):
        return self._maxsize

    @property
    def order(self):
        return self._order

    @property
    def format(self):
        return self._format

    closed = property(HandleOwner.closed.fget, doc="True once close() released this handle (not: closed for writing).")

    def qsize(self):
        return self._call(lib.NativeQueue_size)

    def empty(self):
        return self.qsize() == 0

    def full(self):
        """True when maxsize items are queued (a queue can also be full by bytes)."""
        size = self.qsize()
        return self._maxsize > 0 and size >= self._maxsize

    def stat(self):
        """The queue's options and counters, as a dict."""
        return json.loads(self._call(lib.NativeQueue_stat_json))

    def close_writes(self):
        """End of stream for every process: getters drain, then get() raises polyipc.Closed."""
        self._call(lib.NativeQueue_close_writes)

    def close(self):
        """Releases this handle (not the queue: see polyipc.unlink). Idempotent.

        Active reservations of this handle are cancelled and borrowed messages released
        first (their .buf released); while a memoryview made from one of their buffers is
        still alive, raises BufferError and closes nothing, as SharedMemory.close() does."""
        self._handle.close()

    def unlink(self):
        """Removes the queue's name (polyipc.unlink(self.name)); handles keep working."""
        lib.polyipc_unlink(self._name)

    def join_thread(self):
        """multiprocessing compatibility: there is no feeder thread; returns at once."""

    def cancel_join_thread(self):
        """multiprocessing compatibility: there is no feeder thread; does nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __reduce__(self):
        # Another process reopens the queue by name (in its POLYIPC_NAMESPACE).
        return _reopen, (type(self), self._name)

    def __repr__(self):
        state = " closed" if self.closed else ""
        fmt = getattr(self, "_format", "?")
        order = getattr(self, "_order", "?")
        return f"<polyipc.{type(self).__name__} {self._name!r} {fmt} {order}{state}>"


class Queue(_NativeQueue):
    """A named process-shared queue; multiprocessing.Queue's methods.

    Queue(name, maxsize=0, *, create=True, exclusive=False, order=FIFO|LIFO|PRIORITY,
          format=JSON|BYTES, capacity_bytes=0 (1 MiB), max_message_bytes=0, mode=0 (0600),
          ephemeral=False, dumps=None, loads=None)

    create=False opens an existing queue (polyipc.NotFound if there is none)
    with the options it has; exclusive=True fails with polyipc.Exists if it
    exists. order/format must agree with an existing queue (polyipc.Incompatible).
    """

    def put_nowait(self, obj, *, priority=0):
        self.put(obj, False, priority=priority)

    def get_nowait(self):
        return self.get(False)

    def __iter__(self):
        """Consuming iteration: `for item in q:` takes the items one by one until end of stream.

        Each step is exactly one blocking get() (no timeout, no prefetching) and yields what
        get() returns: breaking out of the loop loses nothing, the next get() takes the next
        item. When get() raises polyipc.Closed (close_writes() was called, by any process, and
        the queue is drained) the loop ends normally. Everything else propagates as get()
        raises it: KeyboardInterrupt (Ctrl-C interrupts a loop blocked on an empty queue within
        a slice, as it does get()), ValueError once this handle is close()d, decoding errors ...
        On a JoinableQueue each item is a lease, as with get(): call task_done() for it, before
        the next step in a single-threaded loop, since end of stream comes only once every item
        got is task_done (a lease may still be handed back), so a loop holding one waits there."""
        get = self.get
        while True:
            try:
                item = get()
            except _errors.Closed:
                return
            yield item  # outside the try: nothing thrown into the generator is taken for Closed


class JoinableQueue(Queue):
    """Queue plus task_done()/join(). A get() is a lease of this process until
    task_done(); a process that dies holding one has its item redelivered."""

    _joinable = True
    _kind = "JoinableQueue"

    def task_done(self, message=None):
        """Marks a get() of this process as done: with no argument the oldest, as
        multiprocessing does; with `message`, the item whose raw bytes these are (as
        get_bytes() returned them), so threads that finish out of order each end their own
        item and a crash hands back exactly the unfinished ones. ValueError
        (polyipc.InvalidArgument) when this process holds no such item."""
        if message is None:
            self._call(lib.NativeQueue_task_done)
        elif isinstance(message, (bytes, bytearray, memoryview)):
            self._call(lib.NativeQueue_task_done_message, message)
        else:
            raise TypeError("task_done(message): message must be the raw bytes get_bytes() returned, "
                            f"not {type(message).__name__}")

    def join(self, timeout=None):
        """Waits until every item ever put was task_done. timeout (seconds) raises
        polyipc.TimeoutError (a builtins.TimeoutError) when it runs out."""
        h = self._handle
        _check_timeout(timeout)
        join = lib.NativeQueue_join
        deadline = None if timeout is None else _monotonic() + timeout
        ptr = h.enter()
        try:
            while True:
                if deadline is None:
                    ns = _SLICE_NS
                else:
                    left = deadline - _monotonic()
                    ns = int(min(left, SLICE_SECONDS) * 1e9) if left > 0 else 0
                try:
                    return join(ptr, ns)
                except _Timeout:
                    if deadline is not None and _monotonic() >= deadline:
                        raise
                    h.check()
        finally:
            h.leave()


class SimpleQueue(_NativeQueue):
    """multiprocessing.SimpleQueue's methods: put(obj), get(), empty(), close()."""

    _kind = "SimpleQueue"

    def put(self, obj):
        Queue.put(self, obj)

    def get(self):
        return Queue.get(self)
