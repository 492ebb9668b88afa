"""polyipc.Pool: submitting (apply_async, map, ...), working (take, serve), results by id,
failures, timeouts, closing, joining, tasks given back, bad input, and workers in other
processes, one of them killed with SIGKILL mid-task. Waits are bounded; nothing sleeps to
synchronise."""

import concurrent.futures
import gc
import multiprocessing
import os
import queue
import textwrap
import threading

import pytest

import polyipc
from helpers import kill9, python_child, read_line

SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture
def pool(qname):
    with polyipc.Pool(qname("pool")) as p:
        yield p


def take_one(p, timeout=10):
    return p.take(timeout=timeout)


# ---- one process -------------------------------------------------------------------

def test_a_task_goes_to_a_worker_and_its_result_back(pool):
    r = pool.apply_async("add", (2, 3))
    assert isinstance(r, polyipc.AsyncResult) and r.id > 0
    assert not r.ready()
    with take_one(pool) as t:
        assert (t.id, t.function, t.args, t.args_json) == (r.id, "add", [2, 3], "[2,3]")
        t.complete(sum(t.args))
        assert t.finished and t.released
    assert r.get(timeout=10) == 5
    assert r.get() == 5  # again: the same outcome
    assert r.ready() and r.successful()


def test_arguments_as_array_object_or_any_value_and_results_any_json(pool):
    values = {}
    values[pool.apply_async("f", ("é😀", None, 1.5, [True])).id] = ["é😀", None, 1.5, [True]]
    values[pool.apply_async("f", kwds={"parts": ["a", "b"], "n": 1}).id] = {"parts": ["a", "b"], "n": 1}
    values[pool.apply_async("f").id] = []
    values[pool.submit("f", "text").id] = "text"
    values[pool.submit("f").id] = None
    values[pool.submit("f", {"k": [1, {"ü": 2 ** 70}]}).id] = {"k": [1, {"ü": 2 ** 70}]}
    values[pool.submit_json("f", ' {"raw" : [1 , 2]} ').id] = {"raw": [1, 2]}
    for _ in range(len(values)):
        with take_one(pool) as t:
            assert t.args == values[t.id]
            t.complete({"echo": t.args})
    for _ in range(len(values)):
        r = pool.next_result(timeout=10)
        assert r.get() == {"echo": values[r.id]}
    with pytest.raises(ValueError):  # nothing is still to come
        pool.next_result(timeout=0)


def test_a_failed_task_raises_pool_task_error_with_the_workers_text(pool):
    r = pool.apply_async("divide", (1, 0))
    with take_one(pool) as t:
        t.fail('ZeroDivisionError: "1/0"\n\tline 2 é')
    with pytest.raises(polyipc.PoolTaskError) as ei:
        r.get(timeout=10)
    assert str(ei.value) == ei.value.text == 'ZeroDivisionError: "1/0"\n\tline 2 é'
    assert (ei.value.task_id, ei.value.function) == (r.id, "divide")
    assert r.ready() and not r.successful()


def test_an_exception_leaving_the_task_block_fails_it_with_type_and_message(pool):
    r = pool.apply_async("f")
    with pytest.raises(KeyError):
        with take_one(pool):
            raise KeyError("missing")
    with pytest.raises(polyipc.PoolTaskError, match=r"^KeyError: 'missing'$"):
        r.get(timeout=10)
    r = pool.apply_async("g")
    with pytest.raises(ZeroDivisionError):
        with take_one(pool):
            1 / 0
    with pytest.raises(polyipc.PoolTaskError, match=r"^ZeroDivisionError: division by zero$"):
        r.get(timeout=10)


def test_results_come_back_by_id_whatever_order_they_finish_in(pool):
    rs = [pool.apply_async("id", (i,)) for i in range(5)]
    tasks = [take_one(pool) for _ in range(5)]
    assert [t.id for t in tasks] == [r.id for r in rs]  # FIFO
    for t in reversed(tasks):
        t.complete(t.args[0])
    assert rs[2].get(timeout=10) == 2  # behind two others
    assert [r.get(timeout=10) for r in rs] == [0, 1, 2, 3, 4]


