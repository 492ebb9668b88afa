"""SharedMemory, Value and Array: multiprocessing's behaviour in one process
(BufferError instead of a crash when views outlive close, IndexError, type
codes, the lock), then across real processes (bytes written by one process
and read by another, a Value incremented by several processes ends exact, a
holder of a Value's lock killed with SIGKILL). Waits are bounded; nothing
sleeps to synchronise."""

import ctypes
import gc
import pickle
import signal
import textwrap
import threading
import warnings

import pytest

import polyipc
from helpers import python_child, read_line


def child(code):
    return python_child(textwrap.dedent(code))


def finish(proc):
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out


def pattern(size, seed):
    return bytes((i * 131 + seed) % 256 for i in range(size))


@pytest.fixture
def unlink_after():
    names = []
    yield names.append
    for name in names:
        try:
            polyipc.unlink(name)
        except polyipc.NotFound:
            pass


# ---- SharedMemory ----------------------------------------------------------------------

def test_shared_memory_create_attach_and_errors(qname, unlink_after):
    name = qname("shm")
    shm = polyipc.SharedMemory(name, create=True, size=1000)
    try:
        assert (shm.name, shm.size, len(shm.buf)) == (name, 1000, 1000)
        assert shm.buf.format == "B" and not shm.buf.readonly
        assert bytes(shm.buf) == bytes(1000)  # starts zeroed
        shm.buf[10:15] = b"hello"
        shm.buf[0] = 255
        other = polyipc.SharedMemory(name)  # attach, whatever the size
        assert other.size == 1000
        assert bytes(other.buf[10:15]) == b"hello" and other.buf[0] == 255
        other.close()
        again = pickle.loads(pickle.dumps(shm))
        assert bytes(again.buf[10:15]) == b"hello"
        again.close()
        with pytest.raises(FileExistsError):
            polyipc.SharedMemory(name, create=True, size=1000)
        same = polyipc.SharedMemory(name, create=True, size=1000, exclusive=False)  # polyipc extra
        same.close()
        with pytest.raises(polyipc.Incompatible):
            polyipc.SharedMemory(name, create=True, size=999, exclusive=False)
        assert repr(shm) == f"SharedMemory({name!r}, size=1000)"
    finally:
        shm.close()
    with pytest.raises(FileNotFoundError):
        polyipc.SharedMemory(qname("missing"))
    with pytest.raises(ValueError):
        polyipc.SharedMemory(qname("zero"), create=True, size=0)
    with pytest.raises(ValueError):
        polyipc.SharedMemory(None)
    with pytest.raises(ValueError):
        polyipc.SharedMemory(qname("negative"), create=True, size=-1)


def test_shared_memory_random_name_and_unlink(unlink_after):
    shm = polyipc.SharedMemory(create=True, size=64)
    unlink_after(shm.name)
    assert shm.name.startswith("psm_")
    shm.buf[:3] = b"abc"
    view = shm.buf[:3]
    shm.unlink()  # the name goes; this process's bytes stay
    with pytest.raises(FileNotFoundError):
        polyipc.SharedMemory(shm.name)
    assert bytes(view) == b"abc"
    del view
    shm.close()


def test_close_refuses_while_views_are_alive(qname, unlink_after):
    name = qname("shm")
    unlink_after(name)
    shm = polyipc.SharedMemory(name, create=True, size=16)
    # a slice of buf: CPython's mmap.close() raises BufferError here
    part = shm.buf[2:6]
    with pytest.raises(BufferError):
        shm.close()
    assert shm.buf is None and not shm.closed  # buf released, the mapping kept (as CPython)
    part[0] = 7  # still mapped: no crash
    assert part[0] == 7
    del part
    shm.close()
    assert shm.closed and shm.buf is None
    shm.close()  # idempotent

    # a ctypes object over buf (it keeps a memoryview of it)
    shm = polyipc.SharedMemory(name)
    held = (ctypes.c_char * 4).from_buffer(shm.buf)
    with pytest.raises(BufferError):
        shm.close()
    held[0] = b"x"
    del held
    shm.close()

    # an object holding a buffer export of buf itself (as a numpy array does): buf.release() refuses
    shm = polyipc.SharedMemory(name)
    exported = pickle.PickleBuffer(shm.buf)
    with pytest.raises(BufferError):
        shm.close()
    assert shm.buf is not None and shm.buf[0] == ord("x")  # nothing was released
    exported.release()
    shm.close()
    with pytest.raises(ValueError, match="is closed"):
        shm.stat()


