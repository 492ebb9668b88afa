"""The synchronisation primitives across real processes: a child killed with
SIGKILL holding a lock makes the next acquire report the owner's death, a
killed child's semaphore slot comes back, an event wakes children, a barrier
and a condition work across processes, and Ctrl-C (SIGINT) interrupts every
blocking wait within a slice. Waits are bounded; nothing sleeps to synchronise
(a bounded poll of /proc or of an object's counters tells that a child is
blocked)."""

import signal
import textwrap
import time
import warnings

import pytest

import polyipc
from helpers import kill9, python_child, read_line
from test_cancellation import LIMIT, wait_until_sleeping


def child(code):
    return python_child(textwrap.dedent(code))


def finish(proc):
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out


def poll(predicate, timeout=30):
    """Bounded poll of shared state (not a sleep used as synchronisation)."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            pytest.fail("condition not reached within the bound")
        time.sleep(0.005)


@pytest.mark.parametrize("kind", ["Lock", "RLock"])
def test_holder_killed_with_sigkill_next_acquire_reports_owner_death(qname, kind):
    name = qname()
    lock = getattr(polyipc, kind)(name)
    holder = child(f"""
        import polyipc, time
        lock = polyipc.{kind}({name!r})
        lock.acquire()
        {'lock.acquire()' if kind == 'RLock' else ''}
        print("holding", flush=True)
        while True:
            time.sleep(60)  # holds it until killed
    """)
    try:
        assert read_line(holder, 30) == "holding"
        assert lock.locked()
        assert lock.acquire(timeout=0.1) is False  # held by the child
        assert lock.previous_owner_died is False
    finally:
        kill9(holder)
    with pytest.warns(polyipc.OwnerDeadWarning, match="previous holder died"):
        assert lock.acquire(timeout=30) is True
    assert lock.previous_owner_died is True
    assert lock.held() == 1  # held once, by this thread (the child's depth is gone)
    lock.release()
    assert not lock.locked()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning: the lock is consistent again
        with lock:
            assert lock.previous_owner_died is False
    assert lock.stat()["counters"]["owner_dead_recoveries"] == 1
    lock.close()


def test_condition_reports_its_dead_lock_holder(qname):
    name = qname()
    cond = polyipc.Condition(name)
    holder = child(f"""
        import polyipc, time
        c = polyipc.Condition({name!r})
        c.acquire()
        print("holding", flush=True)
        while True:
            time.sleep(60)
    """)
    try:
        assert read_line(holder, 30) == "holding"
        assert cond.acquire(False) is False
    finally:
        kill9(holder)
    with pytest.warns(polyipc.OwnerDeadWarning):
        with cond:
            assert cond.previous_owner_died
    cond.close()


def test_killed_childs_semaphore_slot_comes_back(qname):
    name = qname()
    sem = polyipc.Semaphore(name, 2)
    holders = [child(f"""
        import polyipc, time
        s = polyipc.Semaphore({name!r}, 2)
        assert s.acquire(timeout=30)
        print("holding", flush=True)
        while True:
            time.sleep(60)
    """) for _ in range(2)]
    try:
        for h in holders:
            assert read_line(h, 30) == "holding"
        assert sem.get_value() == 0
        assert sem.acquire(timeout=0.1) is False
        kill9(holders[0])
        assert sem.acquire(timeout=30) is True  # the dead child's slot
        assert sem.acquire(False) is False  # the live child still holds the other
    finally:
        for h in holders:
            if h.returncode is None:
                kill9(h)
    assert sem.acquire(timeout=30) is True
    sem.release(2)
    assert sem.get_value() == 2
    sem.close()


def test_event_set_wakes_waiting_children(qname):
    name = qname()
    ev = polyipc.Event(name)
    waiters = [child(f"""
        import polyipc
        e = polyipc.Event({name!r})
        print("waiting", flush=True)
        print("woken", e.wait(30), flush=True)
    """) for _ in range(3)]
    for w in waiters:
        assert read_line(w, 30) == "waiting"
        wait_until_sleeping(w.pid, 10)
    ev.set()
    for w in waiters:
        assert read_line(w, 30) == "woken True"
        finish(w)
    ev.close()


def test_barrier_across_processes_gives_every_index_each_round(qname):
    name = qname()
    bar = polyipc.Barrier(name, 3)
    parties = [child(f"""
        import polyipc
        b = polyipc.Barrier({name!r}, 3)
        print(" ".join(str(b.wait(30)) for _ in range(4)), flush=True)
    """) for _ in range(2)]
    mine = [bar.wait(30) for _ in range(4)]
    theirs = [[int(x) for x in read_line(p, 30).split()] for p in parties]
    for p in parties:
        finish(p)
    for rnd in range(4):
        assert sorted([mine[rnd]] + [t[rnd] for t in theirs]) == [0, 1, 2]
    bar.close()


def test_barrier_waiter_killed_breaks_it_for_the_others(qname):
    name = qname()
    bar = polyipc.Barrier(name, 3)
    waiter = child(f"""
        import polyipc
        b = polyipc.Barrier({name!r}, 3)
        print("waiting", flush=True)
        b.wait(60)
    """)
    assert read_line(waiter, 30) == "waiting"
    poll(lambda: bar.n_waiting == 1)
    kill9(waiter)
    start = time.monotonic()
    with pytest.raises(polyipc.Broken, match="died"):
        bar.wait(30)
    assert time.monotonic() - start < 10
    assert bar.broken
    bar.reset()
    bar.close()


def test_condition_notify_wakes_a_child(qname):
    name = qname()
    cond = polyipc.Condition(name)
    waiter = child(f"""
        import polyipc
        c = polyipc.Condition({name!r})
        with c:
            print("waiting", flush=True)
            print("notified", c.wait(30), flush=True)
    """)
    assert read_line(waiter, 30) == "waiting"
    poll(lambda: cond.stat()["waiting"] == 1)
    with cond:
        cond.notify()
    assert read_line(waiter, 30) == "notified True"
    finish(waiter)
    cond.close()


BLOCKING = {
    "lock": ("polyipc.Lock(NAME)", "o.acquire()", "held.acquire()"),
    "rlock": ("polyipc.RLock(NAME)", "o.acquire()", "held.acquire()"),
    "semaphore": ("polyipc.Semaphore(NAME, 0)", "o.acquire()", None),
    "event": ("polyipc.Event(NAME)", "o.wait()", None),
    "condition": ("polyipc.Condition(NAME)", "o.acquire(); o.wait()", None),
    "barrier": ("polyipc.Barrier(NAME, 2)", "o.wait()", None),
}


@pytest.mark.parametrize("what", BLOCKING)
def test_sigint_interrupts_a_blocked_wait_in_another_process(qname, what):
    name = qname()
    make, call, hold = BLOCKING[what]
    mine = eval(make.replace("NAME", repr(name)), {"polyipc": polyipc})
    if hold:
        mine.acquire()  # the child blocks on a lock this thread holds
    waiter = child(f"""
        import polyipc, time
        o = {make.replace("NAME", repr(name))}
        try:  # ready is said inside the try: a signal that comes early is still caught
            print("ready", flush=True)
            {call}
            print("returned", flush=True)
        except KeyboardInterrupt:
            print("interrupted", time.monotonic(), flush=True)
    """)
    try:
        assert read_line(waiter, 30) == "ready"
        wait_until_sleeping(waiter.pid, 10)
        if what == "barrier":
            poll(lambda: mine.n_waiting == 1)
        sent = time.monotonic()
        waiter.send_signal(signal.SIGINT)
        word, when = read_line(waiter, 10).split()
    finally:
        waiter.kill()
        waiter.communicate(timeout=30)
    assert word == "interrupted"
    assert float(when) - sent < LIMIT
    if what == "barrier":
        assert mine.broken  # an interrupted wait aborts the barrier, as Java's CyclicBarrier
        mine.reset()
    if hold:
        mine.release()
    mine.close()
