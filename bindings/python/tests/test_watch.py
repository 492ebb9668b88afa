"""Dict and List: the `version` property and wait_change(seen_version, timeout=None),
watching for a change by any process. Changes made by another (real) process wake a
waiter blocked with a long timeout, whether they come before or after it blocks;
Ctrl-C and close() end a blocked wait within a slice. Waits are bounded; nothing
sleeps to synchronise."""

import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import polyipc
from helpers import python_child, read_line, wait_until_sleeping

LIMIT = 0.25  # seconds from a cancel to the raise; the slice is 0.05 s
PROMPT = 5.0  # seconds a woken waiter may take at most (it waits with a 60 s timeout)
KINDS = ["Dict", "List"]


def _open(kind, name):
    return getattr(polyipc, kind)(name)


def _change(obj):
    """One change of a Dict or List."""
    if isinstance(obj, polyipc.Dict):
        obj["k"] = obj.get("k", 0) + 1
    else:
        obj.append(1)


# ---- the version counts changes, not reads or misses ------------------------------
def test_dict_version_counts_changes_not_reads_or_misses(qname):
    with polyipc.Dict(qname()) as d:
        assert d.version == 0  # a new dict
        d["a"] = 1
        assert d.version == 1
        # reads and misses
        assert d["a"] == 1 and d.get("zz") is None and "a" in d and "zz" not in d
        assert len(d) == 1 and d.keys() == ["a"] and d.copy() == {"a": 1} and d.get_json("a") == "1"
        with pytest.raises(KeyError):
            d["zz"]
        assert d.version == 1
        d["b"] = {"x": [1, 2]}
        assert d.version == 2
        with pytest.raises(KeyError):
            del d["missing"]  # a delete that finds no key changes nothing
        assert d.pop("missing", None) is None
        assert d.compare_and_set("a", 99, 2) is False  # no swap, no change
        assert d.version == 2
        assert d.compare_and_set("a", 1, 2) is True
        assert d.version == 3
        del d["b"]
        assert d.version == 4
        d.clear()
        assert d.version == 5
        with polyipc.Dict(d.name, create=False) as other:  # the version of the dict, not of a handle
            assert other.version == 5
            other["c"] = 3
        assert d.version == 6


def test_list_version_counts_changes_not_reads(qname):
    with polyipc.List(qname()) as l:
        assert l.version == 0  # a new list
        l.append("a")
        l.append("b")
        assert l.version == 2
        # reads
        assert l[0] == "a" and l[-1] == "b" and len(l) == 2 and "a" in l and l.snapshot() == ["a", "b"]
        with pytest.raises(IndexError):
            l[5]
        assert l.version == 2
        assert l.pop() == "b"
        assert l.version == 3
        l.insert(0, "z")
        l[1] = "y"
        assert l.version == 5
        l.clear()
        assert l.version == 6
        with pytest.raises(IndexError):
            l.pop()  # pop of an empty list changes nothing
        assert l.version == 6
        with polyipc.List(l.name, create=False) as other:
            assert other.version == 6
            other.append(1)
        assert l.version == 7


# ---- timeouts and old versions ----------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_a_wait_with_no_change_times_out_and_returns_the_seen_version(qname, kind):
    with _open(kind, qname()) as o:
        _change(o)
        v = o.version
        assert o.wait_change(v, 0) == v  # 0 never blocks
        start = time.monotonic()
        assert o.wait_change(v, 0.12) == v  # several slices
        assert time.monotonic() - start >= 0.11
        assert o.version == v


@pytest.mark.parametrize("kind", KINDS)
def test_a_wait_from_an_old_version_returns_at_once(qname, kind):
    with _open(kind, qname()) as o:
        v = o.version
        _change(o)
        _change(o)
        start = time.monotonic()
        assert o.wait_change(v, 60) == v + 2
        assert o.wait_change(v) == v + 2  # no limit: returns as well
        assert o.wait_change(v + 1, 0) == v + 2
        assert time.monotonic() - start < PROMPT


@pytest.mark.parametrize("kind", KINDS)
def test_a_change_by_another_thread_wakes_a_waiter(qname, kind):
    with _open(kind, qname()) as o:
        v = o.version
        got = []
        t = threading.Thread(target=lambda: got.append(o.wait_change(v, 60)))
        t.start()
        _change(o)  # before or after the thread blocks: both return
        t.join(PROMPT)
        assert not t.is_alive()
        assert got == [v + 1]


@pytest.mark.parametrize("kind", KINDS)
def test_bad_timeouts_and_versions_are_rejected_as_event_wait_rejects_them(qname, kind):
    with _open(kind, qname()) as o, polyipc.Event(qname("event")) as e:
        for bad in (-1, -0.001, math.nan):
            with pytest.raises(ValueError):
                e.wait(bad)  # the idiom followed
            with pytest.raises(ValueError):
                o.wait_change(0, bad)
        with pytest.raises(ValueError):
            o.wait_change(-1, 0)
        with pytest.raises(ValueError):
            o.wait_change(1 << 64, 0)
        for bad in ("1", 1.0, None):
            with pytest.raises(TypeError):
                o.wait_change(bad, 0)
        assert o.wait_change(o.version, 0) == o.version


