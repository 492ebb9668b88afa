"""Value and Array: multiprocessing.Value / multiprocessing.Array over named
polyipc arrays of int64 or double, shared with processes in any language.

    hits = polyipc.Value("q", 0, name="hits")          # open or create the int64 "hits"
    hits.add(1)                                         # atomic fetch-add (polyipc extra)
    with hits.get_lock():                               # the object's own robust lock
        hits.value = hits.value * 2
    grid = polyipc.Array("d", 100, name="grid")         # 100 doubles, zeroed
    grid[3] = 1.5; grid[:4]                             # [0.0, 0.0, 0.0, 1.5]

Differences from multiprocessing, on purpose:
  - a name (keyword) is required; the object lives in POSIX shared memory until
    polyipc.unlink() removes it; close() only releases this handle.
  - two element types: int64 for 'b', 'h', 'i', 'l', 'q' (and the matching ctypes types),
    double for 'f' and 'd'. Integers out of int64 raise OverflowError (ctypes would wrap).
  - the initial value (or initializer) is stored when this call creates the object; an
    existing one keeps its values (its type and length must agree: polyipc.Incompatible).
  - every element access is one sequentially consistent atomic operation (never torn), and
    does not take the lock; the lock (get_lock(), `with value:`) serves compound updates, as
    in multiprocessing: `with v.get_lock(): v.value += 1`. add() and compare_exchange() are
    lock-free atomic extras.
  - lock=True (the default) uses the object's own robust, process-shared lock: recursive for
    the thread holding it through this handle (as multiprocessing's RLock), owned by that
    thread, and when a process dies holding it the next acquire returns True, sets
    previous_owner_died and issues polyipc.OwnerDeadWarning. lock=False gives no lock
    (get_lock() raises AttributeError); a polyipc.Lock / RLock may be given instead.
  - get_obj() returns the object itself (there is no separate unsynchronised ctypes object).
"""

import json
import numbers
import operator
import threading
import warnings

from . import _errors
from ._handle import Handle, HandleOwner, open_mode as _open_mode
from ._native import lib
from ._sync import Lock, _wait

__all__ = ["Value", "Array"]

INT64, DOUBLE = 0, 1
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def _typecodes():
    import ctypes
    table = {"b": INT64, "h": INT64, "i": INT64, "l": INT64, "q": INT64, "f": DOUBLE, "d": DOUBLE}
    for t in (ctypes.c_byte, ctypes.c_short, ctypes.c_int, ctypes.c_long, ctypes.c_longlong, ctypes.c_int8,
              ctypes.c_int16, ctypes.c_int32, ctypes.c_int64):
        table[t] = INT64
    for t in (ctypes.c_float, ctypes.c_double):
        table[t] = DOUBLE
    return table


_TYPECODES = _typecodes()
_OPS = {
    INT64: (lib.NativeArray_load_i64, lib.NativeArray_store_i64, lib.NativeArray_add_i64,
            lib.NativeArray_compare_exchange_i64),
    DOUBLE: (lib.NativeArray_load_f64, lib.NativeArray_store_f64, lib.NativeArray_add_f64,
             lib.NativeArray_compare_exchange_f64),
}


def _elem_type(typecode):
    try:
        return _TYPECODES[typecode]
    except (KeyError, TypeError):
        raise TypeError(f"polyipc Value/Array element type must be one of 'b', 'h', 'i', 'l', 'q' (int64), "
                        f"'f', 'd' (double) or the matching ctypes type, not {typecode!r}") from None


def _to_int64(v):
    v = operator.index(v)  # TypeError for float, str ... as ctypes
    if not _INT64_MIN <= v <= _INT64_MAX:
        raise OverflowError(f"{v} does not fit in int64")
    return v


def _to_double(v):
    if isinstance(v, numbers.Real) or hasattr(v, "__float__") and not isinstance(v, (str, bytes, bytearray)):
        return float(v)
    raise TypeError(f"must be real number, not {type(v).__name__}")


_CONVERT = {INT64: _to_int64, DOUBLE: _to_double}

_NOT_OPEN = Handle(None, "Value")
_NOT_OPEN.closed = True


