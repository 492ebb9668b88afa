"""Zero copy: Queue.reserve() / Queue.borrow(), the bytes written and read in the
ring itself. Round trips, the context managers, errors as put/get raise them,
the lifetime rule (no end and no close under a live view: BufferError; views
of an ended one raise ValueError; misuse never crashes, proved in a child
process), and processes killed holding a borrowed message or a reservation.
Waits are bounded; nothing sleeps to synchronise."""

import ctypes
import gc
import queue
import signal
import textwrap
import threading
import time

import pytest

import polyipc
from helpers import kill9, python_child, read_line


def child(code):
    return python_child(textwrap.dedent(code))


def finish(proc, timeout=60):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"exit status {proc.returncode}; stderr: {err}"
    return out


def pattern(size, seed=7):
    return bytes((i * 131 + seed) % 256 for i in range(size))


@pytest.fixture
def bq(qname):
    """A BYTES queue of 64 KiB."""
    with polyipc.Queue(qname(), format="bytes", capacity_bytes=64 << 10) as q:
        yield q


@pytest.fixture
def jq(qname):
    """A JSON queue."""
    with polyipc.Queue(qname()) as q:
        yield q


# ---- round trips -------------------------------------------------------------------------

def test_reserve_write_commit_then_get(bq):
    data = pattern(5000)
    r = bq.reserve(len(data))
    assert isinstance(r, polyipc.Reservation) and r.active and len(r) == len(data)
    buf = r.buf
    assert buf is r.buf  # the same view while it lives
    assert (buf.format, buf.readonly, buf.nbytes) == ("B", False, len(data))
    assert "Reservation of 5000 bytes" in repr(r) and "active" in repr(r)
    buf[:] = data
    assert bq.qsize() == 0  # not published before commit
    r.commit()
    assert not r.active and "committed" in repr(r)
    assert bq.qsize() == 1
    assert bq.get(timeout=10) == data


def test_json_queue_round_trip_and_other_orders(qname):
    with polyipc.Queue(qname()) as q:
        text = b'{"frame": [1, 2, 3], "name": "zero copy"}'
        with q.reserve(len(text)) as r:
            r.buf[:] = text
        assert q.get(timeout=10) == {"frame": [1, 2, 3], "name": "zero copy"}
    # a reservation has priority 0: after every negative priority, before every positive one
    with polyipc.Queue(qname("prio"), order="priority", format="bytes") as q:
        q.put(b"5", priority=5)
        with q.reserve(1) as r:
            r.buf[0] = ord("0")
        q.put(b"-5", priority=-5)
        assert [q.get_bytes(timeout=10) for _ in range(3)] == [b"-5", b"0", b"5"]


def test_borrow_read_get_the_next_then_release(bq):
    first, second = pattern(3000, 1), pattern(10, 2)
    bq.put(first)
    bq.put(second)
    b = bq.borrow(timeout=10)
    assert isinstance(b, polyipc.Borrowed) and b.active and len(b) == len(first)
    assert b.buf.readonly and b.buf.format == "B"
    assert bytes(b.buf) == first and bytes(b) == first  # the object itself is bytes-like
    assert bq.qsize() == 1  # taken, as get takes it
    assert bq.get(timeout=10) == second  # what is behind it meanwhile (FIFO)
    with pytest.raises(TypeError):
        b.buf[0] = 1  # read only
    with pytest.raises(TypeError, match="not writable"):
        ctypes.c_char.from_buffer(b)  # no writable view of a borrowed message
    b.release()
    assert not b.active and "released" in repr(b)
    assert bq.qsize() == 0
    with pytest.raises(queue.Empty):
        bq.get_nowait()


def test_borrowed_message_can_be_put_elsewhere_without_a_copy_of_its_own(bq, qname):
    with polyipc.Queue(qname("out"), format="bytes") as out:
        bq.put(pattern(2000))
        with bq.borrow(timeout=10) as b:
            out.put_bytes(b)  # the buffer protocol: from ring to ring
        assert out.get(timeout=10) == pattern(2000)


def test_cancel_drops_the_reservation(bq):
    r = bq.reserve(100)
    r.buf[:5] = b"never"
    r.cancel()
    assert not r.active and "cancelled" in repr(r)
    assert bq.qsize() == 0
    with pytest.raises(queue.Empty):
        bq.get_nowait()
    # the space came back: a message of nearly the whole ring fits
    big = pattern(60 << 10)
    with bq.reserve(len(big), timeout=10) as r:
        r.buf[:] = big
    assert bq.get(timeout=10) == big


