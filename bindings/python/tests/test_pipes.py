"""Pipe, Connection and connection.wait: multiprocessing.connection's behaviour
in one process, then across real processes (a peer opened by name, a peer
killed with SIGKILL gives EOFError within a bound, wait woken by another
process). Waits are bounded; nothing sleeps to synchronise."""

import multiprocessing
import pickle
import signal
import textwrap
import threading
import time

import pytest

import polyipc
from polyipc.connection import wait
from helpers import python_child, read_line, wait_until_sleeping, wait_until_thread_sleeping
from test_cancellation import LIMIT

EOF_BOUND = 2.0  # seconds from a peer's SIGKILL to EOFError (the library notices within ~100 ms)


def child(code):
    return python_child(textwrap.dedent(code))


def finish(proc):
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out


@pytest.fixture
def pipe(qname):
    conns = []

    def make(duplex=True, **kwargs):
        pair = polyipc.Pipe(qname("pipe"), duplex, **kwargs)
        conns.extend(pair)
        return pair

    yield make
    for c in conns:
        c.close()


# ---- one process ----------------------------------------------------------------------

def test_duplex_pipe_carries_json_both_ways(pipe):
    a, b = pipe()
    assert (a.end, b.end) == ("a", "b")
    assert a.readable and a.writable and b.readable and b.writable
    a.send({"x": [1, 2.5, None, "é"]})
    b.send("back")
    assert b.recv() == {"x": [1, 2.5, None, "é"]}
    assert a.recv() == "back"
    with pytest.raises(TypeError):
        a.send(object())  # not JSON-serialisable (json.dumps's error)
    with pytest.raises(ValueError):
        a.send(float("nan"))


def test_one_way_pipe_returns_reader_then_writer_like_multiprocessing(pipe):
    r, w = pipe(duplex=False)
    assert (r.end, w.end) == ("b", "a")
    assert r.readable and not r.writable
    assert w.writable and not w.readable
    w.send(1)
    assert r.recv() == 1
    with pytest.raises(OSError, match="read-only"):
        r.send(1)
    with pytest.raises(OSError, match="write-only"):
        w.recv()
    with pytest.raises(OSError, match="write-only"):
        w.poll()


def test_send_bytes_and_recv_bytes_follow_multiprocessing(pipe):
    a, b = pipe(format=polyipc.BYTES)
    a.send_bytes(b"\x00\xffraw")
    a.send_bytes(b"0123456789", 2, 3)
    a.send_bytes(bytearray(b"abcdef"), 4)
    a.send_bytes(memoryview(b"xyz"))
    assert b.recv_bytes() == b"\x00\xffraw"
    assert b.recv_bytes() == b"234"
    assert b.recv_bytes() == b"ef"
    assert b.recv_bytes(maxlength=3) == b"xyz"
    for args, msg in [((-1,), "offset is negative"), ((11,), "buffer length < offset"),
                      ((0, -1), "size is negative"), ((5, 6), "buffer length < offset \\+ size")]:
        with pytest.raises(ValueError, match=msg):
            a.send_bytes(b"0123456789", *args)
    a.send([1, 2])  # send/recv are JSON on a BYTES pipe too
    assert b.recv() == [1, 2]
    # too long for maxlength: OSError and this handle is closed, as multiprocessing does
    a.send_bytes(b"too long")
    with pytest.raises(OSError, match="bad message length"):
        b.recv_bytes(maxlength=3)
    assert b.closed


def test_recv_bytes_into_and_buffer_too_short(pipe):
    a, b = pipe()
    a.send_bytes(b'"hello"')
    buf = bytearray(10)
    assert b.recv_bytes_into(buf, 2) == 7
    assert buf == b'\x00\x00"hello"\x00'
    a.send_bytes(b'"hello world"')
    with pytest.raises(multiprocessing.BufferTooShort) as info:
        b.recv_bytes_into(bytearray(4))
    assert info.value.args[0] == b'"hello world"'  # the whole message, as multiprocessing
    assert polyipc.BufferTooShort is multiprocessing.BufferTooShort
    with pytest.raises(TypeError):
        b.recv_bytes_into(b"read-only")


