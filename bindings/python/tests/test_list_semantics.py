"""polyipc.List in one process: the MutableSequence, negative indexes, insert and pop
at either end and in the middle, raw JSON text, unicode values, and bad input (the
exact exception, and the list left as it was)."""

import collections.abc
import json
import pickle
import threading

import pytest

import polyipc


def test_append_get_set_delete_len_snapshot(qname):
    with polyipc.List(qname()) as lst:
        assert len(lst) == 0 and lst.snapshot() == [] and list(lst) == [] and lst.snapshot_json() == "[]"
        lst.append({"x": [1, 2]})
        lst.append(2)
        lst.append(None)
        lst.append("")
        assert len(lst) == 4
        assert lst[0] == {"x": [1, 2]} and lst[1] == 2 and lst[2] is None and lst[3] == ""
        assert lst[-1] == "" and lst[-4] == {"x": [1, 2]} and lst[-2] is None
        lst[1] = "two"
        lst[-1] = [3]
        assert lst.snapshot() == [{"x": [1, 2]}, "two", None, [3]]
        assert lst.copy() == lst.snapshot() and lst == [{"x": [1, 2]}, "two", None, [3]]
        del lst[0]
        del lst[-1]
        assert lst.snapshot() == ["two", None] and len(lst) == 2
        lst.clear()
        assert len(lst) == 0 and lst.snapshot() == []
        lst.append("after-clear")
        assert lst[0] == "after-clear"


def test_insert_at_front_middle_end_and_beyond(qname):
    with polyipc.List(qname()) as lst:
        lst.insert(0, "b")       # into an empty list
        lst.insert(0, "a")       # front
        lst.insert(2, "d")       # end (index == len)
        lst.insert(2, "c")       # middle
        lst.insert(-1, "c2")     # before the last, as list.insert
        lst.insert(100, "z")     # past the end: appends
        lst.insert(-100, "0")    # before the start: prepends
        want = ["b"]  # a Python list, told the same
        for i, v in ((0, "a"), (2, "d"), (2, "c"), (-1, "c2"), (100, "z"), (-100, "0")):
            want.insert(i, v)
        assert lst.snapshot() == want == ["0", "a", "b", "c", "c2", "d", "z"]
        lst.insert(1 << 80, "huge")  # any int, clamped (where a Python list raises OverflowError)
        lst.insert(-(1 << 80), "tiny")
        want = ["tiny"] + want + ["huge"]
        assert lst.snapshot() == want


def test_pop_at_front_middle_end(qname):
    with polyipc.List(qname()) as lst:
        lst.extend(range(7))
        assert lst.pop() == 6            # default: the last
        assert lst.pop(0) == 0           # front
        assert lst.pop(2) == 3           # middle
        assert lst.pop(-1) == 5          # end, by a negative index
        assert lst.pop(-2) == 2          # middle, from the end
        assert lst.snapshot() == [1, 4]
        assert lst.pop_json(0) == "1" and lst.pop_json() == "4"
        with pytest.raises(IndexError, match="empty"):
            lst.pop()
        with pytest.raises(IndexError):
            lst.pop(0)
        with pytest.raises(IndexError):
            lst.pop_json()
        with pytest.raises(IndexError):
            del lst[0]
        assert len(lst) == 0


def test_negative_indexes_and_out_of_range(qname):
    with polyipc.List(qname()) as lst:
        lst.extend(["a", "b", "c"])
        assert [lst[i] for i in range(-3, 3)] == ["a", "b", "c", "a", "b", "c"]
        for bad in (3, -4, 100, -100, 1 << 63, -(1 << 63) - 1, 1 << 100):
            with pytest.raises(IndexError):
                lst[bad]
            with pytest.raises(IndexError):
                lst[bad] = "x"
            with pytest.raises(IndexError):
                del lst[bad]
            with pytest.raises(IndexError):
                lst.pop(bad)
            with pytest.raises(IndexError):
                lst.get_json(bad)
            with pytest.raises(IndexError):
                lst.set_json(bad, "1")
        with pytest.raises(polyipc.OutOfRange, match="out of range"):  # the library's status, an IndexError
            lst[3]
        assert lst[True] == "b"  # an index is anything operator.index takes
        for bad in ("0", 1.0, None, [0]):
            with pytest.raises(TypeError):
                lst[bad]
            with pytest.raises(TypeError):
                lst.insert(bad, 1)
            with pytest.raises(TypeError):
                lst.pop(bad)
        assert lst.snapshot() == ["a", "b", "c"]


