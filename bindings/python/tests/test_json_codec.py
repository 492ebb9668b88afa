"""The JSON codec gives what json.dumps/json.loads give, and recovers from errors."""

import json
import sys

import pytest

import polyipc
from polyipc import _jsoncodec

SAMPLES = [
    {"job": 1, "from": "python"}, [], {}, "", "é ✓ \u2028 \"quoted\" \\ back", 0, -1, 2**70, 1.5, -0.0, 1e300,
    True, False, None, [1, [2, [3, {"deep": [None]}]]], {"k": {"nested": ["x" * 1000]}},
]


@pytest.mark.parametrize("obj", SAMPLES, ids=range(len(SAMPLES)))
def test_encode_equals_compact_dumps_and_decode_round_trips(obj):
    text = _jsoncodec.encode(obj)
    assert text == json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    assert _jsoncodec.decode(text.encode("utf-8")) == json.loads(text)


def test_circular_reference_is_value_error_and_the_next_encode_works(qname):
    loop = []
    loop.append(loop)
    with polyipc.Queue(qname()) as q:
        with pytest.raises(ValueError, match="Circular"):
            q.put(loop)
        shared = [1]
        q.put([shared, shared])  # the same list twice is not a cycle
        assert q.get() == [[1], [1]]


def test_nested_containers_deep_values_and_a_high_recursion_limit():
    rows = [(i, [i, (str(i), {"k": [i]})]) for i in range(50)]  # tuples encode as arrays
    assert _jsoncodec.encode(rows) == json.dumps(rows, separators=(",", ":"), ensure_ascii=False)
    deep = []
    for _ in range(sys.getrecursionlimit() + 10):
        deep = [deep]
    with pytest.raises(RecursionError):  # too deep, but not circular: not "Circular"
        _jsoncodec.encode(deep)
    loop = {}
    loop["self"] = loop
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)  # the unchecked encoder could run out of C stack: not used
    try:
        with pytest.raises(ValueError, match="Circular"):
            _jsoncodec.encode(loop)
    finally:
        sys.setrecursionlimit(old)
    assert _jsoncodec.encode([loop["self"] is loop]) == "[true]"


def test_text_from_other_writers_with_whitespace_decodes(qname):
    with polyipc.Queue(qname()) as q:
        q.put_bytes(b' \n{"a": [1, 2] }\t')
        q.put_bytes(b'"plain"  ')
        assert q.get() == {"a": [1, 2]}
        assert q.get() == "plain"


def test_custom_dumps_and_loads(qname):
    with polyipc.Queue(qname(), dumps=lambda o: json.dumps(sorted(o)), loads=lambda s: set(json.loads(s))) as q:
        q.put({3, 1, 2})
        assert q.get() == {1, 2, 3}


def test_put_many_and_get_many_batch(qname):
    with polyipc.Queue(qname(), maxsize=10) as q:
        q.put_many({"i": i} for i in range(7))
        assert q.get_many(3) == [{"i": 0}, {"i": 1}, {"i": 2}]
        with pytest.raises(polyipc.Full) as info:
            q.put_many(range(100), timeout=0.05)
        assert info.value.done == 6 and q.qsize() == 10
        got = q.get_many(100)
        assert got == [{"i": i} for i in range(3, 7)] + list(range(6))
        with pytest.raises(polyipc.Empty):
            q.get_many(block=False)
        q.close_writes()
        with pytest.raises(polyipc.Closed) as info:
            q.put_many(["late"])
        assert info.value.done == 0
        with pytest.raises(EOFError):
            q.get_many(timeout=5)


def test_get_many_grows_its_buffer_for_large_messages(qname):
    with polyipc.Queue(qname(), format="bytes", capacity_bytes=1 << 20) as q:
        big = b"b" * 200_000
        q.put_many([big, b"small", bytearray(b"ba")])
        got = []
        while len(got) < 3:
            got += q.get_many(10, timeout=5)
        assert got == [big, b"small", b"ba"]
        with pytest.raises(TypeError, match="bytes-like"):
            q.put_many([b"fine", "not bytes"])
        assert q.qsize() == 0  # encoding failed before anything was put
