"""Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition and Barrier:
multiprocessing's names (and threading's signatures) over named polyipc
objects shared with processes in any language.

Differences from multiprocessing, on purpose:
  - every object has a name and lives in POSIX shared memory until
    polyipc.unlink() removes it; close() only releases this handle (idempotent)
    and never releases a lock. After close() every method raises ValueError.
  - robust: a process that dies holding a Lock/RLock/Condition's lock never
    wedges the others. The next acquire succeeds (returns True, the lock is
    held), sets `previous_owner_died = True` on the object and issues a
    polyipc.OwnerDeadWarning: repair what the lock guards. A dead process's
    Semaphore slots come back; a dead Barrier waiter breaks the barrier.
  - a lock is owned by the OS thread that acquired it (as threading.Lock
    behaves in practice, not multiprocessing.Lock, which any process may
    release). release(), Condition.wait() and notify() by a thread that does
    not hold it raise polyipc.NotOwner, a RuntimeError (what threading raises)
    and an AssertionError (what multiprocessing.RLock raises).
  - a blocking acquire of a Lock by the thread that holds it raises
    polyipc.InvalidArgument (a ValueError) at once instead of deadlocking;
    acquire(False) returns False as usual.
  - Condition's default lock is a plain Lock named "<name>.lock" (the C API's
    default, shared with every language), not an RLock as in multiprocessing:
    pass lock=polyipc.RLock(...) (or the name of an existing rlock) for one.
  - BoundedSemaphore needs value >= 1 (0 would be an unbounded semaphore).
  - timeouts are seconds: None waits forever, 0 never blocks, a negative or
    NaN timeout is a ValueError (as polyipc's queues).
  - every blocking call waits in short slices (SLICE_SECONDS) with the GIL
    released: Ctrl-C raises KeyboardInterrupt within a slice, and close() from
    another thread ends the wait with ValueError. An interrupted Barrier.wait
    breaks the barrier for everyone (unless its round just completed), as
    Java's CyclicBarrier does.
"""

import json
import time
import warnings

from . import _errors
from ._handle import Handle, HandleOwner, open_mode as _open_mode
from ._native import lib
from ._queues import SLICE_SECONDS

__all__ = ["Lock", "RLock", "Semaphore", "BoundedSemaphore", "Event", "Condition", "Barrier"]

_SLICE_NS = int(SLICE_SECONDS * 1e9)
_monotonic = time.monotonic
_Timeout = _errors.TimeoutError
_OwnerDead = _errors.OwnerDead
_Broken = _errors.Broken


def _deadline(timeout):
    """None for no limit, else the monotonic deadline. ValueError for negative or NaN."""
    if timeout is None:
        return None
    if not timeout >= 0:  # also NaN
        raise ValueError(f"'timeout' must be a non-negative number of seconds or None, not {timeout!r}")
    return _monotonic() + timeout


def _slice_ns(deadline):
    """The next slice: at most SLICE_SECONDS, 0 once the deadline passed."""
    if deadline is None:
        return _SLICE_NS
    left = deadline - _monotonic()
    return int(min(left, SLICE_SECONDS) * 1e9) if left > 0 else 0


def _wait(h, fn, ptr, block, timeout, *args):
    """Calls fn(ptr, *args, slice_ns) until it returns (True) or the time runs out (False).
    Other errors (OwnerDead included) propagate."""
    if not block:
        try:
            fn(ptr, *args, 0)
            return True
        except _Timeout:
            return False
    deadline = _deadline(timeout)
    while True:
        ns = _slice_ns(deadline)
        try:
            fn(ptr, *args, ns)
            return True
        except _Timeout:
            if ns == 0:
                return False
            h.check()


def _check_name(kind, name):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name must be str, not {type(name).__name__}")


def _reopen(cls, name, args, kwargs):
    return cls(name, *args, create=False, **kwargs)


_NOT_OPEN = Handle(None, "object")
_NOT_OPEN.closed = True


