"""Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition, Barrier in one
process (threads of it): multiprocessing's signatures and results, the errors
a Python programmer catches, and clean failures on bad input and after close.
Cross-thread waits are bounded; nothing sleeps to synchronise."""

import pickle
import threading
import time

import pytest

import polyipc


def in_thread(fn, *args):
    """fn(*args) in another OS thread; returns its result or raises its exception."""
    out, errs = [], []

    def body():
        try:
            out.append(fn(*args))
        except BaseException as e:  # handed to the test
            errs.append(e)

    t = threading.Thread(target=body)
    t.start()
    t.join(30)
    assert not t.is_alive()
    if errs:
        raise errs[0]
    return out[0]


@pytest.fixture
def objects():
    """Closes every object the test registered, after it."""
    made = []
    yield made.append
    for o in made:
        o.close()


# ---- Lock -----------------------------------------------------------------------------
def test_lock_acquire_release_locked(qname, objects):
    lock = polyipc.Lock(qname())
    objects(lock)
    assert not lock.locked() and lock.held() == 0
    assert lock.acquire() is True
    assert lock.locked() and lock.held() == 1
    assert lock.previous_owner_died is False
    assert lock.acquire(False) is False  # held by this thread: not acquired, like acquire(False)
    assert lock.acquire(block=False, timeout=5) is False  # block=False ignores timeout, as multiprocessing
    assert in_thread(lock.acquire, True, 0.05) is False  # another thread: times out
    assert in_thread(lock.locked) is True
    lock.release()
    assert not lock.locked()
    with lock as got:
        assert got is True and lock.locked()
    assert not lock.locked()


def test_lock_is_shared_by_name_between_handles(qname, objects):
    name = qname()
    a, b = polyipc.Lock(name), polyipc.Lock(name, create=False)
    objects(a), objects(b)
    with a:
        assert b.locked() and b.held() == 1  # same lock, same (thread) owner
        assert in_thread(b.acquire, False) is False
    assert not b.locked()


def test_lock_blocking_reacquire_by_its_holder_is_value_error_not_a_deadlock(qname, objects):
    lock = polyipc.Lock(qname())
    objects(lock)
    with lock:
        start = time.monotonic()
        with pytest.raises(polyipc.InvalidArgument, match="already held by this thread"):
            lock.acquire(timeout=10)
        with pytest.raises(ValueError):
            lock.acquire()
        assert time.monotonic() - start < 5


def test_release_of_unheld_or_foreign_lock_is_not_owner_runtime_error(qname, objects):
    lock = polyipc.Lock(qname())
    objects(lock)
    with pytest.raises(RuntimeError) as info:
        lock.release()
    assert isinstance(info.value, polyipc.NotOwner) and isinstance(info.value, AssertionError)
    assert info.value.status_name == "POLYIPC_ERR_NOT_OWNER" and "not held" in str(info.value)
    lock.acquire()
    with pytest.raises(polyipc.NotOwner, match="does not hold it"):
        in_thread(lock.release)  # ownership is per thread
    assert lock.locked()
    lock.release()


def test_a_waiting_thread_gets_the_lock_when_it_is_released(qname, objects):
    lock = polyipc.Lock(qname())
    objects(lock)
    lock.acquire()
    got = threading.Event()
    results = []

    def waiter():
        results.append(lock.acquire(timeout=30))
        got.set()
        lock.release()

    t = threading.Thread(target=waiter)
    t.start()
    assert not got.wait(0.1)  # bounded: it is blocked while we hold it
    lock.release()
    t.join(30)
    assert results == [True]


