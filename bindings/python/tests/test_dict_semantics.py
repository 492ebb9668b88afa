"""polyipc.Dict in one process: the MutableMapping, compare_and_set and its atomic
helpers, raw JSON text, unicode keys, and bad input (the exact exception, and the
dict left as it was)."""

import collections.abc
import json
import pickle
import threading

import pytest

import polyipc


def test_set_get_replace_delete_len_keys_items(qname):
    with polyipc.Dict(qname()) as d:
        assert len(d) == 0 and d.keys() == [] and d.items() == [] and d.copy() == {}
        d["a"] = {"x": [1, 2]}
        d["b"] = 2
        d[""] = "empty key"
        d["n"] = None
        assert d["a"] == {"x": [1, 2]} and d["b"] == 2 and d[""] == "empty key" and d["n"] is None
        assert len(d) == 4
        d["a"] = 3  # replacing moves the key to the end of the order
        assert d["a"] == 3 and len(d) == 4
        assert d.keys() == ["b", "", "n", "a"]
        assert list(d) == ["b", "", "n", "a"]
        assert d.items() == [("b", 2), ("", "empty key"), ("n", None), ("a", 3)]
        assert d.values() == [2, "empty key", None, 3]
        assert d.copy() == {"b": 2, "": "empty key", "n": None, "a": 3}
        del d["b"]
        with pytest.raises(KeyError) as e:
            del d["b"]
        assert e.value.args == ("b",)
        with pytest.raises(KeyError):
            d["b"]
        assert "b" not in d and "n" in d  # a null value is present
        assert d.get("b") is None and d.get("b", 7) == 7 and d.get("n", 7) is None
        assert len(d) == 3
        d.clear()
        assert len(d) == 0 and d.copy() == {}
        d["after-clear"] = True
        assert d["after-clear"] is True


def test_values_round_trip_as_json(qname):
    with polyipc.Dict(qname()) as d:
        values = {"int": -5, "big": 1 << 80, "float": 2.5, "str": "tab\t\"q\"", "bool": False, "null": None,
                  "list": [1, [2, [3]]], "obj": {"k": {"deep": [None, True]}}, "nested": [{"a": 1}]}
        for k, v in values.items():
            d[k] = v
        for k, v in values.items():
            assert d[k] == v
        assert d.copy() == values
        d["tuple"] = (1, 2)
        assert d["tuple"] == [1, 2]  # what json.loads gives back
        d["intkeys"] = {1: "one"}
        assert d["intkeys"] == {"1": "one"}
        assert d.get_json("list") == "[1,[2,[3]]]"  # compact, as the binding's codec writes it


def test_mapping_mixins_and_a_second_handle(qname):
    name = qname()
    with polyipc.Dict(name) as d, polyipc.Dict(name, create=False) as other:
        assert isinstance(d, collections.abc.MutableMapping)
        d.update({"a": 1, "b": [2]}, c="three")
        assert other.copy() == {"a": 1, "b": [2], "c": "three"}
        assert d == {"a": 1, "b": [2], "c": "three"} and d == other and d != {"a": 1}
        assert dict(other) == d.copy()
        assert sorted(k for k in other) == ["a", "b", "c"]
        del other["a"]
        assert "a" not in d
        other["z"] = {"from": "other"}
        assert d["z"] == {"from": "other"}


def test_unicode_keys_and_values_outside_the_bmp(qname):
    with polyipc.Dict(qname()) as d:
        keys = ["🔑", "κλειδί", "键", "a🦄b", "e\u0301", "nul-free \u0001 control"]
        for i, k in enumerate(keys):
            d[k] = {"i": i, "emoji": "🦄😀", "k": k}
        assert d.keys() == keys
        for i, k in enumerate(keys):
            assert d[k] == {"i": i, "emoji": "🦄😀", "k": k}
            assert k in d
        assert d.get_json("🔑") == '{"i":0,"emoji":"🦄😀","k":"🔑"}'  # real UTF-8, not \u escapes
        d.set_json("💾", '"\U0001F4BE"'.encode("utf-8"))  # bytes: UTF-8 as is
        assert d["💾"] == "💾"
        d.set_json("\\u-escaped", '"\\ud83d\\ude00"')  # a surrogate pair escaped in the JSON text
        assert d["\\u-escaped"] == "😀"
        assert d.copy()["a🦄b"]["i"] == 3
        assert d.pop("🔑")["k"] == "🔑" and "🔑" not in d