def test_sequence_idioms_read_one_snapshot(qname):
    name = qname()
    with polyipc.List(name) as lst, polyipc.List(name, create=False) as other:
        assert isinstance(lst, collections.abc.MutableSequence)
        lst.extend([1, "two", [3], {"four": 4}, "two"])
        assert list(other) == [1, "two", [3], {"four": 4}, "two"]
        assert list(reversed(other)) == ["two", {"four": 4}, [3], "two", 1]
        assert "two" in other and [3] in other and 5 not in other
        assert other.index("two") == 1 and other.index("two", 2) == 4 and other.index("two", 0, 2) == 1
        with pytest.raises(ValueError):
            other.index("missing")
        with pytest.raises(ValueError):
            other.index([3], 3, 5)
        assert other.count("two") == 2 and other.count(9) == 0
        assert other[1:3] == ["two", [3]] and other[::-1] == list(reversed(other)) and other[:] == list(other)
        assert lst == other and lst != [1] and lst != "not a list"
        lst.remove("two")  # the first one
        assert other.snapshot() == [1, [3], {"four": 4}, "two"]
        with pytest.raises(ValueError):
            lst.remove("missing")
        other += [5, 6]
        assert lst.snapshot() == [1, [3], {"four": 4}, "two", 5, 6]
        lst.reverse()
        assert other.snapshot() == [6, 5, "two", {"four": 4}, [3], 1]
        for bad in (lambda: lst.__setitem__(slice(0, 1), [1]), lambda: lst.__delitem__(slice(0, 1))):
            with pytest.raises(TypeError, match="slice"):
                bad()
        with pytest.raises(TypeError):
            hash(lst)


def test_values_round_trip_as_json(qname):
    with polyipc.List(qname()) as lst:
        values = [-5, 1 << 80, 2.5, "tab\t\"q\"", False, True, None, [1, [2, [3]]], {"k": {"deep": [None, True]}},
                  -(1 << 63), (1 << 63) - 1]
        lst.extend(values)
        assert lst.snapshot() == values
        assert [lst[i] for i in range(len(values))] == values
        lst.append((1, 2))
        assert lst[-1] == [1, 2]  # what json.loads gives back
        lst.append({1: "one"})
        assert lst[-1] == {"1": "one"}
        assert lst.get_json(7) == "[1,[2,[3]]]"  # compact, as the binding's codec writes it


def test_unicode_values_outside_the_bmp(qname):
    with polyipc.List(qname()) as lst:
        values = ["🦄", "𝄞 clef", "\U0010FFFF", "e\u0301", "漢字かな한글", {"🔑": "😀🎉"}]
        for v in values:
            lst.append(v)
        assert lst.snapshot() == values
        assert lst[0] == "🦄" and lst[-1] == {"🔑": "😀🎉"}
        assert lst.get_json(0) == '"🦄"'  # real UTF-8, not \u escapes
        lst.append_json('"\U0001F4BE"'.encode("utf-8"))  # bytes: UTF-8 as is
        assert lst[-1] == "💾"
        lst.insert_json(0, '"\\ud83d\\ude00"')  # a surrogate pair escaped in the JSON text
        assert lst[0] == "😀"
        lst.set_json(1, '"🦄🦄"')
        assert lst.pop(1) == "🦄🦄"
        assert json.loads(lst.snapshot_json())[1:] == values[1:] + ["💾"]
        with pytest.raises(UnicodeEncodeError):  # a lone surrogate has no UTF-8
            lst.append("\ud800")
        assert len(lst) == len(values) + 1


def test_raw_json_text_is_stored_as_given(qname):
    with polyipc.List(qname()) as lst:
        lst.append_json('{"b": 1,  "a": [true, null]}')
        lst.insert_json(0, b"  7 ")
        lst.append_json(bytearray(b'"x"'))
        assert lst.get_json(1) == '{"b": 1,  "a": [true, null]}'
        assert lst.snapshot() == [7, {"b": 1, "a": [True, None]}, "x"]
        lst.set_json(-1, "null")
        assert lst[-1] is None and lst.get_json(-1) == "null"
        assert json.loads(lst.snapshot_json()) == [7, {"b": 1, "a": [True, None]}, None]


def test_context_manager_close_and_use_after_close(qname):
    name = qname()
    with polyipc.List(name) as lst:
        lst.append(1)
        assert not lst.closed and lst.name == name
    assert lst.closed
    lst.close()  # idempotent
    for call in (lambda: lst[0], lambda: lst.__setitem__(0, 2), lambda: lst.__delitem__(0), lambda: 1 in lst,
                 lambda: len(lst), lambda: list(lst), lst.snapshot, lst.snapshot_json, lst.clear, lst.stat,
                 lambda: lst.append(1), lambda: lst.insert(0, 1), lst.pop, lambda: lst.append_json("1"),
                 lambda: lst.get_json(0), lambda: lst.extend([1]), lambda: lst.index(1)):
        with pytest.raises(ValueError, match="List .* is closed"):
            call()
    assert "closed" in repr(lst)
    with polyipc.List(name, create=False) as again:  # the list itself is still there
        assert again.snapshot() == [1]