def test_views_of_a_collected_shared_memory_stay_valid(qname, unlink_after):
    name = qname("shm")
    unlink_after(name)
    with polyipc.SharedMemory(name, create=True, size=8) as shm:
        shm.buf[:4] = b"keep"
    view = polyipc.SharedMemory(name).buf[:4]  # the SharedMemory object is garbage at once
    gc.collect()
    assert bytes(view) == b"keep"  # the mapping lives as long as the view
    view[0] = ord("K")
    assert polyipc.stat(name)["live_processes"] == 1
    del view
    gc.collect()
    assert polyipc.stat(name)["live_processes"] == 0  # unmapped with the last view


def test_shared_memory_written_in_a_child_read_here_and_back(qname, unlink_after):
    name = qname("shm")
    unlink_after(name)
    size = 100_000
    proc = child(f"""
        import polyipc
        shm = polyipc.SharedMemory({name!r}, create=True, size={size})
        shm.buf[:] = bytes((i * 131 + 7) % 256 for i in range({size}))
        shm.close()
        print("written", flush=True)
        with polyipc.Connection({name + ".pipe"!r}, "b", create=True) as c:
            c.recv()  # the test wrote its own pattern
        shm = polyipc.SharedMemory({name!r})
        assert bytes(shm.buf) == bytes((i * 131 + 9) % 256 for i in range({size})), "pattern 9"
        shm.close()
        print("checked", flush=True)
    """)
    unlink_after(name + ".pipe")
    try:
        assert read_line(proc, 30) == "written"
        shm = polyipc.SharedMemory(name)
        assert shm.size == size
        assert bytes(shm.buf) == pattern(size, 7)
        shm.buf[:] = pattern(size, 9)
        shm.close()
        with polyipc.Connection(name + ".pipe", "a", create=True) as c:
            c.send("your turn")
        assert finish(proc).split() == ["checked"]
    finally:
        proc.kill()
        proc.communicate(timeout=30)


# ---- Value and Array --------------------------------------------------------------------

def test_value_types_and_atomics(qname):
    v = polyipc.Value("i", 7, name=qname("v"))
    assert v.value == 7
    assert v.add(3) == 7 and v.value == 10  # add returns the value before
    assert v.compare_exchange(10, 1) is True and v.value == 1
    assert v.compare_exchange(10, 2) is False and v.value == 1
    v.value = -(1 << 63)
    assert v.add(-1) == -(1 << 63) and v.value == (1 << 63) - 1  # wraps
    with pytest.raises(TypeError):
        v.value = 1.5
    with pytest.raises(OverflowError):
        v.value = 1 << 63
    assert v.get_obj() is v
    v.close()
    with pytest.raises(ValueError, match="is closed"):
        v.value
    d = polyipc.Value(ctypes.c_double, 0.5, name=qname("d"))
    assert d.value == 0.5 and isinstance(d.value, float)
    d.value = 2
    assert d.add(0.25) == 2.0 and d.value == 2.25
    d.value = -0.0
    assert d.compare_exchange(0.0, 1.0) is False  # compares the bits: -0.0 is not 0.0
    assert d.compare_exchange(-0.0, float("nan")) is True
    assert d.compare_exchange(float("nan"), 3.0) is True  # the same NaN bits
    with pytest.raises(TypeError):
        d.value = "1.5"
    d.close()
    for code in ("q", "l", "f", ctypes.c_int64):
        polyipc.Value(code, name=qname("code")).close()
    with pytest.raises(TypeError):
        polyipc.Value("c", name=qname("c"))
    with pytest.raises(TypeError):
        polyipc.Value("q", 0)  # the name is required


def test_initial_value_is_stored_only_by_the_creator(qname):
    name = qname("v")
    first = polyipc.Value("q", 5, name=name)
    second = polyipc.Value("q", 9, name=name)
    assert second.value == 5
    with pytest.raises(polyipc.Incompatible):
        polyipc.Value("d", name=name)
    with pytest.raises(polyipc.Incompatible):
        polyipc.Array("q", 2, name=name)
    with pytest.raises(FileExistsError):
        polyipc.Value("q", name=name, exclusive=True)
    with pytest.raises(FileNotFoundError):
        polyipc.Value("q", name=qname("missing"), create=False)
    again = pickle.loads(pickle.dumps(first))
    assert again.value == 5
    for x in (first, second, again):
        x.close()