def test_compare_and_set_uses_json_equality(qname):
    with polyipc.Dict(qname()) as d:
        assert d.compare_and_set("n", polyipc.ABSENT, 1) is True  # only if absent
        assert d.compare_and_set("n", polyipc.ABSENT, 100) is False
        assert d["n"] == 1
        assert d.compare_and_set("n", 2, 5) is False
        assert d.compare_and_set("n", 1.0, 2) is True  # 1.0 == 1 as JSON
        assert d["n"] == 2
        d.set_json("o", '{"a": 1, "b": [true, null]}')
        assert d.compare_and_set("o", {"b": [True, None], "a": 1}, {}) is True  # key order aside
        assert d["o"] == {}
        assert d.compare_and_set("o", [], polyipc.ABSENT) is False  # desired ABSENT deletes, on a match
        assert d.compare_and_set("o", {}, polyipc.ABSENT) is True
        assert "o" not in d
        assert d.compare_and_set("o", None, 1) is False  # null is a value: an absent key never matches it
        assert "o" not in d
        d["z"] = None
        assert d.compare_and_set("z", None, 0) is True and d["z"] == 0
        assert d.compare_and_set("missing", polyipc.ABSENT, polyipc.ABSENT) is True  # absent stays absent


def test_compare_and_set_json_takes_texts_and_none_for_absent(qname):
    with polyipc.Dict(qname()) as d:
        assert d.compare_and_set_json("k", None, '{"v": 1}') is True
        assert d.compare_and_set_json("k", None, "2") is False
        assert d.compare_and_set_json("k", '{ "v" : 1.0 }', b"[1, 2]") is True
        assert d.get_json("k") == "[1, 2]"  # the text as given
        assert d.compare_and_set_json("k", "[1,2]", None) is True
        assert d.get_json("k") is None and d.get_json("k", "dflt") == "dflt"


def test_setdefault_puts_only_if_absent(qname):
    with polyipc.Dict(qname()) as d:
        assert d.setdefault("k", [1]) == [1]
        assert d.setdefault("k", [2]) == [1]
        assert d["k"] == [1]
        assert d.setdefault("none") is None and "none" in d and d["none"] is None
        assert d.setdefault("none", 5) is None


def test_pop_and_popitem(qname):
    with polyipc.Dict(qname()) as d:
        d.update(a=1, b=2, c=3)
        assert d.pop("a") == 1 and "a" not in d
        assert d.pop("a", "gone") == "gone"
        with pytest.raises(KeyError):
            d.pop("a")
        assert d.popitem() == ("c", 3)  # the key set last, as dict.popitem
        assert d.popitem() == ("b", 2)
        with pytest.raises(KeyError):
            d.popitem()


def test_context_manager_close_and_use_after_close(qname):
    name = qname()
    with polyipc.Dict(name) as d:
        d["k"] = 1
        assert not d.closed and d.name == name
    assert d.closed
    d.close()  # idempotent
    for call in (lambda: d["k"], lambda: d.__setitem__("k", 2), lambda: d.__delitem__("k"), lambda: "k" in d,
                 lambda: len(d), lambda: list(d), d.keys, d.items, d.clear, d.stat, lambda: d.get("k"),
                 lambda: d.compare_and_set("k", 1, 2), lambda: d.setdefault("k", 0), lambda: d.set_json("k", "1")):
        with pytest.raises(ValueError, match="Dict .* is closed"):
            call()
    assert "closed" in repr(d)
    with polyipc.Dict(name, create=False) as again:  # the dict itself is still there
        assert again["k"] == 1


def test_open_options_stat_and_unlink(qname):
    name = qname()
    with polyipc.Dict(name, exclusive=True, capacity_bytes=64 << 10, max_items=10) as d:
        d["k"] = "v"
        info = d.stat()
        assert info["name"] == name
        assert json.dumps(info)  # plain JSON types
        assert polyipc.stat(name)["kind"] == info["kind"]
        with pytest.raises(polyipc.Exists):
            polyipc.Dict(name, exclusive=True)
        d.unlink()
        d["still"] = "works"  # open handles keep the dict
        assert d["still"] == "works"
    with pytest.raises(polyipc.NotFound):
        polyipc.Dict(name, create=False)
    with pytest.raises(FileNotFoundError):  # polyipc.NotFound is also a FileNotFoundError
        polyipc.Dict(name, create=False)


def test_exported_names_and_pickling(qname):
    assert "Dict" in polyipc.__all__ and "ABSENT" in polyipc.__all__
    assert repr(polyipc.ABSENT) == "polyipc.ABSENT" and not polyipc.ABSENT
    assert pickle.loads(pickle.dumps(polyipc.ABSENT)) is polyipc.ABSENT
    name = qname()
    with polyipc.Dict(name) as d:
        d["k"] = [1]
        with pickle.loads(pickle.dumps(d)) as copy:  # reopens by name
            assert copy is not d and copy["k"] == [1]


