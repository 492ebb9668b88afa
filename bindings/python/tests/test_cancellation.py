"""A blocking call never makes a program deaf: Ctrl-C (SIGINT) and close()
from another thread end a wait within a slice (50 ms) plus scheduling."""

import os
import signal
import textwrap
import threading
import time

import pytest

import polyipc
from helpers import python_child, read_line, wait_until_sleeping

LIMIT = 0.25  # seconds from the cancel to the raise; the slice is 0.05 s


@pytest.mark.parametrize("call", ["get", "put", "join"])
def test_sigint_interrupts_a_blocked_call_in_another_process(qname, call):
    name = qname()
    with polyipc.JoinableQueue(name, maxsize=1) as q:
        if call != "get":
            q.put("fills the queue and leaves a task")
        child = python_child(textwrap.dedent(f"""
            import polyipc, time
            q = polyipc.JoinableQueue({name!r}, create=False)
            try:  # ready is said inside the try: a signal that comes early is still caught
                print("ready", flush=True)
                {'q.get()' if call == 'get' else 'q.put(1)' if call == 'put' else 'q.join()'}
                print("returned", flush=True)
            except KeyboardInterrupt:
                print("interrupted", time.monotonic(), flush=True)
        """))
        try:
            assert read_line(child, 30) == "ready"
            wait_until_sleeping(child.pid, 10)  # blocked in the call, not still on its way there
            sent = time.monotonic()
            child.send_signal(signal.SIGINT)
            word, when = read_line(child, 10).split()
        finally:
            child.kill()
            child.communicate(timeout=30)
        assert word == "interrupted"
        assert float(when) - sent < LIMIT
        if call != "get":
            q.get()
            q.task_done()


def test_sigint_interrupts_a_blocked_get_in_this_process(qname):
    with polyipc.Queue(qname()) as q:
        timer = threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT))
        start = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            q.get(timeout=20)
        assert time.monotonic() - start < 0.1 + LIMIT
        timer.join()


def test_close_from_another_thread_ends_a_blocked_get_with_value_error(qname):
    name = qname()
    q = polyipc.Queue(name)
    outcome = []
    started = threading.Event()

    def blocked():
        started.set()
        try:
            q.get()
        except ValueError as e:
            outcome.append((time.monotonic(), str(e)))

    t = threading.Thread(target=blocked)
    t.start()
    assert started.wait(10)
    closed_at = time.monotonic()
    q.close()
    t.join(10)
    assert not t.is_alive()
    assert outcome and outcome[0][0] - closed_at < LIMIT
    assert outcome[0][1] == f"Queue '{name}' is closed"


def test_threads_share_one_handle(qname):
    with polyipc.Queue(qname(), capacity_bytes=1 << 20) as q:
        got = []

        def consumer():
            while True:
                item = q.get(timeout=30)
                if item is None:
                    return
                got.append(item)

        def producer(base):
            for i in range(500):
                q.put(base + i)

        consumers = [threading.Thread(target=consumer) for _ in range(2)]
        producers = [threading.Thread(target=producer, args=(k * 1000,)) for k in range(3)]
        for t in consumers + producers:
            t.start()
        for t in producers:
            t.join(60)
        for _ in consumers:
            q.put(None)
        for t in consumers:
            t.join(60)
            assert not t.is_alive()
        assert sorted(got) == sorted(k * 1000 + i for k in range(3) for i in range(500))