def test_many_rounds_wrap_the_ring(bq):
    for i in range(300):  # 300 x ~1 KiB through a 64 KiB ring
        msg = pattern(900 + i % 200, i)
        with bq.reserve(len(msg), timeout=10) as r:
            r.buf[:] = msg
        with bq.borrow(timeout=10) as b:
            assert b.buf == msg
    assert bq.qsize() == 0


# ---- context managers --------------------------------------------------------------------

def test_with_reserve_commits_on_normal_exit_and_cancels_when_the_block_raises(bq):
    with bq.reserve(3) as r:
        r.buf[:] = b"yes"
    assert not r.active and "committed" in repr(r)
    with pytest.raises(KeyError):
        with bq.reserve(2) as r2:
            r2.buf[:] = b"no"
            raise KeyError("abandon")
    assert not r2.active and "cancelled" in repr(r2)
    assert bq.get(timeout=10) == b"yes"
    with pytest.raises(queue.Empty):
        bq.get_nowait()


def test_ending_inside_the_block_leaves_nothing_for_exit(bq):
    with bq.reserve(2) as r:
        r.buf[:] = b"ab"
        r.cancel()
    with bq.reserve(2) as r:
        r.buf[:] = b"cd"
        r.commit()
    bq.put(b"ef")
    with bq.borrow(timeout=10) as b:
        assert bytes(b) == b"cd"
        b.release()
    assert bq.get(timeout=10) == b"ef"


def test_with_borrow_releases_on_exit_even_when_the_block_raises(bq):
    bq.put(b"one")
    bq.put(b"two")
    with bq.borrow(timeout=10) as b:
        assert bytes(b.buf) == b"one"
    assert not b.active
    with pytest.raises(RuntimeError):
        with bq.borrow(timeout=10) as b:
            raise RuntimeError("reader failed")
    assert not b.active  # released: taken for good, as a get() whose caller raised
    assert bq.qsize() == 0


def test_the_view_in_a_with_block_may_stay_in_a_variable(bq):
    with bq.reserve(4) as r:
        view = r.buf  # the same object as r.buf: released by the commit, not in the way of it
        view[:] = b"keep"
    with pytest.raises(ValueError, match="released"):
        view[0]
    with bq.borrow(timeout=10) as b:
        seen = b.buf
        assert seen == b"keep"
    with pytest.raises(ValueError, match="released"):
        bytes(seen)


# ---- errors --------------------------------------------------------------------------------

def test_double_commit_cancel_and_release_are_invalid_argument(bq):
    r = bq.reserve(1)
    r.buf[0] = 0x41
    r.commit()
    for end in (r.commit, r.cancel):
        with pytest.raises(polyipc.InvalidArgument, match="committed already") as info:
            end()
        assert isinstance(info.value, ValueError)
    with pytest.raises(ValueError, match="committed already"):
        r.buf
    with pytest.raises(ValueError):
        memoryview(r)
    b = bq.borrow(timeout=10)
    b.release()
    with pytest.raises(polyipc.InvalidArgument, match="released already"):
        b.release()
    with pytest.raises(ValueError):
        bytes(b)
    assert len(b) == 1  # the size stays known


def test_json_queue_drops_invalid_bytes_at_commit_and_stays_usable(jq):
    r = jq.reserve(5)
    r.buf[:] = b'{"a":'
    with pytest.raises(polyipc.InvalidJSON, match="invalid JSON") as info:
        r.commit()
    assert isinstance(info.value, ValueError) and jq.name in str(info.value)
    assert not r.active and "invalid JSON" in repr(r)
    with pytest.raises(polyipc.InvalidArgument):
        r.commit()  # dropped: nothing to commit again
    assert jq.qsize() == 0
    jq.put({"still": "usable"})
    with jq.reserve(7) as r:
        r.buf[:] = b"[1,2,3]"
    assert jq.get(timeout=10) == {"still": "usable"}
    assert jq.get(timeout=10) == [1, 2, 3]
    # invalid bytes in a with block: the error leaves the block, the message is dropped
    with pytest.raises(polyipc.InvalidJSON):
        with jq.reserve(3) as r:
            r.buf[:] = b"nul"
    assert jq.qsize() == 0


def test_zero_length_reservation_and_message(bq, jq):
    r = bq.reserve(0)
    assert len(r) == 0 and len(r.buf) == 0 and bytes(r) == b""
    r.commit()
    with bq.borrow(timeout=10) as b:
        assert len(b) == 0 and b.buf.tobytes() == b""
    with pytest.raises(polyipc.InvalidJSON):
        jq.reserve(0).commit()  # empty text is not JSON
    with pytest.raises(ValueError):
        bq.reserve(-1)


