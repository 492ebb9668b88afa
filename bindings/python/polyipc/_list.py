"""List: multiprocessing.Manager().list() without a manager process, over a named
polyipc list of JSON values, shared with processes in any language.

    jobs = polyipc.List("jobs")                     # open or create "jobs"
    jobs.append({"id": 1})                          # json.dumps on the way in
    jobs.insert(0, "first"); jobs[-1]               # {'id': 1}; IndexError when out of range
    jobs[0] = "replaced"; del jobs[0]
    job = jobs.pop(0)                               # atomic: removes and returns it (default: the last)
    len(jobs); list(jobs); jobs.snapshot()          # every call is one atomic operation

A collections.abc.MutableSequence. Differences from a Manager's list, on purpose:
  - a name is required; the list lives in POSIX shared memory until polyipc.unlink()
    removes it; close() (or the end of a `with` block) only releases this handle.
  - values travel as JSON, so what comes back is what json.loads gives (tuples come back
    as lists, int keys of dicts as str), and a value JSON cannot carry raises TypeError /
    ValueError, storing nothing.
  - l[i], l[i] = v, del l[i], append, insert and pop are each atomic, also against a
    process killed in the middle of one; IndexError when the index is out of range (at
    the time of the call: another process may have shortened the list), and for pop of
    an empty list, as a list does.
  - iteration, `in`, index(), count(), reversed(), l[a:b] and == read one consistent
    snapshot (a plain list). Slice assignment and deletion are not supported (TypeError).
  - extend(), remove(), reverse() and += are several operations, not one: another process
    may act between them (extend encodes every value first, so a value JSON cannot
    carry appends nothing).
  - polyipc.Full when max_items values are there or capacity_bytes are used up,
    polyipc.TooLarge for a value that can never fit (both leave the list as it was).

Extras: append_json / insert_json / set_json / get_json / pop_json / snapshot_json
(JSON text as is, for another codec or values from other languages), the version property
and wait_change(seen_version, timeout=None) (watch for a change by any process), stat(),
unlink().
"""

import operator
from collections.abc import MutableSequence

from . import _errors
from ._dict import _decode, _encode, _text, _wait_change
from ._sync import _SyncObject
from ._handle import Handle, open_mode
from ._native import lib

__all__ = ["List"]

_NOT_OPEN = Handle(None, "List")
_NOT_OPEN.closed = True

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1

_append, _insert, _get, _set, _pop = (lib.NativeList_append, lib.NativeList_insert, lib.NativeList_get,
                                      lib.NativeList_set, lib.NativeList_pop)
_version, _wait = lib.NativeList_version, lib.NativeList_wait_change  # wait: (seen, ns) -> version, TIMEOUT raises


def _index(index):
    """An element's index as the native call takes it; IndexError beyond int64, as a list says."""
    i = operator.index(index)  # TypeError for str, float, None ...
    if not _INT64_MIN <= i <= _INT64_MAX:
        raise IndexError("cannot fit 'int' into an index-sized integer")
    return i


def _position(index):
    """insert()'s index: any int, clamped to int64 (beyond the ends it appends or prepends anyway)."""
    return min(max(operator.index(index), _INT64_MIN), _INT64_MAX)


