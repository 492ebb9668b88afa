"""The C JSON decoder of JSON queues (python.i: polyipc_python_jdecode) gives what
json.loads gives, or leaves the text to the stdlib (the fallback) - never something else."""

import json
import math
import random
import struct

import pytest

import polyipc
from polyipc import _jsoncodec
from polyipc._native import lib

_FELL_BACK = object()


def c_only(data):
    """The C decoder's own answer: the object, or _FELL_BACK when it left the text to the stdlib
    (which for invalid UTF-8 is the UnicodeDecodeError of decoding the text for it)."""
    try:
        return lib.polyipc_python_json_loads(data, lambda text: _FELL_BACK)
    except UnicodeDecodeError:
        return _FELL_BACK


def c_loads(data):
    """The C decoder, else json.loads: must be json.loads, values and errors. (Queues fall back to
    _jsoncodec.decode_text, the stdlib's scanner without json.loads's extra-data check: the library
    only delivers valid JSON, and whatever the C decoder leaves is decoded as before.)"""
    return lib.polyipc_python_json_loads(data, json.loads)


def same(a, b):
    """Equal, with the same types all the way down (True is not 1, -0.0 is not 0.0), and dict keys in
    the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def outcome(fn, data):
    try:
        return "ok", fn(data)
    except Exception as e:  # the same error, with the same message
        return "error", (type(e), str(e))


def check(text, *, in_c=True):
    """c_loads(text) is json.loads(text); in_c: the C decoder took it itself (True), left it (False)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    expected = json.loads(data.decode("utf-8"))
    got = c_loads(data)
    assert same(got, expected), (text, got, expected)
    own = c_only(data)
    if in_c is True:
        assert own is not _FELL_BACK, f"the C decoder left {text!r} to the stdlib"
        assert same(own, expected)
    elif in_c is False:
        assert own is _FELL_BACK, f"the C decoder took {text!r} itself: {own!r}"


EDGE_CASES = [
    # literals and whitespace
    "null", "true", "false", " \t\r\n null \n", "[true,false,null]", '{"a":null}',
    # empty containers and nesting
    "[]", "{}", "[[]]", "[{}]", '{"a":{}}', '{"a":[]}', "[ ]", "{ }", " [ [ ] , { } ] ",
    '[1, [2, [3, {"deep": [null, {"x": [[[]]]}]}]]]', '{"a" : 1 , "b":[ 1 ,2 ] }',
    # integers
    "0", "-0", "1", "-1", "123456789", "9223372036854775807", "-9223372036854775808",
    "999999999999999999", "-999999999999999999", "1000000000000000000", "[0,-0,10,-10]",
    # floats
    "0.0", "-0.0", "0e0", "-0e0", "0E+0", "1.5", "-1.5", "1e5", "1E5", "1e+5", "1e-5", "1.0e10",
    "5e-324", "-5e-324", "4.9e-324", "2e-324", "2.4703282292062327e-324", "2.2250738585072014e-308",
    "2.2250738585072011e-308", "1.7976931348623157e308", "-1.7976931348623157e308", "1.7976931348623158e308",
    "1.7976931348623159e308", "1e308", "1e309", "-1e400", "1e-400", "-1e-400", "0.1", "0.2", "0.30000000000000004",
    "0.1000000000000000055511151231257827021181583404541015625", "9007199254740993.0", "9007199254740993e0",
    "123456789012345678901234567890.5", "1" * 200 + ".5", "0." + "0" * 300 + "1", "1e0000000000000000000001",
    "1e-99999999999999999999", "[1.0,2.5e3,-3.25E-2]",
    # strings
    '""', '"a"', '"plain ascii"', '"\\""', '"\\\\"', '"\\/"', '"/"', '"\\b\\f\\n\\r\\t"', '"a\\nb"',
    '"\\u0000"', '"\\u001f"', '"\\u0041\\u00e9\\u20AC\\uffff"', '"\\uFEFF"', '"é ✓ \u2028 \u2029"',
    '"日本語テキスト"', '"\U0001F600 emoji"', '"\U0010FFFF"', '"\\ud83d\\ude00"', '"\\uD83D\\uDE00"',
    '"\\udbff\\udfff"', '"\\ud800\\udc00"', '"x\\ud83d\\ude00y\U0001F600z"',
    # lone surrogates, as json.loads keeps them
    '"\\ud800"', '"\\udc00"', '"\\udfff"', '"\\ud800x"', '"\\ud800\\n"', '"\\ud800\\u0041"', '"\\ud800\\ud800"',
    '"\\ud800\\ud800\\udc00"', '"\\udc00\\ud800"', '"\\ud83d"', '"a\\ud83d\\u00e9"', '"\\ud800\\\\u0041"',
    # escapes mixed with raw non-ASCII, long strings
    '"é\\n✓\\t\U0001F600\\u00e9"', '"' + "x" * 5000 + '\\n"', '"' + "é" * 3000 + '\\"' + "\U0001F600" * 100 + '"',
    '"' + "a" * 300 + '"',
    # objects: duplicate keys (the last value wins, at the first key's place), escaped keys
    '{"a":1,"a":2}', '{"a":1,"b":2,"a":3}', '{"a":[1],"a":{"b":2}}', '{"\\u0061":1,"a":2}', '{"":0}',
    '{"k\\"ey":"v","é":"\U0001F600","\\ud800":1}',
    # a typical message
    '{"job":1,"from":"python","args":[1,2.5,"x",null,true],"meta":{"ts":1700000000.123,"tags":[]}}',
]


