"""Consuming iteration: `for item in q:` takes one item per step with the blocking get(),
ends normally at end of stream (polyipc.Closed), loses nothing when the loop is left early,
and lets everything else through (KeyboardInterrupt, a close()d handle, decoding errors).
Waits are bounded; nothing sleeps to synchronise."""

import multiprocessing
import os
import signal
import textwrap
import threading
import time

import pytest

import polyipc
from helpers import python_child, read_line, wait_until_sleeping

SPAWN = multiprocessing.get_context("spawn")  # children reopen queues by name, never inherit a handle
LIMIT = 0.25  # seconds from the cancel to the raise; the slice is 0.05 s
N = 300


def produce_then_close_writes(q, count):
    for i in range(count):
        q.put({"i": i, "pid": os.getpid()})
    q.close_writes()
    q.close()


class Watchdog:
    """Bounds a loop that only end of stream can end: if the test is still waiting after
    `seconds`, it closes the queue for writing, so the loop ends (and the test's assertions
    on what it got fail) instead of hanging. Cancelled when the test is done."""

    def __init__(self, name, seconds=60):
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire, (name,))

    def _fire(self, name):
        self.fired = True
        with polyipc.Queue(name, create=False) as q:
            q.close_writes()

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()
        self._timer.join()


# (1) ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [polyipc.Queue, polyipc.JoinableQueue])
def test_loop_yields_what_another_process_put_in_order_then_ends(qname, cls):
    name = qname()
    with cls(name) as q:
        producer = SPAWN.Process(target=produce_then_close_writes, args=(q, N))  # pickles by name
        producer.start()
        got = []
        with Watchdog(name) as dog:
            for item in q:
                got.append(item)
                if cls is polyipc.JoinableQueue:
                    q.task_done()
        producer.join(30)
        assert not dog.fired, "the loop did not end by itself"
        assert producer.exitcode == 0
        assert [it["i"] for it in got] == list(range(N))  # exactly N, FIFO
        assert {it["pid"] for it in got} == {producer.pid}
        with pytest.raises(polyipc.Closed):  # the loop ended at end of stream, not earlier
            q.get(timeout=0)


def test_loop_over_bytes_queue_yields_bytes(qname):
    with polyipc.Queue(qname(), format=polyipc.BYTES) as q:
        for i in range(5):
            q.put(b"m%d" % i)
        q.close_writes()
        assert list(q) == [b"m0", b"m1", b"m2", b"m3", b"m4"]


# (2) ------------------------------------------------------------------------------------------
def test_loop_on_a_closed_and_drained_queue_ends_at_once(qname):
    with polyipc.Queue(qname()) as q:
        q.put("last")
        q.close_writes()
        assert q.get(timeout=5) == "last"  # drained
        start = time.monotonic()
        assert list(q) == []
        for _ in q:
            pytest.fail("a drained, closed queue yielded something")
        assert time.monotonic() - start < 1.0  # no wait of any kind (nothing to wait for)


def test_loop_on_a_closed_queue_still_drains_what_is_left(qname):
    with polyipc.Queue(qname()) as q:
        for i in range(3):
            q.put(i)
        q.close_writes()
        assert list(q) == [0, 1, 2]
        assert list(q) == []  # and again: end of stream stays


# (3) ------------------------------------------------------------------------------------------
def test_breaking_out_leaves_the_rest_in_the_queue(qname):
    k = 4
    with polyipc.Queue(qname()) as q:
        for i in range(10):
            q.put(i)
        got = []
        for item in q:
            got.append(item)
            if len(got) == k:
                break
        assert got == list(range(k))
        assert q.qsize() == 10 - k  # nothing prefetched
        assert q.get(timeout=5) == k  # message k+1
        q.close_writes()
        assert list(q) == list(range(k + 1, 10))  # a new loop goes on from there


def test_an_unstarted_or_abandoned_iterator_takes_nothing_more(qname):
    with polyipc.Queue(qname()) as q:
        q.put("a")
        q.put("b")
        it = iter(q)
        assert q.qsize() == 2  # creating the iterator takes nothing
        assert next(it) == "a"
        del it  # abandoned after one step
        assert q.qsize() == 1
        assert q.get(timeout=5) == "b"


# (4) ------------------------------------------------------------------------------------------
def test_joinable_loop_task_done_each_then_join_returns(qname):
    with polyipc.JoinableQueue(qname()) as q:
        for i in range(100):
            q.put({"i": i})
        q.close_writes()
        got = []
        for item in q:
            got.append(item["i"])
            if item["i"] == 50:
                with pytest.raises(polyipc.TimeoutError):  # this item is a lease, not done yet
                    q.join(timeout=0.05)
            q.task_done()
        assert got == list(range(100))
        q.join(timeout=10)  # returns: every item was task_done
        with pytest.raises(ValueError):  # each item was exactly one lease: none left to end
            q.task_done()