def test_a_result_not_there_yet_times_out_and_the_task_goes_on(pool):
    r = pool.apply_async("slow")
    with pytest.raises(multiprocessing.TimeoutError):
        r.get(timeout=0)
    with pytest.raises(multiprocessing.TimeoutError):
        r.get(timeout=0.05)
    assert r.wait(0.05) is None and not r.ready()
    with pytest.raises(ValueError):
        r.successful()
    with pytest.raises(multiprocessing.TimeoutError):
        pool.next_result(timeout=0.05)
    with take_one(pool) as t:
        t.complete(True)
    r.wait()
    assert r.ready() and r.get(timeout=0) is True


def test_a_task_given_back_unfinished_goes_to_the_next_take(pool):
    r = pool.apply_async("f", (1,))
    t = take_one(pool)
    with pytest.raises(queue.Empty):
        pool.take(timeout=0)
    t.release()  # explicitly
    t.release()  # idempotent
    with take_one(pool) as t2:  # leaving the block without complete(): given back
        assert t2.id == r.id
    t3 = take_one(pool)
    assert t3.id == r.id
    del t3  # the garbage collector gives it back too
    gc.collect()
    with take_one(pool) as t4:
        assert t4.id == r.id
        t4.complete(2)
    assert r.get(timeout=10) == 2
    pool.join(timeout=10)
    assert pool.stat()["counters"]["redeliveries"] >= 3


def test_a_finished_task_cannot_be_finished_again(pool):
    pool.apply_async("f")
    t = take_one(pool)
    t.complete(1)
    with pytest.raises(ValueError, match="finished already"):
        t.fail("again")
    t.release()  # no effect


def test_a_task_no_worker_took_yet_can_be_cancelled_and_never_runs(pool):
    first, second, third = (pool.apply_async("f", (i,)) for i in range(3))
    assert second.cancel() is True
    assert second.cancelled() and second.ready() and not second.successful()
    with pytest.raises(concurrent.futures.CancelledError, match=f"task {second.id}"):
        second.get(timeout=10)
    assert second.cancel() is True  # asked again: the same answer
    assert "cancelled" in repr(second)
    for want in (first, third):  # the others run, in order; the cancelled one never
        with take_one(pool) as t:
            assert t.id == want.id
            t.complete(t.args[0])
    with pytest.raises(queue.Empty):
        pool.take(timeout=0)
    pool.join(timeout=10)  # does not wait for the cancelled task
    assert (first.get(timeout=10), third.get(timeout=10)) == (0, 2)
    assert not first.cancelled() and first.cancel() is False  # done: not cancelled


def test_a_task_a_worker_holds_is_not_cancelled_and_its_result_comes(pool):
    r = pool.apply_async("f", (7,))
    with take_one(pool) as t:
        assert r.cancel() is False
        t.complete(49)
    assert r.get(timeout=10) == 49 and not r.cancelled()
    assert r.cancel() is False


def test_cancel_answers_a_thread_already_waiting_for_the_result(pool):
    r = pool.apply_async("f", (1,))
    outcome = []
    waiter = threading.Thread(target=lambda: outcome.append(r.wait(timeout=30) or r.cancelled()))
    waiter.start()
    assert r.cancel() is True
    waiter.join(timeout=30)
    assert outcome == [True]


def test_close_lets_workers_drain_then_take_and_submit_end(pool):
    r = pool.apply_async("f", (1,))
    pool.close()
    with pytest.raises(polyipc.Closed) as ei:
        pool.apply_async("f", (2,))
    assert isinstance(ei.value, EOFError) and pool.name in str(ei.value)
    t = take_one(pool)  # submitted before: still comes
    with pytest.raises(queue.Empty):  # it may still come back, so no end yet
        pool.take(timeout=0)
    t.complete(1)
    with pytest.raises(polyipc.Closed):
        pool.take(timeout=10)
    with pytest.raises(EOFError):
        pool.take()
    assert r.get(timeout=10) == 1
    assert pool.serve({"f": lambda x: x}) == 0  # a closed and drained pool: serve returns at once
    assert not pool.closed  # close() is not terminate()


def test_join_waits_for_every_task(pool):
    rs = [pool.apply_async("f", (i,)) for i in range(2)]
    with pytest.raises(TimeoutError):
        pool.join(timeout=0)
    for i in range(2):
        t = take_one(pool)
        with pytest.raises(polyipc.TimeoutError):
            pool.join(timeout=0.02)
        if i:
            t.fail("no")
        else:
            t.complete("yes")
    pool.join(timeout=10)
    assert rs[0].get(0) == "yes"
    with pytest.raises(polyipc.PoolTaskError, match="^no$"):
        rs[1].get(0)