class List(_SyncObject, MutableSequence):
    """A named process-shared list of JSON values; a MutableSequence.

    List(name, *, create=True, exclusive=False, capacity_bytes=0, max_items=0, mode=0,
         ephemeral=False)

    create=False: open an existing list only (polyipc.NotFound); exclusive=True: create it,
    polyipc.Exists if the name is taken. capacity_bytes (room for values, default 1 MiB) and
    max_items (default 4096) apply when this call creates the list. mode: permission bits
    (default 0600); ephemeral: unlinked when the last attached process detaches or dies.
    Another kind of object under the name: polyipc.Incompatible.
    """

    __slots__ = ("_name", "_handle")
    _kind = "List"
    _free = lib.delete_NativeList
    _stat_json = lib.NativeList_stat_json

    def __init__(self, name, *, create=True, exclusive=False, capacity_bytes=0, max_items=0, mode=0,
                 ephemeral=False):
        self._handle = _NOT_OPEN  # so __repr__ and close() work if opening fails
        if not isinstance(name, str):
            raise TypeError(f"List name must be str, not {type(name).__name__}")
        ptr = lib.NativeList_open(name, open_mode(create, exclusive), int(capacity_bytes), int(max_items), int(mode),
                                  int(bool(ephemeral)))
        self._attach(name, ptr)

    def _at(self, fn, *args):
        """A call on one element: "empty" becomes IndexError, as OutOfRange already is one."""
        try:
            return self._call(fn, *args)
        except _errors.Empty as e:
            raise IndexError(f"pop from empty list ({e})") from None

    # ---- the sequence ----------------------------------------------------------------
    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.snapshot()[index]
        return _decode(self._at(_get, _index(index)))

    def __setitem__(self, index, value):
        if isinstance(index, slice):
            raise TypeError("polyipc.List does not support slice assignment")
        self._at(_set, _index(index), _encode(value))

    def __delitem__(self, index):
        if isinstance(index, slice):
            raise TypeError("polyipc.List does not support slice deletion")
        self._at(_pop, _index(index))

    def __len__(self):
        return self._call(lib.NativeList_len)

    def __iter__(self):
        return iter(self.snapshot())  # a snapshot: other processes may change the list meanwhile

    def __reversed__(self):
        return reversed(self.snapshot())

    def __contains__(self, value):
        return value in self.snapshot()

    def __eq__(self, other):
        if isinstance(other, List):
            return self.snapshot() == other.snapshot()
        if isinstance(other, list):
            return self.snapshot() == other
        return NotImplemented

    __hash__ = None

    def index(self, value, start=0, stop=None):
        """The first index of value in one snapshot, between start and stop; ValueError when absent."""
        snap = self.snapshot()
        return snap.index(value, start) if stop is None else snap.index(value, start, stop)

    def count(self, value):
        """How many values equal value, in one snapshot."""
        return self.snapshot().count(value)

    def append(self, value):
        """Appends value (as JSON), atomically."""
        self._call(_append, _encode(value))

    def insert(self, index, value):
        """Inserts value before element index, atomically; as list.insert, an index past the end
        appends and one before the start prepends (any int)."""
        self._call(_insert, _position(index), _encode(value))

    def pop(self, index=-1):
        """Atomically removes element index (default the last) and returns it; IndexError when
        out of range or empty."""
        return _decode(self._at(_pop, _index(index)))

    def extend(self, values):
        """Appends each value, in order. Every value is encoded first (a value JSON cannot
        carry appends nothing); the appends are one atomic operation each, not together."""
        texts = [_encode(v) for v in values]
        h = self._handle
        ptr = h.enter()
        try:
            for text in texts:
                _append(ptr, text)
        finally:
            h.leave()

    def clear(self):
        """Removes every value, atomically."""
        self._call(lib.NativeList_clear)

    def snapshot(self):
        """A plain list of every value, one snapshot."""
        return _decode(self._call(lib.NativeList_items))

    copy = snapshot

    # ---- polyipc extras ---------------------------------------------------------------
    def append_json(self, text):
        """Appends one JSON text (str or UTF-8 bytes), stored as given; polyipc.InvalidJSON
        (a ValueError) when it is not exactly one JSON value."""
        self._call(_append, _text(text))

    def insert_json(self, index, text):
        """insert() with a JSON text."""
        self._call(_insert, _position(index), _text(text))

    def set_json(self, index, text):
        """l[index] = value, with a JSON text."""
        self._at(_set, _index(index), _text(text))

    def get_json(self, index):
        """Element index as the JSON text stored (str); IndexError when out of range."""
        return self._at(_get, _index(index)).decode("utf-8")

    def pop_json(self, index=-1):
        """pop(), returning the JSON text stored (str)."""
        return self._at(_pop, _index(index)).decode("utf-8")

    def snapshot_json(self):
        """Every value as one JSON array (str), one snapshot."""
        return self._call(lib.NativeList_items).decode("utf-8")

    @property
    def version(self):
        """The list's version: 0 for a new list, +1 per change (each append, insert, set, pop,
        del and clear; extend counts one per value). Reads and failed calls leave it as it is.
        Any process's change counts. Read it before reading what you need, then
        wait_change(version)."""
        return self._call(_version)

    def wait_change(self, seen_version, timeout=None):
        """Waits until the list's version differs from seen_version (a change by any process) and
        returns the version then; when timeout seconds pass first, returns seen_version itself
        (compare: `l.wait_change(v, 5) != v`). An old version returns at once.

            v = jobs.version               # first the version,
            items = jobs.snapshot()        # then what you need,
            v = jobs.wait_change(v)        # then wait from that version: no change is missed

        timeout: None waits forever, 0 never blocks, negative or NaN is ValueError (as
        Event.wait, which likewise returns False rather than raising when time runs out). It
        waits in slices with the GIL released: Ctrl-C raises KeyboardInterrupt within a slice,
        and close() from another thread ends it with ValueError."""
        return _wait_change(self, _wait, seen_version, timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