# ---- RLock ----------------------------------------------------------------------------
def test_rlock_counts_exactly_and_is_per_thread(qname, objects):
    r = polyipc.RLock(qname())
    objects(r)
    for depth in range(1, 6):
        assert r.acquire(timeout=1) is True
        assert r.held() == depth
    assert r.acquire(False) is True and r.held() == 6
    assert in_thread(r.acquire, False) is False
    assert in_thread(r.held) == 0
    with pytest.raises(polyipc.NotOwner):
        in_thread(r.release)
    for depth in range(5, -1, -1):
        r.release()
        assert r.held() == depth
    assert not r.locked()
    with pytest.raises(AssertionError):  # as multiprocessing.RLock
        r.release()
    with r, r:
        assert r.held() == 2


def test_lock_and_rlock_kinds_are_incompatible(qname, objects):
    name = qname()
    objects(polyipc.Lock(name))
    with pytest.raises(polyipc.Incompatible):
        polyipc.RLock(name)
    with pytest.raises(polyipc.Incompatible):
        polyipc.Semaphore(name)
    with pytest.raises(polyipc.Incompatible):
        polyipc.Event(name)
    with pytest.raises(polyipc.Incompatible):
        polyipc.Queue(name)


# ---- Semaphore ------------------------------------------------------------------------
def test_semaphore_counts_and_waits(qname, objects):
    s = polyipc.Semaphore(qname(), 2)
    objects(s)
    assert s.get_value() == 2
    assert s.acquire() and s.acquire(timeout=1)
    assert s.get_value() == 0
    assert s.acquire(False) is False
    assert s.acquire(timeout=0.05) is False
    s.release(3)  # unbounded: may go above the initial value
    assert s.get_value() == 3
    with s:
        assert s.get_value() == 2
    assert s.get_value() == 3
    # a blocked acquire in another thread returns when a slot is released
    for _ in range(3):
        s.acquire()
    done = threading.Event()
    results = []

    def waiter():
        results.append(s.acquire(timeout=30))
        done.set()

    t = threading.Thread(target=waiter)
    t.start()
    assert not done.wait(0.1)
    s.release()
    t.join(30)
    assert results == [True] and s.get_value() == 0


def test_semaphore_bad_values(qname, objects):
    with pytest.raises(ValueError):
        polyipc.Semaphore(qname(), -1)
    with pytest.raises(TypeError):
        polyipc.Semaphore(qname(), 1.5)
    s = polyipc.Semaphore(qname(), 0)
    objects(s)
    with pytest.raises(ValueError, match="one or more"):
        s.release(0)
    with pytest.raises(ValueError):
        s.release(-2)
    with pytest.raises(ValueError):
        s.acquire(timeout=-1)
    assert s.get_value() == 0


def test_bounded_semaphore_release_past_its_value_is_value_error(qname, objects):
    name = qname()
    s = polyipc.BoundedSemaphore(name, 2)
    objects(s)
    with pytest.raises(ValueError) as info:
        s.release()
    assert isinstance(info.value, polyipc.InvalidArgument) and "too many" in str(info.value)
    s.acquire()
    s.acquire()
    s.release(2)
    with pytest.raises(ValueError):
        s.release(1)
    assert s.get_value() == 2
    with pytest.raises(polyipc.Incompatible):
        polyipc.BoundedSemaphore(name, 3)  # another bound
    with pytest.raises(polyipc.Incompatible):
        polyipc.Semaphore(name, 2)  # unbounded
    same = polyipc.Semaphore(name, create=False)  # taken as it is
    objects(same)
    with pytest.raises(ValueError):
        same.release()
    with pytest.raises(ValueError, match="at least 1"):
        polyipc.BoundedSemaphore(qname(), 0)


# ---- Event ----------------------------------------------------------------------------
def test_event_set_clear_wait(qname, objects):
    e = polyipc.Event(qname())
    objects(e)
    assert not e.is_set()
    assert e.wait(0) is False
    start = time.monotonic()
    assert e.wait(0.12) is False
    assert time.monotonic() - start >= 0.1
    e.set()
    assert e.is_set() and e.wait() is True and e.wait(0) is True
    e.clear()
    assert not e.is_set() and e.wait(0.01) is False