class _ArrayLock:
    """The robust lock built into a polyipc Value/Array: acquire(block=True, timeout=None) -> bool,
    release(), `with`. Recursive for the thread that holds it (through this handle), as
    multiprocessing's default RLock; owned by that thread (release by another raises
    polyipc.NotOwner, a RuntimeError and an AssertionError)."""

    previous_owner_died = False

    def __init__(self, owner):
        self._owner = owner  # the Value/Array: its handle
        self._thread = None
        self._count = 0

    def acquire(self, block=True, timeout=None):
        me = threading.get_ident()
        if self._thread == me:
            self._count += 1
            return True
        h = self._owner._handle
        ptr = h.enter()
        try:
            got = _wait(h, lib.NativeArray_acquire, ptr, block, timeout)
            if got:
                self.previous_owner_died = False
        except _errors.OwnerDead as e:
            got = True
            self.previous_owner_died = True
            self._thread, self._count = me, 1
            warnings.warn(_errors.OwnerDeadWarning(f"{e} (the lock is held: repair, then release it)"), stacklevel=2)
        finally:
            h.leave()
        if got:
            self._thread, self._count = me, 1
        return got

    def release(self):
        if self._thread != threading.get_ident():
            raise _errors.NotOwner(f"{self._owner._what}: lock released by a thread that does not hold it")
        if self._count > 1:
            self._count -= 1
            return
        self._thread, self._count = None, 0
        self._owner._call(lib.NativeArray_release)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()

    def __repr__(self):
        state = f"held x{self._count} by thread {self._thread}" if self._thread else "not held by this process"
        return f"<polyipc lock of {self._owner._what}: {state}>"


def _reopen(cls, typecode, name, lock):
    if cls is Value:
        return Value(typecode, name=name, lock=lock, create=False)
    return Array(typecode, 0, name=name, lock=lock, create=False)


class _SharedArray(HandleOwner):
    _kind = "Array"

    def _open(self, typecode, name, length, values, lock, create, exclusive, mode, ephemeral):
        self._handle = _NOT_OPEN
        if not isinstance(name, str):
            raise TypeError(f"{self._kind} name must be str, not {type(name).__name__}")
        self._name = name
        self._typecode = typecode
        self._what = f"{self._kind} {name!r}"
        t = _elem_type(typecode)
        self._type = t
        convert = _CONVERT[t]
        values = [convert(v) for v in values] if values is not None else None
        initial = values is not None and any(v != 0 or (t == DOUBLE and str(v) != "0.0") for v in values)
        args = (int(mode), int(bool(ephemeral)))
        if lock is not True and lock is not False and not isinstance(lock, Lock):
            raise TypeError(f"lock must be True, False or a polyipc.Lock/RLock, not {type(lock).__name__}")
        created = False
        if not initial or exclusive or not create:
            ptr = lib.NativeArray_open(name, _open_mode(create, exclusive), t, length, *args)
            created = exclusive
        else:
            # To store the initializer only when this call creates the object: exclusive create
            # first, else attach (the name may vanish in between: try again).
            for _ in range(100):
                try:
                    ptr = lib.NativeArray_open(name, lib.POLYIPC_CREATE_ONLY, t, length, *args)
                    created = True
                    break
                except _errors.Exists:
                    pass
                try:
                    ptr = lib.NativeArray_open(name, lib.POLYIPC_OPEN_ONLY, t, length, *args)
                    break
                except _errors.NotFound:
                    pass
            else:
                raise _errors.Incompatible(f"{self._what}: created and removed again and again while opening")
        ptr = getattr(ptr, "this", ptr)
        self._handle = Handle(ptr, self._what, lib.delete_NativeArray)
        self._length = lib.NativeArray_length(ptr)
        self._load, self._store, self._add, self._cas = _OPS[t]
        self._convert = convert
        if created and initial:
            for i, v in enumerate(values):
                self._store(ptr, i, v)
        self._lock_arg = lock
        self._lock = _ArrayLock(self) if lock is True else (lock or None)

    # ---- multiprocessing's synchronized wrapper -----------------------------------
    def get_lock(self):
        """The lock for compound updates (AttributeError when opened with lock=False)."""
        if self._lock is None:
            raise AttributeError(f"{self._what} was opened with lock=False: it has no lock")
        return self._lock

    def get_obj(self):
        """The object itself: every access is atomic already (polyipc has no raw ctypes object)."""
        return self

    def __enter__(self):
        return self.get_lock().__enter__()

    def __exit__(self, *exc):
        return self.get_lock().__exit__(*exc)

    # ---- polyipc extras -----------------------------------------------------------------
    @property
    def typecode(self):
        """The typecode (or ctypes type) it was opened with."""
        return self._typecode

    def close(self):
        """Releases this handle (not the object: see polyipc.unlink; a held lock stays held). Idempotent."""
        self._handle.close()

    def unlink(self):
        """Removes the name (polyipc.unlink(self.name)); open handles keep working."""
        lib.polyipc_unlink(self._name)

    def stat(self):
        """Type, length, values, lock state and attached processes, as a dict."""
        return json.loads(self._call(lib.NativeArray_stat_json))

    def __reduce__(self):
        # Another process reopens it by name (in its POLYIPC_NAMESPACE).
        return _reopen, (type(self), self._typecode, self._name, self._lock_arg)


