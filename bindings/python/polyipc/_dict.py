"""Dict: multiprocessing.Manager().dict() without a manager process, over a named
polyipc dict of str keys to JSON values, shared with processes in any language.

    scores = polyipc.Dict("scores")                 # open or create "scores"
    scores["ada"] = {"points": 3}                   # json.dumps on the way in
    scores["ada"]                                   # {'points': 3}; KeyError when absent
    scores.setdefault("bob", 0)                     # atomic: set only if absent
    old = scores["bob"]
    scores.compare_and_set("bob", old, old + 1)     # atomic; True when it changed
    del scores["ada"]; len(scores); list(scores)    # every call is one atomic operation

A collections.abc.MutableMapping. Differences from a Manager's dict, on purpose:
  - a name is required; the dict lives in POSIX shared memory until polyipc.unlink()
    removes it; close() (or the end of a `with` block) only releases this handle.
  - keys are str (TypeError otherwise, None included; keys of at most 4096 UTF-8 bytes,
    without NUL: polyipc.InvalidArgument); values travel as JSON, so what comes back is
    what json.loads gives (tuples come back as lists, int keys of inner dicts as str),
    and a value JSON cannot carry raises TypeError / ValueError, storing nothing.
  - each call is atomic, also against a process killed in the middle of it. keys(),
    values(), items() and copy() return one consistent snapshot (lists, and a plain dict
    for copy(), as a Manager's dict does), in the order keys were last set.
    setdefault, pop and popitem are atomic too (built on compare_and_set); update() sets
    key by key.
  - polyipc.Full when max_items keys are there or capacity_bytes are used up,
    polyipc.TooLarge for an entry that can never fit (both leave the dict as it was).

Extras: compare_and_set(key, expected, desired) (JSON equality: 1 == 1.0; polyipc.ABSENT
for "the key is absent" / "delete it"), get_json / set_json / compare_and_set_json (JSON
text as is, for another codec or values from other languages), the version property and
wait_change(seen_version, timeout=None) (watch for a change by any process), stat(), unlink().
"""

import operator
from collections.abc import MutableMapping

from . import _errors, _jsoncodec
from ._handle import Handle, open_mode
from ._native import lib
from ._sync import _SyncObject, _deadline, _slice_ns

__all__ = ["Dict", "ABSENT"]


class _Absent:
    """polyipc.ABSENT: in compare_and_set, the key being absent (expected) or deleted (desired)."""

    __slots__ = ()

    def __repr__(self):
        return "polyipc.ABSENT"

    def __reduce__(self):
        return "ABSENT"  # the module-level singleton, also after pickling

    def __bool__(self):
        return False


ABSENT = _Absent()
_MISSING = object()  # pop()'s "no default given"
_GONE = object()  # popitem(): the key went away meanwhile

_NOT_OPEN = Handle(None, "Dict")
_NOT_OPEN.closed = True

_encode = _jsoncodec.encode
_decode_text = _jsoncodec.decode_text
_json_loads = lib.polyipc_python_json_loads  # bytes -> object, decoded in C (the stdlib's for what it leaves)
_NO_TEXT = b""  # the native layer's "absent": a valid JSON text is never empty

_get, _set, _remove = lib.NativeDict_get, lib.NativeDict_set, lib.NativeDict_remove
_cas = lib.NativeDict_compare_and_set  # expected / desired b"": absent / delete
_version, _wait = lib.NativeDict_version, lib.NativeDict_wait_change  # wait: (seen, ns) -> version, TIMEOUT raises


def _decode(raw):
    return _json_loads(raw, _decode_text)


def _key(key):
    if not isinstance(key, str):
        raise TypeError(f"polyipc.Dict keys are str, not {type(key).__name__}")
    return key  # the typemap passes its UTF-8 (UnicodeEncodeError for lone surrogates)