def test_event_set_wakes_every_waiting_thread(qname, objects):
    e = polyipc.Event(qname())
    objects(e)
    results = []
    threads = [threading.Thread(target=lambda: results.append(e.wait(30))) for _ in range(4)]
    for t in threads:
        t.start()
    e.set()
    for t in threads:
        t.join(30)
    assert results == [True] * 4


def test_event_set_then_clear_during_a_sliced_wait_is_seen(qname, objects):
    e = polyipc.Event(qname())
    objects(e)
    results = []
    start = time.monotonic()
    t = threading.Thread(target=lambda: results.append(e.wait(30)))
    t.start()
    # blocked for a few 50 ms slices, and asleep in one now (bounded)
    bound = start + 30
    while (time.monotonic() - start < 0.12 or e.stat()["waiting"] < 1) and time.monotonic() < bound:
        time.sleep(0.001)
    assert t.is_alive() and not results
    e.set()
    e.clear()
    t.join(30)
    assert not t.is_alive()
    assert results == [True]
    assert not e.is_set()


# ---- Condition ------------------------------------------------------------------------
def test_condition_wait_notify_between_threads(qname, objects):
    c = polyipc.Condition(qname())
    objects(c)
    assert c.lock_name == c.name + ".lock"
    items = []

    def consumer():
        with c:
            assert c.wait_for(lambda: items, timeout=30)
            return items.pop(0)

    out = []
    t = threading.Thread(target=lambda: out.append(consumer()))
    t.start()
    with c:
        items.append("x")
        c.notify()
    t.join(30)
    assert out == ["x"]


def test_condition_wait_times_out_false_and_keeps_the_lock(qname, objects):
    c = polyipc.Condition(qname())
    objects(c)
    lock = polyipc.Lock(c.lock_name, create=False)
    objects(lock)
    with c:
        assert c.wait(0.05) is False
        assert lock.held() == 1
        assert c.wait_for(lambda: False, timeout=0.05) is False
        assert c.wait(0) is False
        assert lock.held() == 1
        c.notify(0)
        c.notify(5)  # nobody waits: fine
        c.notify_all()
    assert not lock.locked()


def test_condition_without_the_lock_is_not_owner_runtime_error(qname, objects):
    c = polyipc.Condition(qname())
    objects(c)
    for call in (lambda: c.wait(0.01), c.notify, c.notify_all, c.release):
        with pytest.raises(RuntimeError) as info:
            call()
        assert isinstance(info.value, polyipc.NotOwner)
    with c:
        with pytest.raises(ValueError):
            c.notify(-1)
        with pytest.raises(ValueError):
            c.wait(-0.5)