@pytest.mark.parametrize("text", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_edge_cases_decode_in_c_as_json_loads(text):
    check(text, in_c=True)


LEFT_TO_THE_STDLIB = [
    # integers beyond int64: the stdlib's int of any size
    "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1" + "0" * 30, "-" + "9" * 100,
    '[1,{"big":123456789012345678901234567890}]',
    # NaN and the infinities
    "NaN", "Infinity", "-Infinity", "[NaN]", '{"x":-Infinity}',
    # deeper than 64 levels
    "[" * 65 + "]" * 65, '{"a":' * 65 + "1" + "}" * 65, "[" * 200 + "]" * 200,
]


@pytest.mark.parametrize("text", LEFT_TO_THE_STDLIB, ids=range(len(LEFT_TO_THE_STDLIB)))
def test_what_only_the_stdlib_decodes_falls_back_with_the_same_result(text):
    check(text, in_c=False)


def test_64_levels_decode_in_c():
    check("[" * 64 + "]" * 64, in_c=True)
    check('{"a":' * 64 + "1" + "}" * 64, in_c=True)


INVALID = [
    "", " ", "nul", "nulll", "True", "tru", "[1,]", "[,1]", "[1 2]", "{,}", '{"a":1,}', '{"a" 1}', '{"a":}',
    "{1:2}", "{'a':1}", "[1", "{", '{"a":1', '"abc', '"\\', '"\\"', '"\\x"', '"\\u12"', '"\\u12G4"', '"\\ud800\\u12"',
    '"\\ud800\\uZZZZ"', '"\\ud800\\', '"a\x01b"', '"tab\there"', '"nl\nhere"', "01", "-01", "00", "1.", ".5", "-",
    "-a", "+1", "1e", "1e+", "1E-", "1.e5", "0x10", "1 2", "[] []", "{}x", "truex", "nullnull", "- 1", "1_000",
    "\x0c1", "1\x0c", "\u00a01", "[1]\x00", "nan", "inf", "-inf", "Infinityx", "-Inf", "[1,2", '{"a":[}', "\ufeff1",
]


@pytest.mark.parametrize("text", INVALID, ids=range(len(INVALID)))
def test_invalid_text_raises_what_json_loads_raises(text):
    data = text.encode("utf-8")
    assert c_only(data) is _FELL_BACK
    expected = outcome(json.loads, text)
    assert expected[0] == "error"
    assert outcome(c_loads, data) == expected


@pytest.mark.parametrize("data", [
    b'"\xff"', b'"\xc3"', b'"\xc3("', b'"\xc0\xaf"', b'"\xe0\x80\xaf"', b'"\xed\xa0\x80"', b'"\xf4\x90\x80\x80"',
    b'"\xf8\x88\x80\x80\x80"', b'"\xf0\x9f\x98"', b'["\\n\xff"]', b'{"\xe9":1}', b'"\\u0041\xed\xbf\xbf"',
], ids=range(12))
def test_invalid_utf8_raises_what_bytes_decode_raises(data):
    assert c_only(data) is _FELL_BACK
    with pytest.raises(UnicodeDecodeError) as got:
        c_loads(data)
    with pytest.raises(UnicodeDecodeError) as expected:
        data.decode("utf-8")
    assert str(got.value) == str(expected.value)


def test_bytes_like_inputs_and_the_fallbacks_errors_pass_through():
    assert c_loads(bytearray(b'{"a":[1]}')) == {"a": [1]}
    assert c_loads(memoryview(b'[1,2]')) == [1, 2]
    with pytest.raises(TypeError):
        c_loads("not bytes")

    def boom(text):
        raise KeyError(text)

    with pytest.raises(KeyError):
        lib.polyipc_python_json_loads(b"NaN", boom)
    assert lib.polyipc_python_json_loads(b"[1]", boom) == [1]  # taken in C: the fallback is not called


# ---- generated documents ---------------------------------------------------------------------
def _random_string(rng, lone_surrogates):
    pools = [
        lambda: chr(rng.randrange(0x20, 0x7F)),
        lambda: rng.choice('"\\/\b\f\n\r\t\x00\x1f\x7f'),
        lambda: chr(rng.randrange(0x80, 0x800)),
        lambda: chr(rng.choice([rng.randrange(0x800, 0xD800), rng.randrange(0xE000, 0x10000)])),
        lambda: chr(rng.randrange(0x10000, 0x110000)),
    ]
    if lone_surrogates:
        pools.append(lambda: chr(rng.randrange(0xD800, 0xE000)))
    return "".join(rng.choice(pools)() for _ in range(rng.choice([0, 1, 2, 5, 20, 300])))


def _random_float(rng):
    kind = rng.randrange(5)
    if kind == 0:  # any finite double, from its bits
        while True:
            f = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
            if math.isfinite(f):
                return f
    if kind == 1:  # subnormals
        return struct.unpack("<d", struct.pack("<Q", rng.randrange(1, 1 << 52) | (rng.getrandbits(1) << 63)))[0]
    if kind == 2:
        return rng.choice([0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                           -1.7976931348623157e308, 0.1, 1e16, 1e22, 1e23, 9007199254740992.0])
    if kind == 3:
        return rng.uniform(-1e6, 1e6)
    return float(rng.randrange(-10**6, 10**6))


def _random_int(rng):
    return rng.choice([
        rng.randrange(-100, 100), rng.randrange(-2**63, 2**63), rng.randrange(-10**30, 10**30),
        rng.choice([2**63 - 1, -2**63, 2**63, -2**63 - 1, 10**18, 10**19, -10**19]),
    ])


def _random_value(rng, depth, lone_surrogates):
    kinds = ["null", "bool", "int", "float", "str"] + (["list", "dict"] * 2 if depth < 6 else [])
    kind = rng.choice(kinds)
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return _random_int(rng)
    if kind == "float":
        return _random_float(rng)
    if kind == "str":
        return _random_string(rng, lone_surrogates)
    n = rng.choice([0, 1, 2, 3, 8])
    if kind == "list":
        return [_random_value(rng, depth + 1, lone_surrogates) for _ in range(n)]
    keys = [_random_string(rng, lone_surrogates) for _ in range(n)]
    if keys and rng.random() < 0.2:
        keys.append(keys[0])  # a duplicate key in the text
    pairs = [(json.dumps(k, ensure_ascii=True), _random_value(rng, depth + 1, lone_surrogates)) for k in keys]
    return pairs  # a dict as its (possibly duplicated) pairs: written below


def _write(value, rng, ensure_ascii, ws):
    """JSON text of a _random_value tree, with random whitespace between tokens and dict pairs
    written as generated (duplicates included)."""
    def w():
        return "".join(rng.choice(" \t\r\n") for _ in range(rng.randrange(3))) if ws else ""

    if isinstance(value, list) and value and all(isinstance(x, tuple) for x in value):  # a dict's pairs
        parts = []
        for key, v in value:
            if not ensure_ascii:
                key = json.dumps(json.loads(key), ensure_ascii=False)
            parts.append(w() + key + w() + ":" + w() + _write(v, rng, ensure_ascii, ws) + w())
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list):
        if not value:  # an empty list or dict
            opening, closing = rng.choice(["[]", "{}"])
            return opening + w() + closing
        return "[" + ",".join(w() + _write(v, rng, ensure_ascii, ws) + w() for v in value) + "]"
    return json.dumps(value, ensure_ascii=ensure_ascii)