def _text(text, what="value"):
    if isinstance(text, (str, bytes, bytearray, memoryview)):
        if len(text) == 0:
            raise _errors.InvalidJSON(f"the {what} is an empty JSON text")
        return text
    raise TypeError(f"the {what} JSON text must be str or bytes-like, not {type(text).__name__}")


_UINT64_MAX = (1 << 64) - 1
_Timeout = _errors.TimeoutError


def _wait_change(owner, fn, seen_version, timeout):
    """Dict.wait_change and List.wait_change: fn(ptr, seen, slice_ns) in slices, as Event.wait
    waits (the same seen version every slice, so no change between two slices is missed).
    Returns the version at return: seen_version itself when the time ran out."""
    seen = operator.index(seen_version)  # TypeError for str, float, None ...
    if not 0 <= seen <= _UINT64_MAX:
        raise ValueError(f"'seen_version' must be a version (0 to 2**64-1), not {seen_version!r}")
    h = owner._handle
    ptr = h.enter()
    try:
        deadline = _deadline(timeout)  # ValueError for negative or NaN, as Event.wait
        while True:
            ns = _slice_ns(deadline)
            try:
                return fn(ptr, seen, ns)
            except _Timeout:
                if ns == 0:
                    return seen
                h.check()  # close() from another thread meanwhile: ValueError
    finally:
        h.leave()


