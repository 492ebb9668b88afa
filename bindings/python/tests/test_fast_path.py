"""put/get/put_bytes/get_bytes are C methods of lib.QueueBase (python.i): the common call runs in C,
every other form goes to the package's Python methods. These check that both routes keep the
documented semantics: types, argument forms, custom codecs, subclasses, interruption and close()."""

import os
import signal
import threading
import time

import pytest

import polyipc

LIMIT = 2.0  # generous on a loaded 2-vCPU machine; the slices are 50 ms


@pytest.fixture(params=["bytes", "json"])
def fmt(request):
    return polyipc.BYTES if request.param == "bytes" else polyipc.JSON


def test_put_and_get_are_c_methods_of_the_queue_classes():
    for cls in (polyipc.Queue, polyipc.JoinableQueue):
        for m in ("put", "get", "put_bytes", "get_bytes"):
            assert type(getattr(cls, m)).__name__ == "method_descriptor", (cls, m)
    assert "obj, block=True, timeout=None" in polyipc.Queue.put.__text_signature__


def test_bytes_queue_fast_and_slow_routes_carry_every_bytes_like(qname):
    class B(bytes):
        pass

    with polyipc.Queue(qname(), format=polyipc.BYTES) as q:
        q.put(b"plain")
        q.put(bytearray(b"array"))
        q.put(memoryview(b"xview")[1:])
        q.put(B(b"subclass"))
        q.put(b"")
        q.put(b"timed", True, 5)
        q.put(b"nowait", block=False)
        q.put_nowait(b"put_nowait")
        got = [q.get() for _ in range(5)] + [q.get(True, 5), q.get(block=False), q.get_nowait()]
        assert got == [b"plain", b"array", b"view", b"subclass", b"", b"timed", b"nowait", b"put_nowait"]
        assert all(type(g) is bytes for g in got)
        for bad in ("text", 1, None, {"a": 1}):
            with pytest.raises(TypeError, match="BYTES-format queue carries bytes-like objects"):
                q.put(bad)
        assert q.qsize() == 0


def test_json_queue_fast_and_fallback_routes(qname):
    with polyipc.Queue(qname()) as q:
        objs = [{"id": 1, "kind": "x", "l": [1, 2.5, None, True, False, "é"]}, [], "s", 0, -1.5,
                2 ** 80, {"nested": {"deep": [1]}}]
        for o in objs:
            q.put(o)
        assert [q.get() for _ in objs] == objs
        q.put((1, 2))  # a tuple is a JSON array
        assert q.get() == [1, 2]

        class D(dict):
            pass

        q.put(D(a=1))  # a subclass: the stdlib encodes it
        assert q.get() == {"a": 1}
        with pytest.raises(TypeError):
            q.put({1, 2})
        with pytest.raises(ValueError):
            q.put(float("nan"))
        with pytest.raises(ValueError):
            q.put({1: float("inf")})
        assert q.qsize() == 0
        q.put_bytes(b'{"big": 123456789012345678901234567890, "x": 1e400}')
        assert q.get() == {"big": 123456789012345678901234567890, "x": float("inf")}
        with pytest.raises(polyipc.InvalidJSON):
            q.put_bytes("not json")
        q.put_bytes(bytearray(b"[1]"))
        q.put_bytes(memoryview(b"[2]"))
        q.put_bytes("[3]", priority=0)
        q.put_bytes(b"[4]", False)
        assert [q.get_bytes() for _ in range(3)] + [q.get_bytes(timeout=5)] == [b"[1]", b"[2]", b"[3]", b"[4]"]
        with pytest.raises(TypeError):
            q.put_bytes(5)


def test_messages_larger_than_the_stack_buffer(qname, fmt):
    with polyipc.Queue(qname(), format=fmt, capacity_bytes=1 << 20) as q:
        if fmt == polyipc.BYTES:
            big = os.urandom(100_000)
        else:
            big = {"payload": "y" * 100_000, "n": list(range(1000))}
        for _ in range(3):
            q.put(big)
            assert q.get() == big
        q.put_bytes(b"[" + b"1," * 50_000 + b"1]")
        assert len(q.get_bytes()) == 100_003