@pytest.mark.parametrize("seed", range(8))
def test_generated_documents_decode_as_json_loads(seed):
    rng = random.Random(seed)
    in_c = fell_back = 0
    for i in range(400):
        ensure_ascii = rng.random() < 0.5
        ws = rng.random() < 0.3
        value = _random_value(rng, 0, lone_surrogates=ensure_ascii)
        text = _write(value, rng, ensure_ascii, ws)
        if ws:
            text = rng.choice(["", " ", "\n\t"]) + text + rng.choice(["", " ", "\r\n"])
        data = text.encode("utf-8")
        expected = json.loads(text)
        assert same(c_loads(data), expected), text
        own = c_only(data)
        if own is _FELL_BACK:
            fell_back += 1
        else:
            in_c += 1
            assert same(own, expected), text
    assert in_c > fell_back  # most documents are plain: the C decoder took them


@pytest.mark.parametrize("seed", range(4))
def test_mutated_documents_give_the_same_value_or_error(seed):
    """Cut, doubled or changed bytes: the C decoder never accepts what json.loads rejects, and never
    reads past the message (each text is a slice of a larger buffer)."""
    rng = random.Random(1000 + seed)
    alphabet = b' \t\n"\\/{}[],:-+.0123456789eEtrufalsnIiNy\x00\x1f\x7f\xc3\xa9\xed\xa0\x80\xf0\x9f\x98\x80u'
    for _ in range(1500):
        text = _write(_random_value(rng, 0, lone_surrogates=True), rng, True, rng.random() < 0.3)
        data = bytearray(text.encode("utf-8"))
        for _ in range(rng.randrange(1, 4)):
            op = rng.randrange(4)
            pos = rng.randrange(len(data) + 1)
            if op == 0 and data:
                del data[pos:pos + rng.randrange(1, 4)]
            elif op == 1:
                data[pos:pos] = bytes([rng.choice(alphabet)])
            elif op == 2 and pos < len(data):
                data[pos] = rng.choice(alphabet)
            else:
                del data[pos:]
        data = bytes(data)
        try:
            expected = ("ok", json.loads(data.decode("utf-8")))
        except Exception as e:
            expected = ("error", (type(e), str(e)))
        got = outcome(c_loads, memoryview(data + b'"]}x')[:len(data)])
        if expected[0] == "ok":
            assert got[0] == "ok" and same(got[1], expected[1]), data
        else:
            assert got == expected, data