# ---- bad input -------------------------------------------------------------------------------

def test_keys_must_be_str(qname):
    with polyipc.Dict(qname()) as d:
        d["k"] = 1
        for bad in (None, 1, b"k", ("k",)):
            for call in (lambda: d[bad], lambda: d.__setitem__(bad, 1), lambda: d.__delitem__(bad),
                         lambda: bad in d, lambda: d.get(bad), lambda: d.compare_and_set(bad, 1, 2),
                         lambda: d.setdefault(bad, 1), lambda: d.pop(bad, None), lambda: d.set_json(bad, "1"),
                         lambda: d.get_json(bad)):
                with pytest.raises(TypeError, match="keys are str"):
                    call()
        with pytest.raises(TypeError):
            polyipc.Dict(None)
        assert d.copy() == {"k": 1}


def test_bad_keys_are_invalid_argument(qname):
    with polyipc.Dict(qname()) as d:
        d["k" * 4096] = "longest"  # 4096 bytes is the limit
        for bad in ("a\x00b", "k" * 4097, "é" * 2049):  # a NUL; 4097 bytes; 4098 UTF-8 bytes
            with pytest.raises(polyipc.InvalidArgument) as e:
                d[bad] = 1
            assert isinstance(e.value, ValueError)
            with pytest.raises(polyipc.InvalidArgument):
                d.get(bad)
        with pytest.raises(UnicodeEncodeError):  # a lone surrogate has no UTF-8
            d["\ud800"] = 1
        assert d.copy() == {"k" * 4096: "longest"}


def test_values_json_cannot_carry_store_nothing(qname):
    with polyipc.Dict(qname()) as d:
        d["k"] = 1
        with pytest.raises(ValueError):
            d["k"] = float("nan")
        with pytest.raises(TypeError):
            d["k"] = object()
        with pytest.raises(TypeError):
            d["k"] = {1, 2}
        with pytest.raises(TypeError):
            d.compare_and_set("k", 1, object())
        assert d.copy() == {"k": 1}


def test_malformed_json_text_is_invalid_json(qname):
    with polyipc.Dict(qname()) as d:
        d["k"] = 1
        for bad in ("{bad", "[1,", "1 2", "", "   ", "'single'", "nul\x00l", b"\xff"):
            with pytest.raises(polyipc.InvalidJSON) as e:
                d.set_json("k", bad)
            assert isinstance(e.value, ValueError)
        for bad in (None, 1, ["1"]):
            with pytest.raises(TypeError):
                d.set_json("k", bad)
        with pytest.raises(polyipc.InvalidJSON):
            d.compare_and_set_json("k", "{bad", "3")
        with pytest.raises(polyipc.InvalidJSON):
            d.compare_and_set_json("k", "1", "[1,")
        with pytest.raises(polyipc.InvalidJSON):
            d.compare_and_set_json("k", "", "3")  # an empty text is not "absent": that is None
        assert d.copy() == {"k": 1}


def test_full_by_max_items_and_too_large(qname):
    with polyipc.Dict(qname(), capacity_bytes=1024, max_items=3) as d:
        d.update(a=1, b=2, c=3)
        with pytest.raises(polyipc.Full) as e:
            d["d"] = 4
        assert "max_items" in str(e.value)
        with pytest.raises(polyipc.Full):
            d.setdefault("d", 4)
        with pytest.raises(polyipc.Full):
            d.compare_and_set("d", polyipc.ABSENT, 4)
        d["c"] = 33  # replacing is not adding
        big = "x" * 700
        d["a"] = big
        with pytest.raises(polyipc.Full) as e:  # no room left for a second one
            d["b"] = big
        assert "no room" in str(e.value)
        with pytest.raises(polyipc.TooLarge) as e:  # can never fit
            d["b"] = "x" * 2000
        assert isinstance(e.value, ValueError)
        assert d.copy() == {"b": 2, "c": 33, "a": big}


def test_another_kind_under_the_name_is_incompatible(qname):
    name = qname()
    with polyipc.Queue(name):
        with pytest.raises(polyipc.Incompatible):
            polyipc.Dict(name)
        with pytest.raises(polyipc.Incompatible):
            polyipc.Dict(name, create=False)
    other = qname()
    with polyipc.Dict(other):
        with pytest.raises(polyipc.Incompatible):
            polyipc.Queue(other)


def test_one_handle_shared_by_threads(qname):
    with polyipc.Dict(qname()) as d:
        def work():
            for _ in range(300):
                while True:
                    old = d.setdefault("n", 0)
                    if d.compare_and_set("n", old, old + 1):
                        break
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
            assert not t.is_alive()
        assert d["n"] == 1200