class _SyncObject(HandleOwner):
    """What every class shares: the guarded native handle, close, stat, with, pickling by name."""

    _kind = "?"
    _free = None

    def _attach(self, name, ptr):
        self._name = name
        self._handle = Handle(getattr(ptr, "this", ptr), f"{self._kind} {name!r}", self._free)

    def close(self):
        """Releases this handle (not the object: see polyipc.unlink; a held lock stays held). Idempotent."""
        self._handle.close()

    def unlink(self):
        """Removes the object's name (polyipc.unlink(self.name)); open handles keep working."""
        lib.polyipc_unlink(self._name)

    def stat(self):
        """The object's state and counters, as a dict."""
        return json.loads(self._call(self._stat_json))

    def _reduce_args(self):
        return (), {}

    def __reduce__(self):
        # Another process reopens it by name (in its POLYIPC_NAMESPACE), as polyipc's queues.
        args, kwargs = self._reduce_args()
        return _reopen, (type(self), self._name, args, kwargs)

    def __repr__(self):
        state = " closed" if self.closed else ""
        return f"<polyipc.{type(self).__name__} {getattr(self, '_name', '?')!r}{state}>"


class _Acquirable(_SyncObject):
    """acquire/release in `with`, OWNER_DEAD as a flag plus a warning."""

    previous_owner_died = False
    """True when the last acquire (or Condition.wait) took the lock from a holder that died holding it."""

    def _owner_died(self, err):
        self.previous_owner_died = True
        warnings.warn(_errors.OwnerDeadWarning(f"{err} (the lock is held: repair, then release it)"), stacklevel=3)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


class Lock(_Acquirable):
    """A named process-shared lock; multiprocessing.Lock's methods, owned by the acquiring thread.

    Lock(name, *, create=True, exclusive=False, mode=0 (0600), ephemeral=False)
    """

    _kind = "Lock"
    _recursive = 0
    _free = lib.delete_NativeLock
    _stat_json = lib.NativeLock_stat_json

    def __init__(self, name, *, create=True, exclusive=False, mode=0, ephemeral=False):
        self._handle = _NOT_OPEN
        _check_name(self._kind, name)
        self._attach(name, lib.NativeLock_open(name, _open_mode(create, exclusive), self._recursive, int(mode),
                                               int(bool(ephemeral))))

    def acquire(self, block=True, timeout=None):
        """Takes the lock; True when taken, False when not within timeout seconds (block=False:
        at once). When the previous holder died holding it, returns True too, sets
        `previous_owner_died` and issues polyipc.OwnerDeadWarning."""
        h = self._handle
        ptr = h.enter()
        try:
            got = _wait(h, lib.NativeLock_acquire, ptr, block, timeout)
            if got and (not self._recursive or lib.NativeLock_held(ptr) == 1):
                self.previous_owner_died = False
            return got
        except _OwnerDead as e:
            self._owner_died(e)
            return True
        finally:
            h.leave()

    def release(self):
        """Releases the lock. polyipc.NotOwner (a RuntimeError) when this thread does not hold it."""
        self._call(lib.NativeLock_release)

    def locked(self):
        """True when any thread of any process holds it."""
        return bool(self._call(lib.NativeLock_locked))

    def held(self):
        """How many times the calling thread holds it (0: not at all; an RLock may count more)."""
        return self._call(lib.NativeLock_held)

    def __repr__(self):
        if self.closed:
            return super().__repr__()
        return f"<polyipc.{type(self).__name__} {self._name!r} {'locked' if self.locked() else 'unlocked'}>"


class RLock(Lock):
    """A named recursive lock; multiprocessing.RLock's methods. The holding thread may acquire
    it again; it is free after as many releases as acquires.

    RLock(name, *, create=True, exclusive=False, mode=0 (0600), ephemeral=False)
    """

    _kind = "RLock"
    _recursive = 1


