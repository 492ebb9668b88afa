"""Pool callbacks and map_async/starmap_async: multiprocessing's asynchronous API, whose
results arrive with nobody waiting for them (the handle's completion thread receives them)."""

import concurrent.futures
import multiprocessing
import os
import textwrap
import threading

import pytest

import polyipc
from helpers import python_child, read_line

WORKER = textwrap.dedent("""
    import os, polyipc
    def fail(text):
        raise RuntimeError(text)
    with polyipc.Pool({name!r}, create=False) as pool:
        print("ready", flush=True)
        n = pool.serve({{"square": lambda x: x * x, "add": lambda a, b: a + b, "pid": os.getpid, "fail": fail}})
    print("served", n, flush=True)
""")


@pytest.fixture
def pool(qname):
    with polyipc.Pool(qname("pool")) as p:
        yield p


@pytest.fixture
def worker(pool):
    """A Python worker process serving `pool` until pool.close()."""
    child = python_child(WORKER.format(name=pool.name))
    try:
        assert read_line(child, 30) == "ready"
        yield child
    finally:
        if child.poll() is None:
            pool.close()
            try:
                child.communicate(timeout=30)
            except Exception:
                child.kill()
                child.communicate(timeout=30)


def completion_threads(pool):
    return [t for t in threading.enumerate() if t.name == f"polyipc-pool-{pool.name}-results"]


def wait_until(what, predicate, timeout=10):
    """Bounded wait for a state another thread reaches (an Event would need its cooperation)."""
    done = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        done.wait(0.01)
    pytest.fail(f"not within {timeout} s: {what}")


def test_callbacks_run_for_results_nobody_waits_for_and_join_waits_for_them(pool, worker):
    got, failed = {}, []
    lock = threading.Lock()

    def on_value(v):
        with lock:
            got[v] = threading.current_thread().name

    for i in range(300):
        pool.apply_async("square", (i,), callback=on_value, error_callback=failed.append)
    pool.join(timeout=60)  # every task ended and every callback ran: nobody called get()
    assert sorted(got) == sorted(i * i for i in range(300)) and not failed
    assert set(got.values()) == {f"polyipc-pool-{pool.name}-results"}
    wait_until("the completion thread ends once nothing waits", lambda: not completion_threads(pool))


def test_error_callback_gets_what_get_raises_and_a_raising_callback_stops_nothing(pool, worker, capfd):
    errors = []
    r = pool.apply_async("fail", ("why",), callback=errors.append, error_callback=errors.append)
    boom = pool.apply_async("square", (3,), callback=lambda v: 1 / 0)
    after = pool.apply_async("square", (4,), callback=errors.append)
    with pytest.raises(polyipc.PoolTaskError, match="^RuntimeError: why$"):
        r.get(timeout=30)  # the callback has run by now
    assert len(errors) == 1 and isinstance(errors[0], polyipc.PoolTaskError)
    assert (errors[0].text, errors[0].task_id, errors[0].function) == ("RuntimeError: why", r.id, "fail")
    assert boom.get(timeout=30) == 9 and after.get(timeout=30) == 16
    assert errors[1:] == [16]
    err = capfd.readouterr().err
    assert f"a callback of pool {pool.name!r} for task {boom.id} ('square') raised" in err
    assert "ZeroDivisionError" in err


def test_submit_and_submit_json_take_callbacks_too(pool, worker):
    got = []
    done = threading.Event()

    def record(v):
        got.append(v.text if isinstance(v, polyipc.PoolTaskError) else v)
        if len(got) == 2:
            done.set()

    pool.submit("fail", "as is", error_callback=record)  # a bare JSON string, as no apply_async sends
    pool.submit_json("square", b"[9]", callback=record)
    assert done.wait(30) and sorted(got, key=str) == [81, "RuntimeError: as is"]


def test_get_returns_after_the_callback_ran_whoever_received_the_result(pool):
    # No worker: this thread plays it, so the order of events is ours to choose.
    ran = []
    entered, release = threading.Event(), threading.Event()

    def slow(v):
        entered.set()
        release.wait(30)
        ran.append(v)

    r = pool.apply_async("f", (1,), callback=slow)
    with pool.take(timeout=10) as t:
        t.complete("v")
    assert entered.wait(30)  # the completion thread received it and is in the callback
    assert not r.ready()  # ready() says so only once the callback returned
    with pytest.raises(multiprocessing.TimeoutError):
        r.get(timeout=0.05)
    release.set()
    assert r.get(timeout=30) == "v" and ran == ["v"]

    # Received by get() in this thread: the callback runs here, before get() returns.
    here = []
    r2 = pool.apply_async("f", (2,), callback=lambda v: here.append((v, threading.get_ident())))
    with pool.take(timeout=10) as t:
        t.complete("w")
    assert r2.get(timeout=30) == "w"
    assert [v for v, _ in here] == ["w"]  # this thread's or the completion thread's: before get() returned