class Dict(_SyncObject, MutableMapping):
    """A named process-shared dict of str keys to JSON values; a MutableMapping.

    Dict(name, *, create=True, exclusive=False, capacity_bytes=0, max_items=0, mode=0,
         ephemeral=False)

    create=False: open an existing dict only (polyipc.NotFound); exclusive=True: create it,
    polyipc.Exists if the name is taken. capacity_bytes (room for keys and values, default
    1 MiB) and max_items (default 4096) apply when this call creates the dict. mode:
    permission bits (default 0600); ephemeral: unlinked when the last attached process
    detaches or dies. Another kind of object under the name: polyipc.Incompatible.
    """

    __slots__ = ("_name", "_handle")
    _kind = "Dict"
    _free = lib.delete_NativeDict
    _stat_json = lib.NativeDict_stat_json

    def __init__(self, name, *, create=True, exclusive=False, capacity_bytes=0, max_items=0, mode=0,
                 ephemeral=False):
        self._handle = _NOT_OPEN  # so __repr__ and close() work if opening fails
        if not isinstance(name, str):
            raise TypeError(f"Dict name must be str, not {type(name).__name__}")
        ptr = lib.NativeDict_open(name, open_mode(create, exclusive), int(capacity_bytes), int(max_items), int(mode),
                                  int(bool(ephemeral)))
        self._attach(name, ptr)

    # ---- the mapping ----------------------------------------------------------------
    def __getitem__(self, key):
        raw = self._call(_get, _key(key))
        if not raw:
            raise KeyError(key)
        return _decode(raw)

    def __setitem__(self, key, value):
        self._call(_set, _key(key), _encode(value))

    def __delitem__(self, key):
        if not self._call(_remove, _key(key)):
            raise KeyError(key)

    def __contains__(self, key):
        return bool(self._call(_get, _key(key)))

    def __len__(self):
        return self._call(lib.NativeDict_len)

    def __iter__(self):
        return iter(self.keys())  # a snapshot: other processes may change the dict meanwhile

    def get(self, key, default=None):
        """The value of key, or default when it is absent."""
        raw = self._call(_get, _key(key))
        return _decode(raw) if raw else default

    def keys(self):
        """A list of the keys, one snapshot, in the order they were last set."""
        return _decode(self._call(lib.NativeDict_keys))

    def items(self):
        """A list of (key, value) pairs, one snapshot, in the order keys were last set."""
        return list(self.copy().items())

    def values(self):
        """A list of the values, one snapshot, in the order their keys were last set."""
        return list(self.copy().values())

    def copy(self):
        """A plain dict of every entry, one snapshot."""
        return _decode(self._call(lib.NativeDict_items))

    def clear(self):
        """Removes every entry, atomically."""
        self._call(lib.NativeDict_clear)

    def setdefault(self, key, default=None):
        """Atomically: the value of key if present, else sets it to default and returns default."""
        k = _key(key)
        text = _encode(default)
        h = self._handle
        ptr = h.enter()
        try:
            while True:
                raw = _get(ptr, k)
                if raw:
                    return _decode(raw)
                if _cas(ptr, k, _NO_TEXT, text):
                    return default
                # set by another process meanwhile (then maybe deleted again): look again
        finally:
            h.leave()

    def pop(self, key, default=_MISSING):
        """Atomically removes key and returns its value; default (or KeyError) when absent."""
        k = _key(key)
        h = self._handle
        ptr = h.enter()
        try:
            while True:
                raw = _get(ptr, k)
                if not raw:
                    if default is _MISSING:
                        raise KeyError(key)
                    return default
                if _cas(ptr, k, raw, _NO_TEXT):  # only that value (or one equal as JSON) is deleted
                    return _decode(raw)
        finally:
            h.leave()

    def popitem(self):
        """Atomically removes the key set last and returns (key, value); KeyError when empty."""
        while True:
            keys = self.keys()
            if not keys:
                raise KeyError("popitem(): dictionary is empty")
            value = self.pop(keys[-1], _GONE)
            if value is not _GONE:
                return keys[-1], value

    # ---- polyipc extras ---------------------------------------------------------------
    def compare_and_set(self, key, expected, desired):
        """Atomically sets key to desired if its value equals expected as JSON (1 == 1.0, key
        order aside); True when it changed. expected=polyipc.ABSENT: only if the key is
        absent; desired=polyipc.ABSENT: deletes the key (on a match)."""
        return bool(self._call(_cas, _key(key), _NO_TEXT if expected is ABSENT else _encode(expected),
                               _NO_TEXT if desired is ABSENT else _encode(desired)))

    def get_json(self, key, default=None):
        """The value of key as the JSON text stored (str), or default when it is absent."""
        raw = self._call(_get, _key(key))
        return raw.decode("utf-8") if raw else default

    def set_json(self, key, text):
        """Sets key to one JSON text (str or UTF-8 bytes), stored as given; polyipc.InvalidJSON
        (a ValueError) when it is not exactly one JSON value."""
        self._call(_set, _key(key), _text(text))

    def compare_and_set_json(self, key, expected, desired):
        """compare_and_set with JSON texts; None for absent / delete."""
        return bool(self._call(_cas, _key(key), _NO_TEXT if expected is None else _text(expected, "expected value"),
                               _NO_TEXT if desired is None else _text(desired)))

    @property
    def version(self):
        """The dict's version: 0 for a new dict, +1 per change (a set, a delete that found its
        key, a clear, a compare-and-set that swapped; setdefault, pop and popitem count when
        they change it). Reads, misses and failed calls leave it as it is. Any process's change
        counts. Read it before reading what you need, then wait_change(version)."""
        return self._call(_version)

    def wait_change(self, seen_version, timeout=None):
        """Waits until the dict's version differs from seen_version (a change by any process) and
        returns the version then; when timeout seconds pass first, returns seen_version itself
        (compare: `d.wait_change(v, 5) != v`). An old version returns at once.

            v = d.version                  # first the version,
            state = d.copy()               # then what you need,
            v = d.wait_change(v)           # then wait from that version: no change is missed

        timeout: None waits forever, 0 never blocks, negative or NaN is ValueError (as
        Event.wait, which likewise returns False rather than raising when time runs out). It
        waits in slices with the GIL released: Ctrl-C raises KeyboardInterrupt within a slice,
        and close() from another thread ends it with ValueError."""
        return _wait_change(self, _wait, seen_version, timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