def test_bad_input_gets_the_right_error_and_changes_nothing(pool, qname):
    with pytest.raises(polyipc.InvalidArgument, match="function name is empty"):
        pool.apply_async("", (1,))
    with pytest.raises(TypeError):
        pool.apply_async(None, (1,))
    with pytest.raises(TypeError):
        pool.apply_async(len, (1,))
    with pytest.raises(TypeError):  # both: neither an array nor an object
        pool.apply_async("f", (1,), {"a": 1})
    with pytest.raises(TypeError):  # a str is not a sequence of arguments here
        pool.apply_async("f", "abc")
    with pytest.raises(polyipc.InvalidJSON, match="byte 3") as ei:
        pool.submit_json("f", "[1,]")
    assert isinstance(ei.value, ValueError)
    with pytest.raises(polyipc.InvalidJSON):
        pool.submit_json("f", "")
    with pytest.raises(ValueError):  # NaN is not JSON
        pool.submit("f", float("nan"))
    with pytest.raises(TypeError):
        pool.submit("f", object())
    with pytest.raises(polyipc.InvalidArgument, match="task 4242"):  # a result of no task of this handle
        polyipc.AsyncResult(pool, 4242, "f").get(timeout=0)
    with pytest.raises(polyipc.InvalidArgument, match="no task whose result is still to come"):
        pool.next_result(timeout=0)
    with pytest.raises(ValueError):
        pool.take(timeout=-1)
    with pytest.raises(polyipc.InvalidArgument, match="at most 160"):
        polyipc.Pool("p" * 161)
    with pytest.raises(polyipc.NotFound):
        polyipc.Pool(qname("none"), create=False)
    with pytest.raises(polyipc.Exists):
        polyipc.Pool(pool.name, exclusive=True)
    q = qname("queue")
    with polyipc.Queue(q):
        with pytest.raises(polyipc.Incompatible, match="not a pool"):
            polyipc.Pool(q)
    with pytest.raises(polyipc.Incompatible, match="holds a pool"):
        polyipc.Queue(pool.name)
    with pytest.raises(queue.Empty):  # nothing was submitted meanwhile
        pool.take(timeout=0)
    pool.join(timeout=0)


def test_a_result_that_json_cannot_carry_leaves_the_task_unfinished(pool):
    r = pool.apply_async("f")
    t = take_one(pool)
    with pytest.raises(TypeError):
        t.complete({1, 2})
    with pytest.raises(polyipc.InvalidJSON, match=f"task {t.id}"):
        t.complete_json('{"a":')
    assert not t.finished and not t.released
    with pytest.raises(multiprocessing.TimeoutError):
        r.get(timeout=0)
    t.complete_json("[]")
    assert r.get(timeout=10) == []
    pool.join(timeout=0)


def test_terminate_with_a_task_open_keeps_the_native_pool_until_the_task_ends(pool):
    r = pool.apply_async("f", (7,))
    worker = polyipc.Pool(pool.name, create=False)
    t = take_one(worker)
    worker.terminate()
    assert worker.closed
    with pytest.raises(ValueError, match="is closed"):
        worker.take(timeout=0)
    t.complete(t.args[0] * 6)  # the task still works: its pool handle outlives the wrapper's close
    assert r.get(timeout=10) == 42
    worker.terminate()  # idempotent