def test_bad_argument_forms_are_type_errors(qname, fmt):
    with polyipc.Queue(qname(), format=fmt) as q:
        with pytest.raises(TypeError):
            q.put()
        with pytest.raises(TypeError):
            q.put(b"1", True, None, 0)  # priority is keyword-only
        with pytest.raises(TypeError):
            q.put(b"1", nonsense=1)
        with pytest.raises(TypeError):
            q.get(True, None, 1)
        with pytest.raises(TypeError):
            q.get_bytes(wait=1)
        with pytest.raises(ValueError):
            q.put(b"1" if fmt == polyipc.BYTES else 1, timeout=-1)
        with pytest.raises(ValueError):
            q.get(timeout=-1)
        with pytest.raises(polyipc.Empty):
            q.get(timeout=0.01)
        with pytest.raises(polyipc.Empty):
            q.get_bytes(False)


def test_custom_codecs_are_used(qname, fmt):
    calls = []

    def dumps(o):
        calls.append(("dumps", o))
        return repr(o).encode() if fmt == polyipc.BYTES else '"%s"' % o

    def loads(d):
        calls.append(("loads", type(d).__name__))
        return ("loaded", d)

    with polyipc.Queue(qname(), format=fmt, dumps=dumps, loads=loads) as q:
        q.put("a")
        got = q.get()
    if fmt == polyipc.BYTES:
        assert got == ("loaded", b"'a'") and calls == [("dumps", "a"), ("loads", "bytes")]
    else:
        assert got == ("loaded", '"a"') and calls == [("dumps", "a"), ("loads", "str")]


def test_only_dumps_or_only_loads(qname):
    with polyipc.Queue(qname(), format=polyipc.BYTES, loads=bytes.upper) as q:
        q.put(b"abc")  # the C put, the Python get
        assert q.get() == b"ABC"
    with polyipc.Queue(qname(), dumps=lambda o: '{"wrapped": %d}' % o) as q:
        q.put(5)  # the Python put, the C get
        assert q.get() == {"wrapped": 5}


def test_subclasses_override_put_and_get_and_simple_queue_keeps_its_signature(qname):
    class Logged(polyipc.Queue):
        def put(self, obj, *args, **kw):
            self.log.append(obj)
            return super().put(obj, *args, **kw)

    with Logged(qname(), format=polyipc.BYTES) as q:
        q.log = []
        q.put(b"1")
        q.put(b"2", timeout=5)
        assert q.log == [b"1", b"2"] and q.get() == b"1" and q.get() == b"2"
    with polyipc.SimpleQueue(qname()) as s:
        s.put({"a": [1]})
        assert s.get() == {"a": [1]}
        with pytest.raises(TypeError):
            s.put(1, False)
        with pytest.raises(TypeError):
            s.get(False)


def test_every_method_after_close_names_the_queue(qname, fmt):
    name = qname()
    q = polyipc.Queue(name, format=fmt)
    q.close()
    msg = f"Queue '{name}' is closed"
    item = b"1" if fmt == polyipc.BYTES else {"a": 1}
    for call in (lambda: q.put(item), lambda: q.put(item, timeout=1), lambda: q.put(item, priority=1), q.get,
                 lambda: q.get(False), q.get_bytes, lambda: q.put_bytes(b"[1]"), lambda: q.put_bytes(b"1", False)):
        with pytest.raises(ValueError, match=msg):
            call()
    assert q.closed and q._handle.calls == 0


def test_sigint_interrupts_a_blocked_get_and_put_without_timeout(qname, fmt):
    with polyipc.Queue(qname(), format=fmt, maxsize=1) as q:
        item = b"x" if fmt == polyipc.BYTES else {"x": 1}
        for call in (q.get, q.get_bytes, lambda: (q.put(item), q.put(item))):
            timer = threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT))
            start = time.monotonic()
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                call()
            assert time.monotonic() - start < 0.1 + LIMIT
            timer.join()
            assert q._handle.calls == 0
        assert q.qsize() == 1


