"""Across real processes: Python children produce and consume, a worker killed
with SIGKILL while holding a joinable lease has its item redelivered, and the
end of stream reaches every consumer. Waits are bounded; nothing sleeps to
synchronise."""

import multiprocessing
import os
import queue
import textwrap

import pytest

import polyipc
from helpers import kill9, python_child, read_line

SPAWN = multiprocessing.get_context("spawn")  # children reopen queues by name, never inherit a handle


def produce(q, count):
    for i in range(count):
        q.put({"i": i, "pid": os.getpid()})
    q.close()


def consume_until_closed(name, results):
    with polyipc.JoinableQueue(name, create=False) as q:
        got = []
        while True:
            try:
                item = q.get(timeout=30)
            except EOFError:
                break
            got.append(item["i"])
            q.task_done()
        results.put(got)


def test_child_process_produces_and_the_test_consumes(qname):
    name = qname()
    with polyipc.Queue(name) as q:
        child = SPAWN.Process(target=produce, args=(q, 200))  # the Queue pickles by name
        child.start()
        items = [q.get(timeout=30) for _ in range(200)]
        child.join(30)
        assert child.exitcode == 0
        assert [it["i"] for it in items] == list(range(200))
        assert {it["pid"] for it in items} == {child.pid}
        with pytest.raises(queue.Empty):
            q.get_nowait()


def test_end_of_stream_reaches_every_consumer_process_and_join_returns(qname):
    name = qname()
    results = SPAWN.Queue()
    with polyipc.JoinableQueue(name) as q:
        workers = [SPAWN.Process(target=consume_until_closed, args=(name, results)) for _ in range(3)]
        for w in workers:
            w.start()
        for i in range(300):
            q.put({"i": i})
        q.close_writes()
        q.join(timeout=60)
        got = sorted(i for _ in workers for i in results.get(timeout=60))
        for w in workers:
            w.join(30)
            assert w.exitcode == 0
        assert got == list(range(300))


def test_worker_killed_holding_a_lease_has_its_item_redelivered(qname):
    name = qname()
    with polyipc.JoinableQueue(name) as q:
        q.put({"job": "precious"})
        worker = python_child(textwrap.dedent(f"""
            import polyipc, time
            q = polyipc.JoinableQueue({name!r}, create=False)
            job = q.get(timeout=30)
            print("holding", job["job"], flush=True)
            while True:
                time.sleep(60)  # holds the lease until killed
        """))
        try:
            assert read_line(worker, 30) == "holding precious"
            with pytest.raises(queue.Empty):
                q.get_nowait()  # leased to the worker, not available
            with pytest.raises(TimeoutError):
                q.join(timeout=0.1)
        finally:
            kill9(worker)
        assert q.get(timeout=30) == {"job": "precious"}  # handed back after the holder died
        q.task_done()
        q.join(timeout=30)
        assert q.stat()["counters"]["redeliveries"] >= 1


def test_worker_killed_after_finishing_out_of_order_gives_back_only_its_unfinished_item(qname):
    name = qname()
    with polyipc.JoinableQueue(name) as q:
        for job in ("first", "second", "third"):
            q.put({"job": job})
        worker = python_child(textwrap.dedent(f"""
            import json, polyipc, time
            q = polyipc.JoinableQueue({name!r}, create=False)
            got = [q.get_bytes(timeout=30) for _ in range(3)]
            q.task_done(got[2])  # finished out of order: the third, then the first
            q.task_done(got[0])
            print("holding", json.loads(got[1])["job"], flush=True)
            while True:
                time.sleep(60)  # holds the second until killed
        """))
        try:
            assert read_line(worker, 30) == "holding second"
        finally:
            kill9(worker)
        assert q.get(timeout=30) == {"job": "second"}  # exactly the unfinished one comes back
        with pytest.raises(queue.Empty):
            q.get_nowait()
        q.task_done()
        q.join(timeout=30)


def test_bytes_queue_between_processes_keeps_every_byte(qname):
    name = qname()
    with polyipc.Queue(name, format="bytes") as q:
        child = python_child(textwrap.dedent(f"""
            import polyipc
            with polyipc.Queue({name!r}, create=False) as q:
                for n in range(0, 256):
                    q.put(bytes(range(n)))
                q.close_writes()
        """))
        got = []
        while True:
            try:
                got.append(q.get(timeout=30))
            except polyipc.Closed:
                break
        _, err = child.communicate(timeout=30)
        assert child.returncode == 0, err
        assert got == [bytes(range(n)) for n in range(256)]


def test_child_sees_invalid_json_error_with_message(qname):
    name = qname()
    with polyipc.Queue(name):
        child = python_child(textwrap.dedent(f"""
            import polyipc
            with polyipc.Queue({name!r}, create=False) as q:
                try:
                    q.put_bytes(b'{{"unterminated": ')
                except ValueError as e:
                    print(type(e).__name__, e.status_name, e)
        """))
        out, err = child.communicate(timeout=30)
        assert child.returncode == 0, err
        assert out.startswith("InvalidJSON POLYIPC_ERR_INVALID_JSON ") and name in out


def _forked_worker(q):
    item = q.get(timeout=30)
    q.task_done()
    q.put({"echo": item})


def test_forked_child_may_use_the_inherited_handle(qname):
    with polyipc.JoinableQueue(qname()) as q:
        q.put("to the fork")
        child = multiprocessing.get_context("fork").Process(target=_forked_worker, args=(q,))
        child.start()
        child.join(30)
        assert child.exitcode == 0
        assert q.get(timeout=30) == {"echo": "to the fork"}
        q.task_done()
        q.join(timeout=30)