class Semaphore(_Acquirable):
    """A named process-shared semaphore; multiprocessing.Semaphore's methods. The slots a
    process holds come back when it dies.

    Semaphore(name, value=1, *, create=True, exclusive=False, mode=0 (0600), ephemeral=False)
    value is used when the semaphore is created; an existing one is taken as it is.
    """

    _kind = "Semaphore"
    _free = lib.delete_NativeSemaphore
    _stat_json = lib.NativeSemaphore_stat_json

    def __init__(self, name, value=1, *, create=True, exclusive=False, mode=0, ephemeral=False):
        self._handle = _NOT_OPEN
        _check_name(self._kind, name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"semaphore value must be an int, not {type(value).__name__}")
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._attach(name, lib.NativeSemaphore_open(name, _open_mode(create, exclusive), value,
                                                    self._max(value), int(mode), int(bool(ephemeral))))

    def _max(self, value):
        return 0

    def acquire(self, block=True, timeout=None):
        """Takes one slot; True when taken, False when none came within timeout seconds."""
        h = self._handle
        ptr = h.enter()
        try:
            return _wait(h, lib.NativeSemaphore_acquire, ptr, block, timeout, 1)
        finally:
            h.leave()

    def release(self, n=1):
        """Gives back n slots (waking up to n waiters). ValueError when n < 1, and on a
        BoundedSemaphore when the value would exceed its initial value."""
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"n must be an int, not {type(n).__name__}")
        if n < 1:
            raise ValueError("n must be one or more")
        self._call(lib.NativeSemaphore_release, n)

    def get_value(self):
        """The number of free slots now."""
        return self._call(lib.NativeSemaphore_value)

    def __repr__(self):
        if self.closed:
            return super().__repr__()
        return f"<polyipc.{type(self).__name__} {self._name!r} value={self.get_value()}>"


class BoundedSemaphore(Semaphore):
    """A Semaphore whose value never exceeds its initial value: release past it raises
    ValueError (polyipc.InvalidArgument). An existing one with another initial value is
    polyipc.Incompatible (create=False takes it as it is).

    BoundedSemaphore(name, value=1, *, create=True, exclusive=False, mode=0 (0600), ephemeral=False)
    """

    _kind = "BoundedSemaphore"

    def _max(self, value):
        if value < 1:
            raise ValueError("BoundedSemaphore value must be at least 1 (0 would make an unbounded semaphore)")
        return value


class Event(_SyncObject):
    """A named process-shared event; multiprocessing.Event's methods. set() wakes every waiter
    of every process. `with` closes the handle.

    Event(name, *, create=True, exclusive=False, mode=0 (0600), ephemeral=False)
    """

    _kind = "Event"
    _free = lib.delete_NativeEvent
    _stat_json = lib.NativeEvent_stat_json

    def __init__(self, name, *, create=True, exclusive=False, mode=0, ephemeral=False):
        self._handle = _NOT_OPEN
        _check_name(self._kind, name)
        self._attach(name, lib.NativeEvent_open(name, _open_mode(create, exclusive), int(mode),
                                                int(bool(ephemeral))))

    def is_set(self):
        return bool(self._call(lib.NativeEvent_is_set))

    def set(self):
        self._call(lib.NativeEvent_set)

    def clear(self):
        self._call(lib.NativeEvent_clear)

    def wait(self, timeout=None):
        """Waits until the event is set; True when it was (a set() after the call began counts even
        if clear() came before the waiter ran), False when timeout seconds passed."""
        h = self._handle
        ptr = h.enter()
        try:
            # One token for every slice: a set() (then clear()) between two slices still counts.
            token = lib.NativeEvent_token(ptr)
            return _wait(h, lib.NativeEvent_wait_since, ptr, True, timeout, token)
        finally:
            h.leave()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        if self.closed:
            return super().__repr__()
        return f"<polyipc.Event {self._name!r} {'set' if self.is_set() else 'unset'}>"