# ---- across processes -------------------------------------------------------------
_WRITER = textwrap.dedent("""
    import sys, time, polyipc
    kind, name, parent, order = sys.argv[1:5]
    o = getattr(polyipc, kind)(name, create=False)
    print("ready", flush=True)
    assert sys.stdin.readline() == "go\\n"
    if order == "after":
        # The parent blocks in wait_change right after saying go: wait (bounded) until its main
        # thread sleeps, so this change comes while it is blocked.
        end = time.monotonic() + 10
        while time.monotonic() < end:
            with open(f"/proc/{parent}/task/{parent}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "S":
                    break
            time.sleep(0.002)  # polling /proc
    if kind == "Dict":
        o["from_child"] = {"pid": 1}
    else:
        o.append({"from_child": 1})
    print("written", flush=True)
    o.close()
""")


@pytest.mark.parametrize("order", ["before", "after"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_change_by_another_process_wakes_a_waiter_with_a_long_timeout(qname, kind, order):
    name = qname()
    with _open(kind, name) as o:
        _change(o)
        child = subprocess.Popen(
            [sys.executable, "-c", _WRITER, kind, name, str(os.getpid()), order],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert read_line(child, 60) == "ready"
            v = o.version  # first the version, then what we need, then wait from it
            before = o.snapshot() if kind == "List" else o.copy()
            child.stdin.write("go\n")
            child.stdin.flush()
            if order == "before":
                assert read_line(child, 60) == "written"  # the change is made: the wait returns at once
            start = time.monotonic()
            got = o.wait_change(v, 60)
            waited = time.monotonic() - start
            if order == "after":
                assert read_line(child, 60) == "written"
            child.stdin.close()
            assert child.wait(timeout=60) == 0, child.stderr.read()
        finally:
            if child.poll() is None:
                child.kill()
                child.communicate(timeout=30)
        assert got == v + 1
        assert waited < PROMPT
        after = o.snapshot() if kind == "List" else o.copy()
        assert after != before
        assert o.wait_change(got, 0) == got  # nothing more


@pytest.mark.parametrize("kind", KINDS)
def test_a_waiter_in_another_process_is_woken_by_this_one(qname, kind):
    name = qname()
    with _open(kind, name) as o:
        child = python_child(textwrap.dedent(f"""
            import polyipc, time
            o = polyipc.{kind}({name!r}, create=False)
            v = o.version
            print("ready", v, flush=True)
            got = o.wait_change(v, 60)
            print("woken", got, time.monotonic(), flush=True)
        """))
        try:
            word, v = read_line(child, 60).split()
            assert word == "ready"
            wait_until_sleeping(child.pid, 10)  # blocked in wait_change
            _change(o)
            changed = time.monotonic()
            word, got, when = read_line(child, 60).split()
            assert child.wait(timeout=60) == 0, child.stderr.read()
        finally:
            if child.poll() is None:
                child.kill()
                child.communicate(timeout=30)
        assert word == "woken" and int(got) == int(v) + 1
        assert float(when) - changed < PROMPT


# ---- cancellation and closed handles ----------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_sigint_ends_a_blocked_wait_in_this_process(qname, kind):
    with _open(kind, qname()) as o:
        timer = threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT))
        start = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            o.wait_change(o.version, 20)
        assert time.monotonic() - start < 0.1 + LIMIT
        timer.join()
        assert not o.closed  # the handle still works
        assert o.wait_change(o.version, 0) == o.version


@pytest.mark.parametrize("kind", KINDS)
def test_sigint_ends_a_blocked_wait_forever_in_another_process(qname, kind):
    name = qname()
    with _open(kind, name):
        child = python_child(textwrap.dedent(f"""
            import polyipc, time
            o = polyipc.{kind}({name!r}, create=False)
            v = o.version
            try:  # ready is said inside the try: a signal that comes early is still caught
                print("ready", flush=True)
                o.wait_change(v)
                print("returned", flush=True)
            except KeyboardInterrupt:
                print("interrupted", time.monotonic(), flush=True)
        """))
        try:
            assert read_line(child, 60) == "ready"
            wait_until_sleeping(child.pid, 10)
            sent = time.monotonic()
            child.send_signal(signal.SIGINT)
            word, when = read_line(child, 10).split()
        finally:
            child.kill()
            child.communicate(timeout=30)
        assert word == "interrupted"
        assert float(when) - sent < LIMIT


@pytest.mark.parametrize("kind", KINDS)
def test_close_from_another_thread_ends_a_blocked_wait_with_value_error(qname, kind):
    name = qname()
    o = _open(kind, name)
    outcome = []
    started = threading.Event()

    def blocked():
        started.set()
        try:
            o.wait_change(o.version)
        except ValueError as e:
            outcome.append((time.monotonic(), str(e)))

    t = threading.Thread(target=blocked)
    t.start()
    assert started.wait(10)
    closed_at = time.monotonic()
    o.close()
    t.join(10)
    assert not t.is_alive()
    assert outcome and outcome[0][0] - closed_at < LIMIT
    assert outcome[0][1] == f"{kind} '{name}' is closed"


@pytest.mark.parametrize("kind", KINDS)
def test_a_closed_handle_is_an_error(qname, kind):
    name = qname()
    o = _open(kind, name)
    v = o.version
    o.close()
    with pytest.raises(ValueError, match=f"^{kind} '{name}' is closed$"):
        o.version
    with pytest.raises(ValueError, match=f"^{kind} '{name}' is closed$"):
        o.wait_change(v, 0)
    with pytest.raises(ValueError, match=f"^{kind} '{name}' is closed$"):
        o.wait_change(v, 10)
