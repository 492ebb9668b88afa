"""Single-process semantics: order, formats, limits, timeouts, end of stream."""

import pickle
import queue
import time

import pytest

import polyipc


def test_fifo_carries_json_objects_in_order(qname):
    with polyipc.Queue(qname()) as q:
        objs = [{"job": 1, "tags": ["a", "é"], "ok": True, "none": None}, [1, 2.5, "x"], "text", 42, None]
        for o in objs:
            q.put(o)
        assert q.qsize() == len(objs) and not q.empty()
        assert [q.get() for _ in objs] == objs
        assert q.empty()


def test_lifo_returns_newest_first(qname):
    with polyipc.Queue(qname(), order=polyipc.LIFO) as q:
        for i in range(5):
            q.put(i)
        assert [q.get_nowait() for _ in range(5)] == [4, 3, 2, 1, 0]


def test_priority_returns_lowest_first_and_fifo_among_equals(qname):
    with polyipc.Queue(qname(), order="priority") as q:
        for prio, item in [(5, "e"), (1, "a1"), (3, "c"), (1, "a2"), (-2, "neg")]:
            q.put(item, priority=prio)
        assert [q.get_nowait() for _ in range(5)] == ["neg", "a1", "a2", "c", "e"]


def test_get_nowait_on_empty_raises_queue_empty_with_status(qname):
    with polyipc.Queue(qname()) as q:
        with pytest.raises(queue.Empty) as info:
            q.get_nowait()
        assert isinstance(info.value, polyipc.Empty) and isinstance(info.value, polyipc.PolyipcError)
        assert info.value.status == polyipc._lib.POLYIPC_ERR_EMPTY
        assert "empty" in str(info.value)
        with pytest.raises(queue.Empty):
            q.get(block=False)
        with pytest.raises(queue.Empty):
            q.get(timeout=0)


def test_get_timeout_waits_then_raises_queue_empty(qname):
    with polyipc.Queue(qname()) as q:
        start = time.monotonic()
        with pytest.raises(queue.Empty) as info:
            q.get(timeout=0.3)
        waited = time.monotonic() - start
        assert 0.29 <= waited < 2.0
        assert "timed out" in str(info.value)


def test_maxsize_full_put_nowait_and_put_timeout(qname):
    with polyipc.Queue(qname(), maxsize=2) as q:
        assert q.maxsize == 2 and not q.full()
        q.put_nowait("a")
        q.put("b")
        assert q.full() and q.qsize() == 2
        with pytest.raises(queue.Full) as info:
            q.put_nowait("c")
        assert isinstance(info.value, polyipc.Full)
        start = time.monotonic()
        with pytest.raises(queue.Full):
            q.put("c", timeout=0.2)
        assert 0.19 <= time.monotonic() - start < 2.0
        with pytest.raises(queue.Full):
            q.put("c", block=False)
        assert q.get() == "a"
        q.put("c", timeout=0.2)
        assert [q.get(), q.get()] == ["b", "c"]


def test_capacity_bytes_bounds_the_queue(qname):
    with polyipc.Queue(qname(), format=polyipc.BYTES, capacity_bytes=4096) as q:
        put = 0
        with pytest.raises(queue.Full):
            for _ in range(1000):
                q.put_nowait(b"x" * 500)
                put += 1
        assert 0 < put < 9
        assert q.qsize() == put


def test_message_that_can_never_fit_raises_too_large(qname):
    with polyipc.Queue(qname(), format=polyipc.BYTES, capacity_bytes=4096, max_message_bytes=100) as q:
        with pytest.raises(polyipc.TooLarge) as info:
            q.put(b"x" * 101)
        assert isinstance(info.value, ValueError) and q.qsize() == 0


def test_negative_timeout_is_value_error(qname):
    with polyipc.JoinableQueue(qname()) as q:
        with pytest.raises(ValueError, match="non-negative"):
            q.get(timeout=-1)
        with pytest.raises(ValueError, match="non-negative"):
            q.put(1, timeout=-0.5)
        with pytest.raises(ValueError, match="non-negative"):
            q.join(timeout=-1)


def test_bytes_queue_carries_bytes_unchanged(qname):
    with polyipc.Queue(qname(), format="bytes") as q:
        payload = bytes(range(256)) + b"\x00{not json"
        q.put(payload)
        q.put(bytearray(b"ba"))
        q.put(memoryview(b"mv"))
        q.put_bytes(b"")
        assert q.get() == payload
        assert q.get_bytes() == b"ba"
        assert q.get() == b"mv"
        assert q.get() == b""
        with pytest.raises(TypeError, match="bytes-like"):
            q.put({"not": "bytes"})
        assert q.format == "bytes"