class Condition(_Acquirable):
    """A named process-shared condition variable; multiprocessing.Condition's methods.

    Condition(name, lock=None, *, create=True, exclusive=False, mode=0 (0600), ephemeral=False)

    lock: None binds the lock named "<name>.lock" (opened, or created as a plain Lock: not an
    RLock as in multiprocessing); a polyipc.Lock / polyipc.RLock or a name binds that lock.
    The condition's acquire/release/`with` act on that lock (its own handle of it).
    """

    _kind = "Condition"
    _free = lib.delete_NativeCondition
    _stat_json = lib.NativeCondition_stat_json

    def __init__(self, name, lock=None, *, create=True, exclusive=False, mode=0, ephemeral=False):
        self._handle = _NOT_OPEN
        _check_name(self._kind, name)
        if lock is None:
            lock_name = ""
        elif isinstance(lock, Lock):
            lock_name = lock.name
        elif isinstance(lock, str):
            if not lock:
                raise ValueError("lock name must not be empty (None binds '<name>.lock')")
            lock_name = lock
        else:
            raise TypeError(f"lock must be a polyipc.Lock, polyipc.RLock, a lock name or None, "
                            f"not {type(lock).__name__}")
        self._attach(name, lib.NativeCondition_open(name, _open_mode(create, exclusive), lock_name, int(mode),
                                                    int(bool(ephemeral))))
        try:
            self._lock_name = self.stat()["lock"]
        except BaseException:
            self.close()
            raise

    @property
    def lock_name(self):
        """The name of the bound lock."""
        return self._lock_name

    def acquire(self, block=True, timeout=None):
        """Takes the bound lock, as Lock.acquire (previous_owner_died and OwnerDeadWarning included)."""
        h = self._handle
        ptr = h.enter()
        try:
            got = _wait(h, lib.NativeCondition_acquire, ptr, block, timeout)
            if got:
                self.previous_owner_died = False
            return got
        except _OwnerDead as e:
            self._owner_died(e)
            return True
        finally:
            h.leave()

    def release(self):
        """Releases the bound lock. polyipc.NotOwner (a RuntimeError) when this thread does not hold it."""
        self._call(lib.NativeCondition_release)

    def wait(self, timeout=None):
        """Releases the lock (held by this thread, else polyipc.NotOwner, a RuntimeError), waits for
        a notify, takes the lock back. True when notified, False after timeout seconds. The lock is
        held again when it returns or raises, also on KeyboardInterrupt.

        It waits in slices: between slices it holds the lock for a moment and re-queues, so the
        order in which notify() picks waiters is first-come only to within a slice. If the lock
        comes back from a holder that died, returns True with previous_owner_died set."""
        h = self._handle
        ptr = h.enter()
        try:
            return _wait(h, lib.NativeCondition_wait, ptr, True, timeout)
        except _OwnerDead as e:
            self._owner_died(e)
            return True
        finally:
            h.leave()

    def wait_for(self, predicate, timeout=None):
        """Waits until predicate() is true (checked with the lock held); returns its last value,
        false when timeout seconds passed first."""
        deadline = _deadline(timeout)
        result = predicate()
        while not result:
            if deadline is None:
                self.wait()
            else:
                left = deadline - _monotonic()
                if left <= 0:
                    break
                self.wait(left)
            result = predicate()
        return result

    def notify(self, n=1):
        """Wakes up to n waiters (of any process). The caller holds the lock (else polyipc.NotOwner)."""
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"n must be an int, not {type(n).__name__}")
        if n < 0:
            raise ValueError("n must be >= 0")
        self._call(lib.NativeCondition_notify, n)

    def notify_all(self):
        """Wakes every waiter. The caller holds the lock (else polyipc.NotOwner)."""
        self._call(lib.NativeCondition_notify_all)

    notifyAll = notify_all

    def _reduce_args(self):
        return (self._lock_name,), {}