def test_joinable_end_of_stream_waits_for_the_leases(qname):
    """A held lease may still be handed back (if its process dies), so on a JoinableQueue end
    of stream comes only when every item got is task_done: call task_done() before the next
    step, or the loop waits for it."""
    with polyipc.JoinableQueue(qname()) as q:
        q.put("only")
        q.close_writes()
        it = iter(q)
        assert next(it) == "only"  # held: not task_done
        with pytest.raises(polyipc.Empty):  # not Closed yet: the lease is outstanding
            q.get(timeout=0.1)
        q.task_done()
        assert next(it, "ended") == "ended"  # now the loop ends
        q.join(timeout=10)


# (5) ------------------------------------------------------------------------------------------
CHILD_LOOP = """
    import polyipc, time
    q = polyipc.{cls}({name!r}, create=False)
    try:  # every line is a reply to something the test did, so read_line never has two at once
        for msg in q:
            print("got", msg, flush=True)
            if {cls!r} == "JoinableQueue":
                q.task_done()  # the item was a lease of this process
        print("ended", flush=True)
    except KeyboardInterrupt:
        print("interrupted", time.monotonic(), flush=True)
        raise
"""


def start_blocked_loop(name, cls):
    """A child process whose `for msg in q:` has taken the one queued item and now waits on
    an empty queue."""
    child = python_child(textwrap.dedent(CHILD_LOOP.format(name=name, cls=cls)))
    assert read_line(child, 30) == "got first"
    wait_until_sleeping(child.pid, 10)  # blocked in the loop's get, not still on its way there
    return child


@pytest.mark.parametrize("cls", ["Queue", "JoinableQueue"])
def test_sigint_interrupts_a_loop_blocked_in_another_process(qname, cls):
    name = qname()
    with getattr(polyipc, cls)(name) as q:
        q.put("first")
        child = start_blocked_loop(name, cls)
        try:
            sent = time.monotonic()
            child.send_signal(signal.SIGINT)
            word, when = read_line(child, 10).split()
            out, err = child.communicate(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.communicate(timeout=30)
        assert word == "interrupted"
        assert float(when) - sent < LIMIT
        assert out == ""  # never "ended": the loop did not end normally
        assert child.returncode == -signal.SIGINT  # died of the uncaught KeyboardInterrupt
        assert "KeyboardInterrupt" in err
        assert q.qsize() == 0


@pytest.mark.parametrize("cls", ["Queue", "JoinableQueue"])
def test_close_writes_from_another_process_ends_a_blocked_loop(qname, cls):
    name = qname()
    with getattr(polyipc, cls)(name) as q:
        q.put("first")
        child = start_blocked_loop(name, cls)
        try:
            q.put("second")
            assert read_line(child, 10) == "got second"  # still looping
            wait_until_sleeping(child.pid, 10)
            closed_at = time.monotonic()
            q.close_writes()  # this test is the other process
            assert read_line(child, 10) == "ended"
            ended_at = time.monotonic()
            out, err = child.communicate(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.communicate(timeout=30)
        assert ended_at - closed_at < 5.0
        assert child.returncode == 0, err
        assert out == ""


def test_sigint_interrupts_a_blocked_loop_in_this_process(qname):
    with polyipc.Queue(qname()) as q:
        timer = threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT))
        start = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            for _ in q:
                pytest.fail("an empty queue yielded something")
        assert time.monotonic() - start < 0.1 + LIMIT
        timer.join()


# Other failures propagate as get() raises them --------------------------------------------------
def test_close_from_another_thread_ends_a_blocked_loop_with_value_error(qname):
    name = qname()
    q = polyipc.Queue(name)
    outcome = []
    started = threading.Event()

    def blocked():
        started.set()
        try:
            for _ in q:
                outcome.append("yielded")
            outcome.append("ended")
        except ValueError as e:
            outcome.append(str(e))

    t = threading.Thread(target=blocked)
    t.start()
    assert started.wait(10)
    q.close()
    t.join(10)
    assert not t.is_alive()
    assert outcome == [f"Queue '{name}' is closed"]


def test_only_polyipc_closed_ends_the_loop(qname):
    def loads(text):
        if text == '"stop"':
            raise EOFError("a decoder's own EOFError is not end of stream")
        return text

    with polyipc.Queue(qname(), loads=loads) as q:
        q.put("a")
        q.put("stop")
        q.put("b")
        got = []
        with pytest.raises(EOFError) as info:
            for item in q:
                got.append(item)
        assert not isinstance(info.value, polyipc.Closed)
        assert got == ['"a"']
        q.close_writes()
        assert list(q) == ['"b"']