def test_open_options_stat_and_unlink(qname):
    name = qname()
    with polyipc.List(name, exclusive=True, capacity_bytes=64 << 10, max_items=10) as lst:
        lst.append("v")
        info = lst.stat()
        assert info["name"] == name and info["kind"] == "list" and info["length"] == 1
        assert info["max_items"] == 10 and info["capacity_bytes"] == 64 << 10
        assert polyipc.stat(name)["kind"] == "list"
        with pytest.raises(polyipc.Exists):
            polyipc.List(name, exclusive=True)
        lst.unlink()
        lst.append("still works")  # open handles keep the list
        assert lst[-1] == "still works"
    with pytest.raises(polyipc.NotFound):
        polyipc.List(name, create=False)
    with pytest.raises(FileNotFoundError):  # polyipc.NotFound is also a FileNotFoundError
        polyipc.List(name, create=False)


def test_exported_and_pickled_by_name(qname):
    assert "List" in polyipc.__all__ and polyipc.List.__module__ == "polyipc._list"
    name = qname()
    with polyipc.List(name) as lst:
        lst.append([1])
        with pickle.loads(pickle.dumps(lst)) as copy:  # reopens by name
            assert copy is not lst and copy[0] == [1]


# ---- bad input -------------------------------------------------------------------------------

def test_values_json_cannot_carry_store_nothing(qname):
    with polyipc.List(qname()) as lst:
        lst.append(1)
        for bad, exc in ((float("nan"), ValueError), (object(), TypeError), ({1, 2}, TypeError)):
            for call in (lambda: lst.append(bad), lambda: lst.insert(0, bad), lambda: lst.__setitem__(0, bad)):
                with pytest.raises(exc):
                    call()
        with pytest.raises(TypeError):
            lst.extend([2, object()])  # encoded first: nothing appended
        with pytest.raises(TypeError):
            polyipc.List(None)
        assert lst.snapshot() == [1]


def test_malformed_json_text_is_invalid_json(qname):
    with polyipc.List(qname()) as lst:
        lst.append(1)
        for bad in ("{bad", "[1,", "1 2", "", "   ", "'single'", "nul\x00l", b"\xff"):
            for call in (lambda: lst.append_json(bad), lambda: lst.insert_json(0, bad),
                         lambda: lst.set_json(0, bad)):
                with pytest.raises(polyipc.InvalidJSON) as e:
                    call()
                assert isinstance(e.value, ValueError)
        for bad in (None, 1, ["1"]):  # None is not a JSON text ("null" is)
            for call in (lambda: lst.append_json(bad), lambda: lst.insert_json(0, bad),
                         lambda: lst.set_json(0, bad)):
                with pytest.raises(TypeError):
                    call()
        assert lst.snapshot() == [1]


def test_full_by_max_items_and_by_capacity_and_too_large(qname):
    with polyipc.List(qname(), capacity_bytes=1024, max_items=3) as lst:
        lst.extend([1, 2, 3])
        for call in (lambda: lst.append(4), lambda: lst.insert(0, 4), lambda: lst.append_json("4")):
            with pytest.raises(polyipc.Full) as e:
                call()
            assert "max_items" in str(e.value)
        lst[0] = "replaced"  # setting is not adding
        big = "x" * 700
        lst[1] = big
        with pytest.raises(polyipc.Full) as e:  # no room left for a second one
            lst[2] = big
        assert "no room" in str(e.value)
        with pytest.raises(polyipc.TooLarge) as e:  # can never fit
            lst[2] = "x" * 2000
        assert isinstance(e.value, ValueError)
        assert lst.snapshot() == ["replaced", big, 3]
        assert lst.pop() == 3
        lst.append(4)  # room again
        assert lst.snapshot() == ["replaced", big, 4]


def test_another_kind_under_the_name_is_incompatible(qname):
    name = qname()
    with polyipc.Dict(name):
        with pytest.raises(polyipc.Incompatible):
            polyipc.List(name)
        with pytest.raises(polyipc.Incompatible):
            polyipc.List(name, create=False)
    other = qname()
    with polyipc.List(other):
        with pytest.raises(polyipc.Incompatible):
            polyipc.Dict(other)
        with pytest.raises(polyipc.Incompatible):
            polyipc.Queue(other)


def test_one_handle_shared_by_threads(qname):
    with polyipc.List(qname()) as lst:
        def work(t):
            for i in range(300):
                lst.append([t, i])
        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
            assert not t.is_alive()
        values = lst.snapshot()
        assert len(values) == 1200
        for t in range(4):
            assert [i for tt, i in values if tt == t] == list(range(300))