def test_reservation_larger_than_the_queue_can_ever_hold_is_too_large_at_once(qname):
    with polyipc.Queue(qname(), format="bytes", capacity_bytes=64 << 10) as q:
        for kwargs in ({}, {"timeout": 30}, {"block": False}):  # never waits, however long it may
            with pytest.raises(polyipc.TooLarge, match="exceeds max_message_bytes") as info:
                q.reserve(1 << 20, **kwargs)
            assert isinstance(info.value, ValueError)
        assert q.qsize() == 0
    with polyipc.Queue(qname("small"), format="bytes", max_message_bytes=100) as q:
        with pytest.raises(polyipc.TooLarge):
            q.reserve(101)
        q.reserve(100).cancel()


def test_reserve_on_a_full_queue_raises_full_and_borrow_on_an_empty_one_empty(qname):
    with polyipc.Queue(qname(), format="bytes", maxsize=1) as q:
        with pytest.raises(queue.Empty):
            q.borrow(block=False)
        with pytest.raises(polyipc.Empty):
            q.borrow(timeout=0.05)
        q.put(b"x")
        with pytest.raises(queue.Full):
            q.reserve(10, block=False)
        with pytest.raises(polyipc.Full):
            q.reserve(10, timeout=0.05)
        assert q.get(timeout=10) == b"x"
        r = q.reserve(10, block=False)  # a reservation counts as an item
        with pytest.raises(queue.Full):
            q.put(b"y", block=False)
        with pytest.raises(queue.Full):
            q.reserve(10, block=False)
        r.cancel()
        q.reserve(10, block=False).cancel()
        with pytest.raises(ValueError):
            q.reserve(10, timeout=-1)
    with polyipc.Queue(qname("bytes"), format="bytes", capacity_bytes=64 << 10) as q:
        q.put(pattern(40 << 10))
        with pytest.raises(queue.Full):
            q.reserve(40 << 10, block=False)  # full by bytes


def test_closed_for_writing(bq):
    bq.put(b"last")
    bq.close_writes()
    with pytest.raises(polyipc.Closed):
        bq.reserve(4)
    with bq.borrow() as b:
        assert bytes(b) == b"last"
    with pytest.raises(polyipc.Closed):
        bq.borrow()


def test_not_made_directly_and_closed_queue():
    with pytest.raises(TypeError):
        polyipc.Reservation()
    with pytest.raises(TypeError):
        polyipc.Borrowed()


def test_a_closed_queue_refuses_reserve_and_borrow(qname):
    q = polyipc.Queue(qname(), format="bytes")
    q.close()
    with pytest.raises(ValueError, match="closed"):
        q.reserve(1)
    with pytest.raises(ValueError, match="closed"):
        q.borrow(block=False)


# ---- the lifetime rule ---------------------------------------------------------------------

def test_no_commit_while_views_made_from_buf_are_alive(bq):
    data = pattern(64)
    r = bq.reserve(len(data))
    buf = r.buf
    buf[:] = data
    made = [
        lambda: buf[8:16],                                      # a slice (shares buf's managed buffer)
        lambda: buf.cast("I"),                                  # a cast
        lambda: memoryview(buf),                                # a view of the view
        lambda: (ctypes.c_char * 64).from_buffer(buf),          # an export of buf itself (as numpy)
        lambda: memoryview(r),                                  # another view of the reservation
        lambda: (ctypes.c_char * 64).from_buffer(r),            # an export of the reservation
    ]
    for make in made:
        view = make()
        with pytest.raises(BufferError, match="still alive"):
            r.commit()
        with pytest.raises(BufferError):
            r.cancel()
        assert r.active and r.buf is buf and buf[0] == data[0]  # nothing changed
        del view
    r.commit()
    with pytest.raises(ValueError, match="released"):
        buf[0]
    assert bq.get(timeout=10) == data


def test_no_release_while_views_are_alive_and_views_fail_cleanly_after(bq):
    bq.put(b"abcdef")
    b = bq.borrow(timeout=10)
    head = b.buf[:3]
    with pytest.raises(BufferError):
        b.release()
    with pytest.raises(BufferError):
        b.__exit__(None, None, None)
    assert b.active and head == b"abc"
    head.release()  # releasing the slice is enough
    b.release()
    with pytest.raises(ValueError):
        head.tobytes()


def test_a_block_that_keeps_a_slice_raises_buffer_error_on_exit(bq):
    with pytest.raises(BufferError):
        with bq.reserve(4) as r:
            r.buf[:] = b"half"
            part = r.buf[:2]
    assert r.active  # neither committed nor cancelled
    del part
    r.commit()
    assert bq.get(timeout=10) == b"half"