class Value(_SharedArray):
    """A named shared number; multiprocessing.Value's API (.value, get_lock(), get_obj()).

    Value(typecode, value=0, *, name, lock=True, create=True, exclusive=False, mode=0, ephemeral=False)

    typecode: 'b', 'h', 'i', 'l', 'q' (int64) or 'f', 'd' (double), or the ctypes type. value
    is stored when this call creates it. create=False attaches to an existing one
    (polyipc.NotFound otherwise); exclusive=True fails with polyipc.Exists when it exists.
    """

    _kind = "Value"

    def __init__(self, typecode, value=0, *, name, lock=True, create=True, exclusive=False, mode=0,
                 ephemeral=False):
        self._open(typecode, name, 1, [value], lock, create, exclusive, mode, ephemeral)

    @property
    def value(self):
        """An atomic load / store."""
        return self._call(self._load, 0)

    @value.setter
    def value(self, v):
        self._call(self._store, 0, self._convert(v))

    def add(self, delta):
        """Atomically adds delta (int64 wraps around); returns the value before."""
        return self._call(self._add, 0, self._convert(delta))

    def compare_exchange(self, expected, desired):
        """Atomically replaces the value by desired if it equals expected (doubles: the same
        bits); True when replaced."""
        return bool(self._call(self._cas, 0, self._convert(expected), self._convert(desired)))

    def __repr__(self):
        if self.closed:
            return f"<polyipc.Value {getattr(self, '_name', '?')!r} closed>"
        return f"<polyipc.Value {self._name!r} {self._typecode!r} {self.value!r}>"


class Array(_SharedArray):
    """A named shared array of numbers; multiprocessing.Array's API (len, indexing, slicing,
    iteration, get_lock(), get_obj()).

    Array(typecode, size_or_initializer, *, name, lock=True, create=True, exclusive=False, mode=0,
          ephemeral=False)

    size_or_initializer: the length (elements start at 0) or a sequence of initial values,
    stored when this call creates the array. With create=False, 0 attaches whatever the length.
    """

    _kind = "Array"

    def __init__(self, typecode, size_or_initializer, *, name, lock=True, create=True, exclusive=False, mode=0,
                 ephemeral=False):
        if isinstance(size_or_initializer, int) and not isinstance(size_or_initializer, bool):
            if size_or_initializer < 0:
                raise ValueError("array size must be >= 0")
            length, values = size_or_initializer, None
        else:
            values = list(size_or_initializer)
            length = len(values)
        self._open(typecode, name, length, values, lock, create, exclusive, mode, ephemeral)

    def __len__(self):
        return self._length

    def _index(self, i):
        i = operator.index(i)
        n = self._length
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("invalid index")
        return i

    def __getitem__(self, i):
        if isinstance(i, slice):
            load = self._load
            h = self._handle
            ptr = h.enter()
            try:
                return [load(ptr, k) for k in range(*i.indices(self._length))]
            finally:
                h.leave()
        return self._call(self._load, self._index(i))

    def __setitem__(self, i, v):
        if isinstance(i, slice):
            indexes = range(*i.indices(self._length))
            values = [self._convert(x) for x in v]
            if len(values) != len(indexes):
                raise ValueError("Can only assign sequence of same size")
            store = self._store
            h = self._handle
            ptr = h.enter()
            try:
                for k, x in zip(indexes, values):
                    store(ptr, k, x)
            finally:
                h.leave()
            return
        self._call(self._store, self._index(i), self._convert(v))

    def __iter__(self):
        for k in range(self._length):
            yield self._call(self._load, k)

    def add(self, index, delta):
        """Atomically adds delta to element index (int64 wraps around); returns the value before."""
        return self._call(self._add, self._index(index), self._convert(delta))

    def compare_exchange(self, index, expected, desired):
        """Atomically replaces element index by desired if it equals expected (doubles: the same
        bits); True when replaced."""
        return bool(self._call(self._cas, self._index(index), self._convert(expected), self._convert(desired)))

    def __repr__(self):
        if self.closed:
            return f"<polyipc.Array {getattr(self, '_name', '?')!r} closed>"
        return f"<polyipc.Array {self._name!r} {self._typecode!r} {self[:]!r}>"