@pytest.mark.parametrize("call", ["get", "get_bytes", "put"])
def test_close_from_another_thread_ends_a_blocked_call_and_releases_the_handle(qname, fmt, call):
    name = qname()
    q = polyipc.Queue(name, format=fmt, maxsize=1)
    item = b"x" if fmt == polyipc.BYTES else {"x": 1}
    if call == "put":
        q.put(item)
    outcome = []
    started = threading.Event()

    def blocked():
        started.set()
        try:
            q.put(item) if call == "put" else getattr(q, call)()
        except ValueError as e:
            outcome.append((time.monotonic(), str(e)))

    t = threading.Thread(target=blocked)
    t.start()
    assert started.wait(10)
    time.sleep(0.1)  # let it block
    assert q._handle.calls == 1
    closed_at = time.monotonic()
    q.close()
    t.join(10)
    assert not t.is_alive()
    assert outcome and outcome[0][0] - closed_at < LIMIT
    assert outcome[0][1] == f"Queue '{name}' is closed"
    assert q._handle.calls == 0
    with polyipc.Queue(name, create=False) as again:  # the queue itself is still there
        assert again.qsize() == (1 if call == "put" else 0)


def test_threads_share_a_bytes_handle_and_close_under_load_never_crashes(qname):
    for _ in range(3):
        q = polyipc.Queue(qname(), format=polyipc.BYTES, capacity_bytes=1 << 16)
        stop = threading.Event()
        errors = []

        def worker(k):
            try:
                while not stop.is_set():
                    if k % 2:
                        q.put(b"m" * 64)
                    else:
                        q.get()
            except ValueError as e:
                if "is closed" not in str(e):
                    errors.append(e)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.2)
        q.close()
        stop.set()
        for t in threads:
            t.join(10)
        assert not any(t.is_alive() for t in threads)
        assert not errors, errors
        assert q._handle.calls == 0


def test_handle_object_rules():
    h = polyipc._queues._Handle(None, "Queue 'x'")
    assert h.enter() is None and h.calls == 1
    h.close()
    assert h.closed and h.calls == 1
    with pytest.raises(ValueError, match="Queue 'x' is closed"):
        h.check()
    h.leave()
    assert h.calls == 0
    with pytest.raises(ValueError, match="Queue 'x' is closed"):
        h.enter()
    assert h.calls == 0
    assert isinstance(h.closed_error(), ValueError)
    with pytest.raises(TypeError):
        polyipc._queues._Handle(object(), "bad pointer")


def test_integers_encode_as_json_dumps(qname):
    import json
    ints = [0, 1, -1, 9, 10, -10, 123456, 2 ** 31, -(2 ** 31), 2 ** 63 - 1, -(2 ** 63), 2 ** 63, -(2 ** 63) - 1,
            10 ** 18, -(10 ** 19)]
    with polyipc.Queue(qname()) as q:
        for i in ints:
            q.put({"n": i, "l": [i, -i]})
            assert q.get_bytes() == json.dumps({"n": i, "l": [i, -i]}, separators=(",", ":")).encode()


def test_dict_keys_decode_as_json_loads_past_the_key_cache(qname):
    import json
    import random
    rnd = random.Random(4)
    keys = ["", "a", "id", "kind", "payload", "x" * 31, "y" * 32, "z" * 33, "w" * 200, "é", "caf\u00e9", "\\", "a\"b",
            "tab\t", "\U0001f600", "k\\u0041"]
    keys += ["key%d" % i for i in range(2000)]  # far more than the cache holds: every slot is replaced
    keys += ["".join(rnd.choice("ab") for _ in range(rnd.randint(0, 6))) for _ in range(300)]
    with polyipc.Queue(qname(), capacity_bytes=1 << 22) as q:
        for rounds in range(3):
            rnd.shuffle(keys)
            for start in range(0, len(keys), 50):
                doc = {k: [k, start] for k in keys[start:start + 50]}
                q.put(doc)
                text = q.get_bytes()
                assert json.loads(text) == doc
                q.put_bytes(text)
                got = q.get()
                assert got == doc and list(got) == list(doc)
        # keys in a document written by someone else: whitespace, escapes, duplicates (the last wins)
        q.put_bytes(b'{ "a" : 1 , "\\u0061" : 2, "b":{"a":[{"a":3}]}, "\xc3\xa9":4, "id":5, "id":6 }')
        assert q.get() == json.loads('{"a": 1, "\\u0061": 2, "b": {"a": [{"a": 3}]}, "\u00e9": 4, "id": 5, "id": 6}')