class Barrier(_SyncObject):
    """A named process-shared barrier; multiprocessing.Barrier's methods. `with` closes the handle.

    Barrier(name, parties, action=None, timeout=None, *, create=True, exclusive=False, mode=0 (0600),
            ephemeral=False)

    parties is 1..256 and must match an existing barrier (else polyipc.Incompatible).
    action, when given, is called by the waiter that arrives last (index parties - 1) after the
    barrier opens (the other parties do not wait for it, unlike threading.Barrier); if it
    raises, the barrier is aborted and the exception propagates. timeout is the default of wait().
    """

    _kind = "Barrier"
    _free = lib.delete_NativeBarrier
    _stat_json = lib.NativeBarrier_stat_json

    def __init__(self, name, parties, action=None, timeout=None, *, create=True, exclusive=False, mode=0,
                 ephemeral=False):
        self._handle = _NOT_OPEN
        _check_name(self._kind, name)
        if not isinstance(parties, int) or isinstance(parties, bool):
            raise TypeError(f"parties must be an int, not {type(parties).__name__}")
        if not 1 <= parties <= 256:
            raise ValueError(f"parties must be 1..256, not {parties}")
        if action is not None and not callable(action):
            raise TypeError("action must be callable or None")
        _deadline(timeout)  # validates
        self._action = action
        self._timeout = timeout
        self._attach(name, lib.NativeBarrier_open(name, _open_mode(create, exclusive), parties, int(mode),
                                                  int(bool(ephemeral))))

    def wait(self, timeout=None):
        """Waits until `parties` waiters (of any processes) called wait; returns this waiter's
        arrival index, 0 .. parties - 1. Raises polyipc.Broken (a threading.BrokenBarrierError)
        when the barrier is or gets broken (abort, reset, another waiter's timeout, a waiter that
        died), and polyipc.BarrierTimeout (a Broken and a TimeoutError) when this waiter's timeout
        (or the default one) runs out, which breaks the barrier for everyone.
        Ctrl-C (or close() from another thread) while waiting gives up the arrival, which breaks
        the barrier, then raises (KeyboardInterrupt, ValueError); if the round completed at that
        very moment the barrier stays whole, and a close() returns the index."""
        if timeout is None:
            timeout = self._timeout
        deadline = _deadline(timeout)
        h = self._handle
        ptr = h.enter()
        ticket = None
        try:
            ticket = lib.NativeBarrier_arrive(ptr)  # Broken when it is broken already
            await_ticket = lib.NativeBarrier_await_ticket
            cancel_ticket = lib.NativeBarrier_cancel_ticket
            while True:
                ns = _slice_ns(deadline)
                try:
                    index = await_ticket(ptr, ticket, ns)
                    break
                except _Timeout as e:
                    if ns != 0 and not h.closed:
                        continue
                    # Giving up breaks the barrier for everyone (as a native timeout would), unless
                    # the round completed meanwhile: then this wait passed. Unlike abort, cancelling
                    # the ticket never breaks a later round.
                    given_up, ticket = ticket, None
                    try:
                        index = cancel_ticket(ptr, given_up)
                        break
                    except _Broken:
                        pass
                    if ns != 0:
                        raise h.closed_error() from None
                    raise _errors.BarrierTimeout(
                        f"{e}; this waiter gave up after {timeout:g} s and broke the barrier") from None
            run_action = self._action is not None and index == lib.NativeBarrier_parties(ptr) - 1
        except _Broken:
            raise
        except BaseException:
            # Interrupted (KeyboardInterrupt) or anything unexpected after arriving: give up the
            # arrival, which breaks the barrier (unless its round completed meanwhile), so nobody
            # waits for us in vain; the exception propagates either way.
            if ticket is not None:
                try:
                    lib.NativeBarrier_cancel_ticket(ptr, ticket)
                except _errors.PolyipcError:
                    pass
            raise
        finally:
            h.leave()
        if run_action:
            try:
                self._action()
            except BaseException:
                self.abort()
                raise
        return index

    def abort(self):
        """Breaks the barrier: every waiter, now and later, gets polyipc.Broken until reset()."""
        self._call(lib.NativeBarrier_abort)

    def reset(self):
        """Back to the empty, unbroken state; current waiters get polyipc.Broken."""
        self._call(lib.NativeBarrier_reset)

    @property
    def parties(self):
        return self._call(lib.NativeBarrier_parties)

    @property
    def n_waiting(self):
        """How many waiters wait now (0 while broken)."""
        return self._call(lib.NativeBarrier_n_waiting)

    @property
    def broken(self):
        return bool(self._call(lib.NativeBarrier_broken))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _reduce_args(self):
        return (self.parties, self._action, self._timeout), {}

    def __repr__(self):
        if self.closed:
            return super().__repr__()
        return f"<polyipc.Barrier {self._name!r} parties={self.parties} waiting={self.n_waiting}>"