def test_json_pipe_checks_send_bytes(pipe):
    a, b = pipe()
    with pytest.raises(polyipc.InvalidJSON):
        a.send_bytes(b"not json")
    with pytest.raises(ValueError):
        a.send_bytes(b"{")
    assert not b.poll()


def test_poll(pipe):
    a, b = pipe()
    assert b.poll() is False
    start = time.monotonic()
    assert b.poll(0.1) is False
    assert 0.09 <= time.monotonic() - start < 2
    assert b.poll(-1) is False  # a negative timeout checks once, as multiprocessing
    with pytest.raises(ValueError):
        b.poll(float("nan"))
    a.send(1)
    assert b.poll() and b.poll(None)
    assert b.recv() == 1
    a.close()
    assert b.poll(None) is True  # end of stream: recv would not wait (it raises EOFError)


def test_close_gives_eof_after_the_messages_and_broken_pipe_to_senders(pipe):
    a, b = pipe()
    a.send(1)
    a.send(2)
    a.close()
    a.close()  # idempotent
    assert a.closed and not b.closed
    assert [b.recv(), b.recv()] == [1, 2]
    with pytest.raises(EOFError):
        b.recv()
    with pytest.raises(EOFError):
        b.recv_bytes()
    with pytest.raises(BrokenPipeError):
        b.send(3)
    with pytest.raises(polyipc.BrokenPipe):
        b.send_bytes(b"3")
    for call in (a.recv, lambda: a.send(1), a.poll, a.stat):
        with pytest.raises(ValueError, match="is closed"):  # polyipc's rule ...
            call()
        with pytest.raises(OSError):  # ... and multiprocessing's ("handle is closed")
            call()


def test_open_an_end_by_name_and_options(pipe, qname):
    a, b = pipe()
    other_b = polyipc.Connection(a.name, "B")
    try:
        a.send("to every handle of end B")
        assert other_b.recv() == "to every handle of end B"
        b.close()
        other_b.send("end B is still held")  # b's handle closed, other_b holds the end
        assert a.recv() == "end B is still held"
    finally:
        other_b.close()
    with pytest.raises(EOFError):
        a.recv()
    with pytest.raises(polyipc.Incompatible):
        polyipc.Pipe(a.name, duplex=False)
    with pytest.raises(polyipc.Incompatible):
        polyipc.Pipe(a.name, format=polyipc.BYTES)
    with pytest.raises(FileExistsError):
        polyipc.Pipe(a.name, exclusive=True)
    with pytest.raises(FileNotFoundError):
        polyipc.Connection(qname("missing"), "a")
    with pytest.raises(FileNotFoundError):
        polyipc.Pipe(qname("missing"), create=False)
    with pytest.raises(ValueError, match="end must be"):
        polyipc.Connection(a.name, "c")
    with pytest.raises(TypeError):
        polyipc.Pipe(None)
    created = polyipc.Connection(qname("created"), "a", create=True)
    try:
        assert created.duplex and created.format == polyipc.JSON
        assert created.stat()["kind"] == "pipe"
    finally:
        created.close()


def test_misc_connection_api(pipe):
    a, b = pipe()
    with pytest.raises(OSError):
        a.fileno()
    c = pickle.loads(pickle.dumps(b))  # reopens end B by name
    try:
        assert (c.name, c.end) == (b.name, "b")
        a.send("x")
        assert c.recv() == "x"
    finally:
        c.close()
    with polyipc.Connection(a.name, "a") as d:
        assert not d.closed
    assert d.closed
    assert "closed" in repr(d)
    with pytest.raises(polyipc.TooLarge):
        a.send_bytes(b"0" * (5 << 20))  # more than the default 4 MiB ring holds


def test_close_from_another_thread_ends_a_blocked_recv(pipe):
    a, b = pipe()
    errors = []
    started = threading.Event()

    def blocked():
        started.set()
        try:
            b.recv()
        except ValueError as e:
            errors.append((time.monotonic(), e))

    t = threading.Thread(target=blocked)
    t.start()
    assert started.wait(10)
    wait_until_thread_sleeping(t.native_id, 10)  # inside recv, not on its way there
    closed = time.monotonic()
    b.close()
    t.join(10)
    assert not t.is_alive()
    assert errors and errors[0][0] - closed < LIMIT