def test_condition_notify_n_wakes_n_and_notify_all_the_rest(qname, objects):
    c = polyipc.Condition(qname())
    objects(c)
    woken = []
    ready = threading.Semaphore(0)

    def waiter(k):
        with c:
            ready.release()
            if c.wait(30):
                woken.append(k)

    threads = [threading.Thread(target=waiter, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for _ in threads:
        assert ready.acquire(timeout=30)
    deadline = time.monotonic() + 30
    while c.stat()["waiting"] < 4:  # bounded poll: all four are inside wait
        assert time.monotonic() < deadline
        time.sleep(0.005)
    with c:
        c.notify(2)
    deadline = time.monotonic() + 30
    while len(woken) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(woken) == 2
    with c:
        c.notify_all()
    for t in threads:
        t.join(30)
    assert sorted(woken) == [0, 1, 2, 3]


@pytest.mark.parametrize("kind", ["lock object", "rlock object", "name"])
def test_condition_bound_to_a_given_lock(qname, objects, kind):
    lock_name = qname("lock")
    lock = polyipc.RLock(lock_name) if kind == "rlock object" else polyipc.Lock(lock_name)
    objects(lock)
    c = polyipc.Condition(qname(), lock=lock_name if kind == "name" else lock)
    objects(c)
    assert c.lock_name == lock_name
    with lock:  # the same lock: the condition sees it held by this thread
        if kind == "rlock object":
            with c:
                assert lock.held() == 2
                assert c.wait(0.01) is False  # releases both levels and takes them back
                assert lock.held() == 2
        else:
            assert c.wait(0.01) is False
        c.notify_all()
    assert not lock.locked()
    with pytest.raises(TypeError):
        polyipc.Condition(qname(), lock=42)


# ---- Barrier --------------------------------------------------------------------------
def test_barrier_returns_each_arrival_index_once_per_round(qname, objects):
    name = qname()
    b = polyipc.Barrier(name, 3)
    objects(b)
    assert b.parties == 3 and b.n_waiting == 0 and not b.broken
    results = []
    lock = threading.Lock()

    def party():
        h = polyipc.Barrier(name, 3)
        try:
            for _ in range(5):
                i = h.wait(30)
                with lock:
                    results.append(i)
        finally:
            h.close()

    threads = [threading.Thread(target=party) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == sorted([0, 1, 2] * 5)


def test_barrier_timeout_breaks_it_for_everyone_until_reset(qname, objects):
    b = polyipc.Barrier(qname(), 3)
    objects(b)
    outcome = []

    def other():
        try:
            b.wait(30)
            outcome.append("passed")
        except polyipc.BarrierTimeout:
            outcome.append("timeout")
        except threading.BrokenBarrierError:
            outcome.append("broken")

    t = threading.Thread(target=other)
    t.start()
    deadline = time.monotonic() + 30
    while b.n_waiting < 1:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    with pytest.raises(polyipc.BarrierTimeout) as info:
        b.wait(timeout=0.05)
    assert isinstance(info.value, threading.BrokenBarrierError) and isinstance(info.value, TimeoutError)
    t.join(30)
    assert outcome == ["broken"]
    assert b.broken and b.n_waiting == 0
    with pytest.raises(polyipc.Broken):
        b.wait(1)
    b.reset()
    assert not b.broken


def test_barrier_default_timeout_abort_reset_and_action(qname, objects):
    calls = []
    b = polyipc.Barrier(qname(), 1, action=lambda: calls.append(1), timeout=0.05)
    objects(b)
    assert b.wait() == 0 and calls == [1]
    b.abort()
    assert b.broken
    with pytest.raises(threading.BrokenBarrierError):
        b.wait()
    b.reset()
    assert b.wait() == 0 and calls == [1, 1]

    def fails():
        raise KeyError("action failed")

    bad = polyipc.Barrier(qname(), 1, action=fails)
    objects(bad)
    with pytest.raises(KeyError):
        bad.wait(1)
    assert bad.broken  # the action raised: the barrier is aborted
    two = polyipc.Barrier(qname(), 2, timeout=0.05)
    objects(two)
    with pytest.raises(polyipc.BarrierTimeout):
        two.wait()  # the default timeout


def test_barrier_bad_parties(qname, objects):
    name = qname()
    objects(polyipc.Barrier(name, 2))
    with pytest.raises(polyipc.Incompatible):
        polyipc.Barrier(name, 3)
    for bad in (0, 257, -1):
        with pytest.raises(ValueError):
            polyipc.Barrier(qname(), bad)
    with pytest.raises(TypeError):
        polyipc.Barrier(qname(), "3")
    with pytest.raises(ValueError):
        polyipc.Barrier(qname(), 2, timeout=-1)


# ---- everything -----------------------------------------------------------------------
FACTORIES = {
    "Lock": lambda n: polyipc.Lock(n),
    "RLock": lambda n: polyipc.RLock(n),
    "Semaphore": lambda n: polyipc.Semaphore(n, 1),
    "BoundedSemaphore": lambda n: polyipc.BoundedSemaphore(n, 1),
    "Event": lambda n: polyipc.Event(n),
    "Condition": lambda n: polyipc.Condition(n),
    "Barrier": lambda n: polyipc.Barrier(n, 2),
}


@pytest.mark.parametrize("kind", FACTORIES)
def test_use_after_close_is_value_error_and_close_is_idempotent(qname, kind):
    name = qname()
    o = FACTORIES[kind](name)
    o.close()
    o.close()
    assert o.closed and "closed" in repr(o)
    calls = {
        "Lock": [o.acquire, o.release, o.locked] if kind in ("Lock", "RLock") else [],
        "Semaphore": [o.acquire, o.release, o.get_value] if "Semaphore" in kind else [],
        "Event": [o.set, o.clear, o.is_set, o.wait] if kind == "Event" else [],
        "Condition": [o.acquire, o.release, o.wait, o.notify, o.notify_all] if kind == "Condition" else [],
        "Barrier": [o.wait, o.abort, o.reset, lambda: o.parties, lambda: o.broken] if kind == "Barrier" else [],
    }
    for fn in [c for cs in calls.values() for c in cs] + [o.stat]:
        with pytest.raises(ValueError, match=f"{kind} '{name}' is closed"):
            fn()


@pytest.mark.parametrize("kind", FACTORIES)
def test_bad_names_are_clean_errors(kind):
    make = FACTORIES[kind]
    with pytest.raises(TypeError):
        make(None)
    with pytest.raises(TypeError):
        make(b"bytes")
    for bad in ("", "a/b", "..", "x" * 201, "sp ace"):
        with pytest.raises(ValueError):
            make(bad)


@pytest.mark.parametrize("kind", FACTORIES)
def test_open_only_and_exclusive(qname, kind, objects):
    name = qname()
    cls = getattr(polyipc, kind)
    extra = (2,) if kind == "Barrier" else ()
    with pytest.raises(FileNotFoundError):
        cls(name, *extra, create=False)
    o = cls(name, *extra, exclusive=True)
    objects(o)
    with pytest.raises(FileExistsError):
        cls(name, *extra, exclusive=True)
    again = pickle.loads(pickle.dumps(o))  # reopens by name
    objects(again)
    assert type(again) is cls and again.name == name
    assert polyipc.stat(name)["name"] == name


@pytest.mark.parametrize("timeout", [-1, -0.001, float("nan")])
def test_negative_or_nan_timeouts_are_value_errors(qname, objects, timeout):
    lock, sem, ev = polyipc.Lock(qname()), polyipc.Semaphore(qname(), 0), polyipc.Event(qname())
    cond, bar = polyipc.Condition(qname()), polyipc.Barrier(qname(), 2)
    for o in (lock, sem, ev, cond, bar):
        objects(o)
    for call in (lambda: lock.acquire(timeout=timeout), lambda: sem.acquire(timeout=timeout),
                 lambda: ev.wait(timeout), lambda: cond.acquire(timeout=timeout), lambda: bar.wait(timeout)):
        with pytest.raises(ValueError, match="timeout"):
            call()
    assert not lock.locked() and bar.n_waiting == 0 and not bar.broken
    with cond:
        with pytest.raises(ValueError):
            cond.wait(timeout)
        with pytest.raises(ValueError):
            cond.wait_for(lambda: False, timeout)
    # huge and infinite timeouts are fine (the wait is sliced)
    assert lock.acquire(timeout=1e300) and lock.acquire(False) is False
    lock.release()
    ev.set()
    assert ev.wait(float("inf"))


def test_close_from_another_thread_ends_a_blocked_acquire_with_value_error(qname):
    name = qname()
    holder = polyipc.Lock(name)
    holder.acquire()
    waiter = polyipc.Lock(name)
    outcome = []
    started = threading.Event()

    def blocked():
        started.set()
        try:
            waiter.acquire()
        except ValueError as e:
            outcome.append(str(e))

    t = threading.Thread(target=blocked)
    t.start()
    assert started.wait(10)
    waiter.close()
    t.join(10)
    assert not t.is_alive() and outcome == [f"Lock '{name}' is closed"]
    holder.release()
    holder.close()