def test_array_sequence_protocol(qname):
    name = qname("a")
    arr = polyipc.Array("d", [1, 2, 3.5, 4], name=name)
    assert len(arr) == 4
    assert arr[0] == 1.0 and arr[-1] == 4.0
    assert arr[:] == [1.0, 2.0, 3.5, 4.0] and arr[1:3] == [2.0, 3.5] and arr[::-2] == [4.0, 2.0]
    assert list(arr) == [1.0, 2.0, 3.5, 4.0] and 3.5 in arr
    arr[1:3] = [8, 9]
    arr[-1] = 0
    assert arr[:] == [1.0, 8.0, 9.0, 0.0]
    for bad in (4, -5, 1 << 70):
        with pytest.raises(IndexError):
            arr[bad]
        with pytest.raises(IndexError):
            arr[bad] = 1
    with pytest.raises(IndexError):
        arr.add(4, 1)
    with pytest.raises(ValueError):
        arr[0:2] = [1]
    with pytest.raises(TypeError):
        arr["x"]
    assert arr.add(1, 0.5) == 8.0 and arr[1] == 8.5
    assert arr.compare_exchange(0, 1.0, 7.0) and arr[0] == 7.0
    attached = polyipc.Array("d", 0, name=name, create=False)  # 0: whatever the length
    assert len(attached) == 4 and attached[0] == 7.0
    assert arr.stat()["values"] == [7.0, 8.5, 9.0, 0.0]
    ints = polyipc.Array("q", 3, name=qname("ints"))
    assert ints[:] == [0, 0, 0]
    for x in (arr, attached, ints):
        x.close()


def test_value_lock(qname):
    v = polyipc.Value("q", name=qname("v"))
    lock = v.get_lock()
    with v.get_lock():
        with v:  # recursive for the holding thread, as multiprocessing's RLock
            v.value += 1
        outcome = []
        t = threading.Thread(target=lambda: outcome.append(lock.acquire(timeout=0.05)))
        t.start()
        t.join(10)
        assert outcome == [False]  # another thread waits

        def release_elsewhere():
            try:
                lock.release()
                outcome.append("released")
            except RuntimeError:  # polyipc.NotOwner
                outcome.append("refused")

        other = threading.Thread(target=release_elsewhere)
        other.start()
        other.join(10)
        assert outcome == [False, "refused"]
    assert v.value == 1
    assert lock.acquire(False) is True
    lock.release()
    with pytest.raises(polyipc.NotOwner):
        lock.release()
    v.close()
    raw = polyipc.Value("q", name=v.name, lock=False)
    with pytest.raises(AttributeError):
        raw.get_lock()
    raw.close()
    named = polyipc.Lock(qname("lock"))
    shared = polyipc.Value("q", name=v.name, lock=named)
    assert shared.get_lock() is named
    with shared as locked:  # `with` takes the lock, as multiprocessing's Synchronized
        assert locked is True and named.held() == 1
    assert named.held() == 0
    shared.close()
    named.close()


# ---- across processes -------------------------------------------------------------------

def test_value_incremented_by_several_processes_ends_exact(qname):
    name = qname("counter")
    v = polyipc.Value("q", 0, name=name)
    locked_name = qname("counter-locked")
    w = polyipc.Value("q", 0, name=locked_name)
    n, procs = 2000, []
    for k in range(4):
        procs.append(child(f"""
            import polyipc
            v = polyipc.Value("q", name={name!r})
            w = polyipc.Value("q", name={locked_name!r})
            for i in range({n}):
                # Processes 0 and 1 use the atomic add, 2 and 3 a compound
                # update under the lock. Both are exact among their own kind;
                # mixed, a lock-free add may land between a locked read and
                # write, as with multiprocessing: so two values.
                if {k} < 2:
                    v.add(1)
                else:
                    with w.get_lock():
                        w.value += 1
            v.close()
            w.close()
        """))
    try:
        for p in procs:
            finish(p)
    finally:
        for p in procs:
            p.kill()
            p.communicate(timeout=30)
    assert v.value == 2 * n
    assert w.value == 2 * n
    v.close()
    w.close()


def test_value_lock_holder_killed_with_sigkill(qname):
    name = qname("v")
    v = polyipc.Value("q", name=name)
    proc = child(f"""
        import polyipc, time
        v = polyipc.Value("q", name={name!r})
        v.get_lock().acquire()
        v.value = 41
        print("holding", flush=True)
        while True:
            time.sleep(60)
    """)
    try:
        assert read_line(proc, 30) == "holding"
        assert v.get_lock().acquire(timeout=0.1) is False
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert v.get_lock().acquire(timeout=30) is True
    assert any(issubclass(w.category, polyipc.OwnerDeadWarning) for w in caught)
    assert v.get_lock().previous_owner_died is True
    v.value += 1
    v.get_lock().release()
    assert v.value == 42
    v.close()