def test_put_bytes_on_json_queue_is_validated_and_get_bytes_returns_raw_text(qname):
    with polyipc.Queue(qname()) as q:
        q.put_bytes(b'{"pre":"encoded"}')
        q.put_bytes('["as", "str"]')
        assert q.get_bytes() == b'{"pre":"encoded"}'
        assert q.get() == ["as", "str"]


def test_close_writes_drains_then_raises_closed_eoferror(qname):
    with polyipc.Queue(qname()) as q:
        q.put(1)
        q.put(2)
        q.close_writes()
        with pytest.raises(polyipc.Closed) as info:
            q.put(3)
        assert isinstance(info.value, EOFError)
        assert q.get() == 1 and q.get() == 2
        with pytest.raises(EOFError) as info:
            q.get()  # blocking get on a drained, closed queue ends at once
        assert info.value.status == polyipc._lib.POLYIPC_ERR_CLOSED
        with pytest.raises(polyipc.Closed):
            q.get_nowait()


def test_joinable_task_done_and_join(qname):
    with polyipc.JoinableQueue(qname()) as q:
        q.put("a")
        q.put("b")
        with pytest.raises(polyipc.TimeoutError) as info:
            q.join(timeout=0.1)
        assert isinstance(info.value, TimeoutError)
        assert q.get() == "a" and q.get() == "b"
        q.task_done()
        q.task_done()
        q.join(timeout=5)
        q.join()
        with pytest.raises(ValueError) as info:
            q.task_done()  # called too many times
        assert isinstance(info.value, polyipc.InvalidArgument)


def test_task_done_with_a_message_ends_that_item(qname):
    with polyipc.JoinableQueue(qname()) as q:
        for x in ("a", "b", "c"):
            q.put(x)
        a, b = q.get_bytes(), q.get_bytes()
        assert (a, b) == (b'"a"', b'"b"')
        q.task_done(bytearray(b))  # out of order: b first, a still held
        with pytest.raises(ValueError) as info:
            q.task_done(b'"b"')  # already done
        assert isinstance(info.value, polyipc.InvalidArgument) and q.name in str(info.value)
        with pytest.raises(ValueError):
            q.task_done(b'"c"')  # waiting, not held by this process
        with pytest.raises(TypeError):
            q.task_done("a")  # a decoded item, not the raw bytes
        with pytest.raises(polyipc.TimeoutError):
            q.join(timeout=0.05)
        q.task_done(memoryview(a))
        assert q.get() == "c"
        q.task_done()
        q.join(timeout=5)


def test_simple_queue_has_multiprocessing_methods(qname):
    with polyipc.SimpleQueue(qname()) as q:
        assert q.empty()
        q.put({"a": 1})
        assert not q.empty()
        assert q.get() == {"a": 1}


def test_open_existing_takes_its_options(qname):
    name = qname()
    with polyipc.Queue(name, maxsize=7, order=polyipc.LIFO, format=polyipc.BYTES) as a:
        with polyipc.Queue(name, create=False) as b:
            assert (b.maxsize, b.order, b.format) == (7, "lifo", "bytes")
            a.put(b"x")
            assert b.get() == b"x"
        assert "lifo" in repr(a)


def test_pickle_reopens_by_name(qname):
    name = qname()
    with polyipc.JoinableQueue(name) as q:
        q.put("via pickle")
        with pickle.loads(pickle.dumps(q)) as copy:
            assert type(copy) is polyipc.JoinableQueue and copy.name == name
            assert copy.get() == "via pickle"
            copy.task_done()


def test_stat_list_and_peek_return_parsed_json(qname):
    name = qname()
    with polyipc.JoinableQueue(name, maxsize=3) as q:
        q.put({"n": 1}, priority=0)
        info = q.stat()
        assert info["name"] == name and info["joinable"] is True and info["max_items"] == 3
        assert info["depth"] == 1
        assert polyipc.stat(name)["kind"] == "queue"
        assert name in [o["name"] for o in polyipc.list_objects()]
        assert polyipc.peek(name)[0]["message"] == {"n": 1}
        assert q.get() == {"n": 1}
        q.task_done()


def test_unlink_removes_the_name_but_open_handles_keep_working(qname):
    name = qname()
    q = polyipc.Queue(name)
    polyipc.unlink(name)
    with pytest.raises(polyipc.NotFound):
        polyipc.stat(name)
    q.put("still works")
    assert q.get() == "still works"
    q.close()
    with pytest.raises(FileNotFoundError):
        polyipc.unlink(name)


def test_close_does_not_unlink(qname):
    name = qname()
    polyipc.Queue(name).close()
    q = polyipc.Queue(name, create=False)
    q.close()
    del q
    import gc

    gc.collect()
    assert polyipc.stat(name)["name"] == name