def test_close_ends_live_reservations_and_borrowed_messages(qname):
    name = qname()
    with polyipc.Queue(name, format="bytes") as other:
        q = polyipc.Queue(name, create=False)
        other.put(b"taken")
        other.put(b"kept")
        r = q.reserve(5)
        r.buf[:] = b"never"
        b = q.borrow(timeout=10)
        view = b.buf
        q.close()
        assert q.closed and not r.active and not b.active
        assert "cancelled by close()" in repr(r) and "released by close()" in repr(b)
        with pytest.raises(ValueError, match="released"):
            view[0]
        with pytest.raises(polyipc.InvalidArgument):
            r.commit()
        with pytest.raises(ValueError):
            b.buf
        assert other.qsize() == 1 and other.get(timeout=10) == b"kept"  # nothing published, "taken" consumed


def test_close_refuses_while_a_view_is_alive_and_closes_nothing(qname):
    q = polyipc.Queue(qname(), format="bytes")
    q.put(b"message")
    r = q.reserve(3)
    b = q.borrow(timeout=10)
    word = b.buf[:4]
    with pytest.raises(BufferError, match="still alive"):
        q.close()
    assert not q.closed and r.active and b.active and word == b"mess"  # nothing changed
    with pytest.raises(BufferError):
        q.__exit__(None, None, None)
    del word
    q.close()
    assert q.closed and not r.active and not b.active


def test_garbage_collected_ones_are_cancelled_and_released(bq):
    r = bq.reserve(60 << 10)
    r.buf[:4] = b"lost"
    del r
    gc.collect()
    with pytest.raises(queue.Empty):
        bq.get_nowait()
    bq.put(b"read")
    bq.borrow(timeout=10)  # dropped at once
    assert bq.qsize() == 0
    big = pattern(60 << 10)  # both spaces came back
    bq.put(big, timeout=10)
    assert bq.get(timeout=10) == big


def test_a_live_one_keeps_the_queue_mapped_after_the_queue_object_is_gone(qname):
    name = qname()
    with polyipc.Queue(name, format="bytes") as other:
        q = polyipc.Queue(name, create=False)
        r = q.reserve(4)
        del q
        gc.collect()
        r.buf[:] = b"late"
        r.commit()
        assert other.get(timeout=10) == b"late"


def test_misuse_never_crashes_the_interpreter(qname):
    """A crash would kill the child (SIGSEGV): it must print every line and exit 0."""
    name = qname()
    with polyipc.Queue(name, format="bytes"):
        proc = child(f"""
            import gc, polyipc

            def expect(kind, fn):
                try:
                    fn()
                except kind:
                    return
                raise AssertionError(f"no {{kind.__name__}} from {{fn}}")

            q = polyipc.Queue({name!r}, create=False)
            q.put(b"x" * 1000)
            # views of a committed / released one: released memoryviews
            r = q.reserve(1000)
            buf = r.buf
            buf[:] = b"y" * 1000
            r.commit()
            expect(ValueError, lambda: buf[0])
            expect(ValueError, lambda: buf.__setitem__(0, 1))
            expect(ValueError, lambda: buf[1:])
            expect(ValueError, lambda: r.buf)
            b = q.borrow(timeout=10)
            head = b.buf[:10]
            expect(BufferError, b.release)
            expect(BufferError, q.close)
            print(head.tobytes() == b"x" * 10, flush=True)
            del head
            mv = b.buf
            q.close()  # releases b, and b.buf
            expect(ValueError, lambda: mv[0])
            expect(ValueError, lambda: mv.tobytes())
            expect(ValueError, lambda: bytes(b))
            expect(ValueError, lambda: b.release())
            print("after close", flush=True)
            q = polyipc.Queue({name!r}, create=False)
            print(q.get_bytes(timeout=10) == b"y" * 1000, flush=True)  # the committed one
            # a lease outliving every other reference: its queue stays mapped until it ends
            r = q.reserve(100)
            buf = r.buf
            del q
            gc.collect()
            buf[:] = b"z" * 100
            del buf
            r.cancel()
            # many at once, dropped in any order
            q = polyipc.Queue({name!r}, create=False)
            q.put(b"w" * 100)
            held = [q.reserve(10) for _ in range(20)] + [q.borrow(timeout=10)]
            views = [h.buf for h in held]
            del held
            gc.collect()  # each view keeps its own alive
            print(sum(len(v) for v in views), bytes(views[-1][:3]), flush=True)
            for v in views:
                v.release()  # the last view gone: cancelled / released
            del views
            print(q.qsize(), flush=True)
            q.put(b"v" * 100)
            q.close()
            print("done", flush=True)
        """)
        out = finish(proc)
        assert out.split("\n")[:5] == ["True", "after close", "True", "300 b'www'", "0"], out
        assert out.rstrip().endswith("done")


