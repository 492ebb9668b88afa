"""Bad input and misuse: clear errors that are also the builtin exception a
Python programmer catches, and nothing lost or crashed."""

import builtins
import os
import queue
import threading

import pytest

import polyipc
from polyipc import _native


@pytest.mark.parametrize("text", ['{"a":', "{bad}", "[1,2", "", "nul", '{"a":1}}', "\xff"])
def test_malformed_json_raises_invalid_json_and_leaves_the_queue_as_it_was(qname, text):
    with polyipc.Queue(qname()) as q:
        q.put({"before": True})
        with pytest.raises(polyipc.InvalidJSON) as info:
            q.put_bytes(text.encode("utf-8", "surrogateescape") if text != "\xff" else b"\xff")
        err = info.value
        assert isinstance(err, ValueError) and isinstance(err, polyipc.PolyipcError)
        assert err.status == _native.lib.POLYIPC_ERR_INVALID_JSON
        assert err.status_name == "POLYIPC_ERR_INVALID_JSON"
        assert "invalid JSON" in str(err) and q.name in str(err)
        assert q.qsize() == 1 and q.get() == {"before": True}


def test_objects_json_cannot_encode_are_value_errors_before_reaching_the_queue(qname):
    with polyipc.Queue(qname()) as q:
        with pytest.raises(ValueError):
            q.put(float("nan"))
        with pytest.raises(TypeError):
            q.put({1, 2})
        assert q.qsize() == 0


@pytest.mark.parametrize("name", ["", "a/b", "..", "x" * 201, "sp ace", "ünï"])
def test_bad_names_raise_invalid_argument(name):
    with pytest.raises(polyipc.InvalidArgument) as info:
        polyipc.Queue(name)
    assert isinstance(info.value, ValueError)
    assert "name" in str(info.value)


def test_non_str_name_is_type_error():
    with pytest.raises(TypeError):
        polyipc.Queue(b"bytes-name")


def test_open_missing_raises_not_found_file_not_found_error(qname):
    name = qname()
    with pytest.raises(FileNotFoundError) as info:
        polyipc.Queue(name, create=False)
    assert isinstance(info.value, polyipc.NotFound) and name in str(info.value)
    with pytest.raises(polyipc.NotFound):
        polyipc.JoinableQueue(name, create=False, order="fifo")


def test_exclusive_create_of_existing_raises_exists_file_exists_error(qname):
    name = qname()
    with polyipc.Queue(name):
        with pytest.raises(FileExistsError) as info:
            polyipc.Queue(name, exclusive=True)
        assert isinstance(info.value, polyipc.Exists)


def test_mismatched_options_raise_incompatible(qname):
    name = qname()
    with polyipc.Queue(name, order="fifo"):
        with pytest.raises(polyipc.Incompatible, match="LIFO"):
            polyipc.Queue(name, order="lifo")
        with pytest.raises(polyipc.Incompatible):
            polyipc.Queue(name, format="bytes")
        with pytest.raises(polyipc.Incompatible, match="not joinable"):
            polyipc.JoinableQueue(name, create=False)


def test_bad_option_values_are_value_errors(qname):
    with pytest.raises(ValueError, match="order"):
        polyipc.Queue(qname(), order="random")
    with pytest.raises(ValueError, match="format"):
        polyipc.Queue(qname(), format="xml")


def test_use_after_close_is_value_error_naming_the_queue_and_close_is_idempotent(qname):
    name = qname()
    q = polyipc.JoinableQueue(name)
    q.put(1)
    q.close()
    q.close()
    assert q.closed
    for call in (lambda: q.put(2), q.get, q.get_nowait, q.qsize, q.empty, q.full, q.task_done, q.join,
                 q.close_writes, q.stat, lambda: q.put_bytes(b"1"), q.get_bytes):
        with pytest.raises(ValueError, match=f"JoinableQueue '{name}' is closed"):
            call()
    assert "closed" in repr(q)
    with polyipc.JoinableQueue(name) as again:  # the queue itself is still there, with its item
        assert again.get() == 1
        again.task_done()


def test_close_while_other_threads_call_never_crashes(qname):
    name = qname()
    for _ in range(20):
        q = polyipc.Queue(name, format="bytes")
        errors, stop = [], threading.Event()

        def hammer():
            while not stop.is_set():
                try:
                    q.put_nowait(b"x")
                    q.get_nowait()
                    q.qsize()
                except (ValueError, queue.Empty, queue.Full) as e:
                    if isinstance(e, ValueError):
                        errors.append(str(e))
                        return

        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for t in threads:
            t.start()
        q.close()
        stop.set()
        for t in threads:
            t.join(10)
            assert not t.is_alive()
        assert all("is closed" in e for e in errors)


def test_exception_hierarchy_matches_builtins():
    pairs = {
        polyipc.TimeoutError: builtins.TimeoutError, polyipc.Empty: queue.Empty, polyipc.Full: queue.Full,
        polyipc.Closed: EOFError, polyipc.NotFound: FileNotFoundError, polyipc.Exists: FileExistsError,
        polyipc.InvalidArgument: ValueError, polyipc.InvalidJSON: ValueError, polyipc.TooLarge: ValueError,
        polyipc.PermissionDenied: PermissionError, polyipc.NoMemory: MemoryError, polyipc.SystemFailure: OSError,
        polyipc.OutOfRange: IndexError,
    }
    for ours, builtin in pairs.items():
        assert issubclass(ours, polyipc.PolyipcError) and issubclass(ours, builtin), ours
    statuses = {cls.status for cls in pairs} | {polyipc.OwnerDead.status, polyipc.Incompatible.status,
                                               polyipc.NotOwner.status, polyipc.Broken.status}
    assert statuses == set(range(1, 18))
    err = polyipc.NotFound("object 'x': not found")
    assert str(err) == "object 'x': not found" and err.errno == 2


def test_version_check_passes_for_the_built_library_and_fails_clearly_otherwise():
    assert polyipc.BINDING_VERSION_NUMBER == polyipc.LIBRARY_VERSION_NUMBER == _native.lib.polyipc_version_number()

    class Mismatched:
        POLYIPC_BINDING_VERSION_NUMBER = _native.lib.POLYIPC_BINDING_VERSION_NUMBER

        @staticmethod
        def polyipc_version_number():
            return 9_000_000

        @staticmethod
        def polyipc_version():
            return "9.0.0"

    with pytest.raises(ImportError, match="9000000 .9.0.0. but this Python binding was generated for"):
        _native.check_version(Mismatched)


def test_native_errors_without_registration_fall_back_to_native_error(qname):
    # The extension works without the package too: polyipc_native.Error(status, message).
    lib = _native.lib
    lib.polyipc_python_register_errors({})
    try:
        with pytest.raises(lib.Error) as info:
            lib.polyipc_unlink(qname())
        assert info.value.args[0] == lib.POLYIPC_ERR_NOT_FOUND and "not found" in info.value.args[1]
    finally:
        from polyipc._errors import BY_STATUS

        lib.polyipc_python_register_errors(dict(BY_STATUS))
    with pytest.raises(TypeError):
        lib.polyipc_python_register_errors([])


def test_the_loaded_library_is_the_freshly_built_one():
    expected = os.environ.get("POLYIPC_LIBRARY_DIR")
    if not expected:
        pytest.skip("POLYIPC_LIBRARY_DIR not set (ctest sets it)")
    with open("/proc/self/maps") as maps:
        loaded = {line.split()[-1] for line in maps if "libpolyipc.so" in line}
    assert {os.path.realpath(os.path.dirname(p)) for p in loaded} == {os.path.realpath(expected)}