def test_wait_over_connections_and_queues(pipe, qname):
    a, b = pipe()
    r, w = pipe(duplex=False)
    q = polyipc.Queue(qname("queue"))
    try:
        start = time.monotonic()
        assert wait([a, b, r, q], timeout=0.1) == []
        assert 0.09 <= time.monotonic() - start < 2
        assert wait([a, r], timeout=0) == []
        assert wait([], timeout=0) == []
        q.put("job")
        w.send("msg")
        assert wait([a, b, r, q], timeout=5) == [r, q]
        assert wait([q, r], timeout=None) == [q, r]  # object_list's order
        assert q.get() == "job" and r.recv() == "msg"
        w.close()
        assert wait([a, r], timeout=5) == [r]  # end of stream is ready
        with pytest.raises(EOFError):
            r.recv()
        with pytest.raises(TypeError):
            wait([a, 3])
        with pytest.raises(OSError, match="write-only"):
            wait([w])
        closed = polyipc.Connection(a.name, "a")
        closed.close()
        with pytest.raises(ValueError, match="is closed"):
            wait([a, closed])
        with pytest.raises(ValueError):
            wait([])
    finally:
        q.close()


# ---- across processes -------------------------------------------------------------

def test_child_opens_end_b_by_name_and_replies(pipe):
    a, b = pipe()
    proc = child(f"""
        import polyipc
        with polyipc.Connection({a.name!r}, "b") as c:
            print("ready", flush=True)
            while True:
                try:
                    m = c.recv()
                except EOFError:
                    break
                c.send({{"seq": m["seq"], "pong": True}})
        print("eof", flush=True)
    """)
    try:
        assert read_line(proc, 30) == "ready"
        b.close()  # from now on only the child holds end B
        for i in range(20):
            a.send({"seq": i})
            assert a.poll(30)
            assert a.recv() == {"seq": i, "pong": True}
        a.close()  # the child sees EOF
        assert finish(proc).strip() == "eof"
    finally:
        proc.kill()
        proc.communicate(timeout=30)


def test_peer_killed_with_sigkill_gives_eof_within_a_bound(pipe):
    a, b = pipe(duplex=False)  # a: the reader (end B), b: the writer (end A)
    reader = a
    proc = child(f"""
        import polyipc, time
        w = polyipc.Connection({reader.name!r}, "a")
        for i in range(5):
            w.send({{"seq": i}})
        print("holding", flush=True)
        while True:
            time.sleep(60)  # holds end A until killed
    """)
    try:
        assert read_line(proc, 30) == "holding"
        b.close()  # from now on only the child holds end A
        assert [reader.recv()["seq"] for _ in range(5)] == list(range(5))
        assert reader.poll(0.1) is False  # the child is alive and holds end A
    finally:
        killed = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert reader.poll(30) is True
    with pytest.raises(EOFError):
        reader.recv()
    assert time.monotonic() - killed < EOF_BOUND


def test_wait_is_woken_by_another_process(pipe, qname):
    a, b = pipe()
    q = polyipc.Queue(qname("queue"))
    try:
        proc = child(f"""
            import polyipc
            c = polyipc.Connection({b.name!r}, "b")
            print("ready", flush=True)
            assert c.recv() == "go"
            c.send("woken")
            c.close()
        """)
        try:
            assert read_line(proc, 30) == "ready"
            a.send("go")
            assert wait([q, a], timeout=30) == [a]
            assert a.recv() == "woken"
            finish(proc)
        finally:
            proc.kill()
            proc.communicate(timeout=30)
    finally:
        q.close()


def test_sigint_interrupts_a_blocked_recv_in_another_process(pipe):
    a, b = pipe()
    proc = child(f"""
        import polyipc, time
        c = polyipc.Connection({b.name!r}, "b")
        try:
            print("ready", flush=True)
            c.recv()
        except KeyboardInterrupt:
            print("interrupted", time.monotonic(), flush=True)
    """)
    try:
        assert read_line(proc, 30) == "ready"
        wait_until_sleeping(proc.pid, 10)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        word, when = read_line(proc, 10).split()
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert word == "interrupted"
    assert float(when) - sent < LIMIT