def test_a_callback_may_call_get_and_submit_again(pool, worker):
    chained = []
    done = threading.Event()

    def first(v):
        assert r.get(timeout=0) == v  # its own result: no wait for itself
        pool.apply_async("square", (v,), callback=lambda w: (chained.append(w), done.set()))

    r = pool.apply_async("square", (3,), callback=first)
    assert done.wait(30) and chained == [81]


def test_cancel_runs_the_error_callback_with_cancelled_error(pool):
    errors = []
    r = pool.apply_async("nobody_serves", (), error_callback=errors.append)
    assert r.cancel()
    assert r.cancelled()
    assert len(errors) == 1 and isinstance(errors[0], concurrent.futures.CancelledError)
    wait_until("the completion thread ends", lambda: not completion_threads(pool))


def test_terminate_ends_the_completion_thread_and_drops_the_callbacks(qname):
    ran = []
    p = polyipc.Pool(qname("pool"))
    for i in range(5):
        p.apply_async("nobody_serves", (i,), callback=ran.append, error_callback=ran.append)
    m = p.map_async("nobody_serves", range(3), callback=ran.append, error_callback=ran.append)
    assert completion_threads(p)
    p.terminate()
    # Its own threads left the library before terminate() returned: the handle, and its result
    # queue with it, are gone already.
    assert not completion_threads(p)
    assert not [o["name"] for o in polyipc.list_objects() if o["name"].startswith(p.name + ".results")]
    with pytest.raises(ValueError, match="is closed"):
        m.get(timeout=10)
    assert ran == []


def test_callbacks_and_threads_waiting_by_id_lose_nothing(pool, worker):
    n = 200
    via_callback = []
    rs = [pool.apply_async("add", (i, 1), callback=via_callback.append) for i in range(n)]
    got = [None] * n

    def waiter(k):
        for i in range(k, n, 4):
            got[i] = rs[i].get(timeout=60)

    threads = [threading.Thread(target=waiter, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert got == [i + 1 for i in range(n)]
    pool.join(timeout=60)
    assert sorted(via_callback) == [i + 1 for i in range(n)]
    assert pool.stat()["results_pending"] == 0


def test_the_completion_thread_restarts_on_demand(pool, worker):
    for round_ in range(3):
        box = []
        r = pool.apply_async("square", (round_,), callback=box.append)
        assert r.get(timeout=30) == round_ * round_ and box == [round_ * round_]
        wait_until("the completion thread ends between rounds", lambda: not completion_threads(pool))


def test_map_async_and_starmap_async_as_in_multiprocessing(pool, worker):
    seen = []
    m = pool.map_async("square", range(1000), callback=seen.append)
    s = pool.starmap_async("add", [(i, i) for i in range(100)], chunksize=7)
    assert isinstance(m, polyipc.MapResult) and m.count == 1000
    assert m.get(timeout=60) == [i * i for i in range(1000)]
    assert seen == [m.get()]  # ran before get() returned
    assert m.ready() and m.successful()
    assert s.get(timeout=60) == [2 * i for i in range(100)]
    pool.join(timeout=30)


def test_map_async_reports_the_first_failure_in_order(pool, worker):
    errors = []
    m = pool.map_async("fail", ["a", "b"], error_callback=errors.append)
    with pytest.raises(polyipc.PoolTaskError, match="^RuntimeError: a$"):
        m.get(timeout=60)
    assert not m.successful()
    assert len(errors) == 1 and errors[0].text == "RuntimeError: a"
    enc = pool.map_async("square", [object()], error_callback=errors.append)
    with pytest.raises(TypeError):
        enc.get(timeout=30)
    assert isinstance(errors[1], TypeError)


def test_join_waits_for_map_async_calls(pool, worker):
    done = []
    pool.map_async("square", range(3000), chunksize=10, callback=lambda v: done.append(len(v)))
    pool.join(timeout=90)
    assert done == [3000]


def test_bad_input_is_refused_before_anything_is_submitted(pool):
    with pytest.raises(TypeError, match="'callback' must be callable"):
        pool.apply_async("f", (1,), callback=42)
    with pytest.raises(TypeError, match="'error_callback' must be callable"):
        pool.map_async("f", [1], error_callback="x")
    with pytest.raises(TypeError, match="named by a str"):
        pool.starmap_async(len, [(1,)])
    with pytest.raises(ValueError, match="chunksize must be at least 1"):
        pool.map_async("f", [1], chunksize=0)
    m = pool.map_async("f", [])
    assert m.get(timeout=10) == [] and m.successful()
    with pytest.raises(ValueError):
        m.get(timeout=-1)
    assert pool.stat()["depth"] == 0
    pool.terminate()
    with pytest.raises(ValueError, match="is closed"):
        pool.map_async("f", [1])


def test_callbacks_get_what_the_worker_process_computed(pool, worker):
    pids = []
    for _ in range(20):
        pool.apply_async("pid", callback=pids.append)
    pool.join(timeout=60)
    assert set(pids) == {worker.pid} and os.getpid() not in pids