def test_close_from_another_thread_ends_a_blocked_reserve(qname):
    q = polyipc.Queue(qname(), format="bytes", maxsize=1)
    try:
        q.put(b"full")
        errors = []

        def blocked_reserve():
            try:
                q.reserve(8)  # waits for room
            except ValueError as e:  # close() from the main thread ends the wait
                errors.append(e)

        t = threading.Thread(target=blocked_reserve)
        t.start()
        deadline = time.monotonic() + 30
        while q._handle.calls == 0 and time.monotonic() < deadline:  # until it is in reserve()
            time.sleep(0.001)
        assert q._handle.calls >= 1
        q.close()
        t.join(30)
        assert not t.is_alive() and len(errors) == 1 and "closed" in str(errors[0])
        assert q._handle.calls == 0  # released
    finally:
        q.close()


def test_a_blocked_borrow_wakes_for_a_put(bq):
    got = []
    started = threading.Event()

    def reader():
        started.set()
        with bq.borrow(timeout=30) as b:
            got.append(bytes(b))

    t = threading.Thread(target=reader)
    t.start()
    assert started.wait(30)
    bq.put(b"wake")
    t.join(30)
    assert not t.is_alive() and got == [b"wake"]


def test_joinable_borrow_is_a_lease_until_task_done(qname):
    with polyipc.JoinableQueue(qname()) as q:
        with q.reserve(1) as r:
            r.buf[:] = b"7"
        with q.borrow(timeout=10) as b:
            assert bytes(b) == b"7"
        with pytest.raises(TimeoutError):
            q.join(timeout=0.01)
        q.task_done()
        q.join(timeout=10)


# ---- across processes ----------------------------------------------------------------------

def test_child_killed_holding_a_borrowed_message_gives_it_back(qname):
    name = qname()
    big = pattern(40 << 10)
    with polyipc.Queue(name, format="bytes", capacity_bytes=64 << 10) as q:
        q.put(big)
        proc = child(f"""
            import signal, polyipc
            q = polyipc.Queue({name!r}, create=False)
            b = q.borrow(timeout=30)
            print("borrowed", len(b), b.buf[:4].hex(), flush=True)
            signal.pause()  # killed holding it
        """)
        try:
            assert read_line(proc, 30) == f"borrowed {len(big)} {big[:4].hex()}"
            assert q.qsize() == 0
            with pytest.raises(queue.Empty):
                q.get_nowait()  # the child holds it
        finally:
            kill9(proc)
        assert q.get(timeout=30) == big  # redelivered to the next getter
        assert q.stat()["counters"]["redeliveries"] >= 1


def test_child_killed_holding_a_reservation_loses_only_it(qname):
    name = qname()
    big = pattern(40 << 10)
    with polyipc.Queue(name, format="bytes", capacity_bytes=64 << 10) as q:
        proc = child(f"""
            import signal, polyipc
            q = polyipc.Queue({name!r}, create=False)
            r = q.reserve({len(big)})
            r.buf[:{len(big) // 2}] = b"h" * {len(big) // 2}  # half written
            print("reserved", flush=True)
            signal.pause()
        """)
        try:
            assert read_line(proc, 30) == "reserved"
        finally:
            kill9(proc)
        with pytest.raises(queue.Empty):
            q.get_nowait()  # nothing half-written shows
        with q.reserve(len(big), timeout=30) as r:  # its space comes back
            r.buf[:] = big
        assert q.get(timeout=30) == big


def test_a_message_reserved_in_one_process_is_borrowed_in_another(qname):
    name = qname()
    with polyipc.Queue(name, format="bytes", capacity_bytes=1 << 20) as q:
        proc = child(f"""
            import polyipc
            with polyipc.Queue({name!r}, create=False) as q:
                for i in range(50):
                    with q.reserve(10000, timeout=30) as r:
                        r.buf[:] = bytes([i]) * 10000
                q.close_writes()
        """)
        seen = []
        while True:
            try:
                with q.borrow(timeout=30) as b:
                    assert bytes(b) == bytes([b.buf[0]]) * 10000
                    seen.append(b.buf[0])
            except polyipc.Closed:
                break
        finish(proc)
        assert seen == list(range(50))