def test_threads_waiting_for_their_own_results_each_get_theirs(pool):
    wrong = []
    stop = threading.Event()
    worker = threading.Thread(target=pool.serve, args=({"id": lambda v: v},), kwargs={"stop": stop})
    worker.start()

    def submitter(k):
        for i in range(50):
            v = k * 1000 + i
            if pool.apply_async("id", (v,)).get(timeout=30) != v:
                wrong.append(v)

    threads = [threading.Thread(target=submitter, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    stop.set()
    worker.join(30)
    assert not worker.is_alive() and not wrong


def test_an_async_result_gets_its_result_even_when_next_result_took_it(pool):
    def any_result(got):
        try:
            got.append(pool.next_result(timeout=30).get())
        except ValueError:  # the AsyncResult was quicker: nothing else is to come
            got.append("none left")

    for _ in range(20):
        r = pool.apply_async("f", (1,))
        t = take_one(pool)
        mine, other = [], []
        waiters = [threading.Thread(target=lambda: mine.append(r.get(timeout=30))),
                   threading.Thread(target=any_result, args=(other,))]
        for w in waiters:
            w.start()
        t.complete("v")
        for w in waiters:
            w.join(30)
        assert mine == ["v"] and other in (["v"], ["none left"])


def test_serve_passes_args_by_their_json_shape_and_reports_failures(pool):
    def kw(a, b=0):
        return {"a": a, "b": b}

    def boom(x):
        raise ValueError(f"bad {x}")

    def forward(text):
        raise polyipc.PoolTaskError(text)

    functions = {"add": lambda a, b: a + b, "kw": kw, "one": lambda v: {"got": v}, "boom": boom,
                 "forward": forward, "none": lambda: None, "unjson": lambda: {1}, "empty": lambda: 1 / 0 and None}
    calls = [
        (pool.apply_async("add", (2, 3)), 5, None),
        (pool.apply_async("kw", kwds={"a": 1, "b": 2}), {"a": 1, "b": 2}, None),
        (pool.submit("one", "text"), {"got": "text"}, None),
        (pool.submit("one", None), {"got": None}, None),
        (pool.apply_async("none"), None, None),
        (pool.apply_async("boom", (4,)), None, "ValueError: bad 4"),
        (pool.apply_async("add", (1,)), None, "TypeError: "),
        (pool.submit("forward", "exactly this"), None, "exactly this"),
        (pool.apply_async("unjson"), None, "TypeError: Object of type set is not JSON serializable"),
        (pool.apply_async("nope", (1,)), None, "no function 'nope' in this worker"),
        (pool.apply_async("empty"), None, "ZeroDivisionError: division by zero"),
    ]
    pool.close()
    assert pool.serve(functions) == len(calls)  # returns once closed and drained
    for r, want, error in calls:
        if error is None:
            assert r.get(timeout=10) == want
        else:
            with pytest.raises(polyipc.PoolTaskError) as ei:
                r.get(timeout=10)
            assert ei.value.text.startswith(error), (ei.value.text, error)
    pool.join(timeout=10)


def test_serve_ends_when_stop_is_set(pool):
    stop = threading.Event()
    served = []
    worker = threading.Thread(target=lambda: served.append(pool.serve({"f": lambda: stop.set()}, stop=stop)))
    worker.start()
    assert pool.apply_async("f").get(timeout=30) is None
    worker.join(10)
    assert not worker.is_alive() and served == [1]


def test_serve_stopped_mid_chunk_finishes_what_ran_and_gives_back_the_rest(pool):
    stop = threading.Event()
    ran = []

    def sq(x):
        ran.append(x)
        if x == 3:
            stop.set()
        return x * x

    results = []
    submitter = threading.Thread(target=lambda: results.extend(pool.imap("sq", range(10), chunksize=10)))
    submitter.start()
    assert pool.serve({"sq": sq}, stop=stop) == 4  # one chunk: tasks 0..3 ran and were finished
    assert ran == [0, 1, 2, 3]
    assert pool.stat()["depth"] == 1  # the chunk went back whole
    pool.close()
    assert pool.serve({"sq": sq}) == 10  # all ten again: the second results of 0..3 are dropped
    submitter.join(30)
    assert results == [i * i for i in range(10)]
    pool.join(timeout=10)


def test_map_raises_the_first_failure_in_order_once_every_task_ended(pool, qname):
    stop = threading.Event()
    worker = threading.Thread(target=pool.serve, args=({"inv": lambda x: 1 / x,
                                                        "big": lambda x: "x" * x},), kwargs={"stop": stop})
    worker.start()
    try:
        items = [1] * 5000
        items[3000] = 0
        items[4000] = "s"
        with pytest.raises(polyipc.PoolTaskError, match="^ZeroDivisionError") as ei:
            pool.map("inv", items, chunksize=100)
        assert ei.value.function == "inv"
        assert pool.stat()["results_pending"] == 0  # no result is left behind
        assert pool.map("inv", [2, 4], chunksize=1) == [0.5, 0.25]
        with pytest.raises(TypeError):  # arguments JSON cannot carry: nothing is submitted
            pool.map("inv", [1, {1}])
        assert pool.stat()["results_pending"] == 0
        with pytest.raises(TypeError):  # in a later group: raised once the groups before it ended
            pool.map("inv", [1] * 3000 + [{1}], chunksize=10)
        assert pool.stat()["results_pending"] == 0
    finally:
        stop.set()
        worker.join(30)


def test_serve_without_stop_runs_a_whole_chunk_and_fails_each_task_at_its_place(pool):
    # serve() with no stop runs a chunk at C speed (itertools.starmap); a task that raises
    # must fail alone, at its own index, and the tasks after it must still run.
    ran = []

    def third_fails(x):
        ran.append(x)
        if x % 3 == 2:
            raise ValueError(f"bad {x}")
        return x * 10

    worker = threading.Thread(target=pool.serve, args=({"f": third_fails},))
    worker.start()
    try:
        got = []
        with pytest.raises(polyipc.PoolTaskError, match="^ValueError: bad 2$"):
            for value in pool.imap("f", range(9), chunksize=9):  # one chunk of nine tasks
                got.append(value)
        assert got == [0, 10]  # the failure is task 2's, not a neighbour's
        assert sorted(ran) == list(range(9))  # tasks 3..8 ran after the failure of task 2
        out = pool.map_async("f", [0, 1, 2, 3, 4, 5], chunksize=6)
        with pytest.raises(polyipc.PoolTaskError, match="^ValueError: bad 2$"):
            out.get(timeout=30)
        assert pool.map("f", [0, 1, 3, 4, 6, 7], chunksize=6) == [0, 10, 30, 40, 60, 70]
    finally:
        pool.close()
        worker.join(30)
    assert not worker.is_alive()


def test_map_starmap_imap_and_imap_unordered(pool, qname):
    stop = threading.Event()
    worker = threading.Thread(target=pool.serve, args=({"sq": lambda x: x * x, "add": lambda a, b: a + b,
                                                        "inv": lambda x: 1 / x},), kwargs={"stop": stop})
    worker.start()
    try:
        assert pool.map("sq", range(20)) == [i * i for i in range(20)]
        assert pool.starmap("add", [(1, 2), [3, 4]]) == [3, 7]
        assert list(pool.imap("sq", range(10), window=3)) == [i * i for i in range(10)]
        assert sorted(pool.imap_unordered("sq", range(30), window=4)) == sorted(i * i for i in range(30))
        assert pool.apply("add", (1, 1)) == 2
        with pytest.raises(polyipc.PoolTaskError, match="^ZeroDivisionError"):
            pool.map("inv", [1, 0, 2])
        assert pool.map("sq", []) == []
        pool.join(timeout=30)  # the tasks after a failed one run too (before the worker stops)
    finally:
        stop.set()
        worker.join(30)


def test_chunksize_sends_tasks_in_chunks_that_workers_serve_as_plain_tasks(pool, qname):
    took = []

    def sq(x):
        took.append(x)
        return x * x

    stop = threading.Event()
    worker = threading.Thread(target=pool.serve, args=({"sq": sq, "inv": lambda x: 1 / x},), kwargs={"stop": stop})
    worker.start()
    try:
        # 10 items, 4 to a chunk: three pool messages, while every item stays its own task
        puts = pool.stat()["counters"]["puts"]
        assert list(pool.imap("sq", range(10), chunksize=4)) == [i * i for i in range(10)]
        assert pool.stat()["counters"]["puts"] - puts == 3
        assert sorted(took) == list(range(10))
        assert pool.map("sq", range(100), chunksize=7) == [i * i for i in range(100)]
        assert pool.starmap("sq", [[i] for i in range(50)], chunksize=50) == [i * i for i in range(50)]
        assert sorted(pool.imap_unordered("sq", range(30), chunksize=8)) == [i * i for i in range(30)]
        with pytest.raises(polyipc.PoolTaskError, match="^ZeroDivisionError"):  # the failed one, in its place
            pool.map("inv", [1, 2, 0, 4, 5], chunksize=5)
        for bad, error in ((0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError)):
            with pytest.raises(error):
                pool.map("sq", range(3), chunksize=bad)
            with pytest.raises(error):
                pool.imap("sq", range(3), chunksize=bad)
        pool.join(timeout=30)  # the tasks after a failed one run too (before the worker stops)
    finally:
        stop.set()
        worker.join(30)


def test_map_does_not_deadlock_when_the_pool_holds_few_tasks(qname):
    with polyipc.Pool(qname("small"), max_tasks=2, result_capacity_bytes=256) as pool:
        stop = threading.Event()
        worker = threading.Thread(target=pool.serve, args=({"sq": lambda x: x * x},), kwargs={"stop": stop})
        worker.start()
        try:
            assert pool.map("sq", range(100)) == [i * i for i in range(100)]
            for chunksize in (1, 7, 600):  # a pool and a result queue smaller than the map
                assert pool.map("sq", range(3000), chunksize) == [i * i for i in range(3000)]
        finally:
            stop.set()
            worker.join(30)
        with pytest.raises(queue.Full):
            for i in range(3):
                pool.submit("sq", i, timeout=0.05)


# ---- across processes ---------------------------------------------------------------

WORKER = textwrap.dedent("""
    import os, sys, time, polyipc
    hang = os.environ.get("HANG") == "1"
    def job(i):
        if hang:
            print("took", i, flush=True)
            while True:
                time.sleep(60)  # until killed, the task unfinished
        return {{"i": i, "pid": os.getpid()}}
    with polyipc.Pool({name!r}, create=False) as pool:
        if not hang:  # one line at a time: read_line() cannot see lines already buffered
            print("ready", flush=True)
        n = pool.serve({{"job": job, "neg": lambda x: -x}})
    print("served", n, flush=True)
""")


def test_a_worker_killed_mid_task_has_its_task_finished_by_another(pool):
    n = 20
    rs = [pool.apply_async("job", (i,)) for i in range(n)]
    first = python_child(WORKER.format(name=pool.name), env={**os.environ, "HANG": "1"})
    try:
        assert read_line(first, 30) == "took 0"  # task 0 taken, never to be finished by this one
        with pytest.raises(polyipc.TimeoutError):
            pool.join(timeout=0.05)
        assert not rs[0].ready()
    finally:
        kill9(first)
    second = python_child(WORKER.format(name=pool.name))
    try:
        assert read_line(second, 30) == "ready"
        results = [r.get(timeout=60) for r in rs]
        assert [x["i"] for x in results] == list(range(n))
        assert {x["pid"] for x in results} == {second.pid}
        assert pool.apply("neg", (5,)) == -5
        pool.close()
        out, err = second.communicate(timeout=60)
    finally:
        if second.poll() is None:
            second.kill()
            second.communicate(timeout=30)
    assert second.returncode == 0, err
    assert out.strip().endswith(f"served {n + 1}")
    # exactly one result per task: nothing else comes
    with pytest.raises(ValueError, match="no task whose result is still to come"):
        pool.next_result(timeout=0)
    assert pool.stat()["results_pending"] == 0
    assert pool.stat()["counters"]["redeliveries"] >= 1
    pool.join(timeout=30)


def _spawned_worker(pool, stop_name, results):
    with pool, polyipc.Event(stop_name, create=False) as stop:
        served = pool.serve({"pid": os.getpid, "fail": _raise}, stop=stop)
    results.put(served)


def _raise(text):
    raise RuntimeError(text)


def test_workers_in_spawned_processes_stop_on_a_shared_event(pool, qname):
    stop_name = qname("stop")
    results = SPAWN.Queue()
    with polyipc.Event(stop_name) as stop:
        workers = [SPAWN.Process(target=_spawned_worker, args=(pool, stop_name, results)) for _ in range(2)]
        for w in workers:
            w.start()  # the Pool pickles by name
        pids = {pool.apply_async("pid").get(timeout=60) for _ in range(10)}
        assert pids <= {w.pid for w in workers}
        with pytest.raises(polyipc.PoolTaskError, match="^RuntimeError: why$"):
            pool.submit("fail", "why").get(timeout=60)
        stop.set()
        served = sorted(results.get(timeout=60) for _ in workers)
        for w in workers:
            w.join(30)
            assert w.exitcode == 0
    assert sum(served) == 11
    pool.join(timeout=0)