# ---- through a queue -------------------------------------------------------------------------
def test_queue_get_and_get_many_decode_as_json_loads(qname):
    # the library refuses NaN / Infinity and lone surrogate escapes in a JSON queue (pairs are fine)
    texts = [t for t in EDGE_CASES + LEFT_TO_THE_STDLIB if len(t) < 4000 and "NaN" not in t and "Infinity" not in t]
    texts = [t for t in texts if not any(x in t.lower() for x in ("\\ud8", "\\udc", "\\udb", "\\udf"))]
    texts += ['"\\ud83d\\ude00"', '{"\\udbff\\udfff":"\\ud800\\udc00"}']
    with polyipc.Queue(qname(), capacity_bytes=1 << 20) as q:
        for t in texts:
            q.put_bytes(t)
        for t in texts:
            assert same(q.get(timeout=5), json.loads(t)), t
        for t in texts:
            q.put_bytes(t)
        got = []
        while len(got) < len(texts):
            got += q.get_many(max_count=7, timeout=5)
        for t, g in zip(texts, got):
            assert same(g, json.loads(t)), t
        for i in range(3):  # nonblocking and timeout paths too
            q.put({"n": i, "big": 2**70, "x": [1.5, None]})
        assert q.get_nowait() == {"n": 0, "big": 2**70, "x": [1.5, None]}
        assert q.get(block=False) == {"n": 1, "big": 2**70, "x": [1.5, None]}
        assert q.get(True, 1.0) == {"n": 2, "big": 2**70, "x": [1.5, None]}


def test_custom_loads_still_gets_the_text(qname):
    seen = []

    def loads(text):
        seen.append(text)
        return json.loads(text, parse_float=str)

    name = qname()
    with polyipc.Queue(name) as w, polyipc.Queue(name, create=False, loads=loads) as r:
        w.put({"f": 1.25, "i": 3})
        assert r.get(timeout=5) == {"f": "1.25", "i": 3}
        assert seen == ['{"f":1.25,"i":3}']
        w.put([0.5])
        assert r.get_many(timeout=5) == [["0.5"]]
