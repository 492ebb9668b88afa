"""PoolExecutor: concurrent.futures.Executor over a named pool, its futures completed by the
handle's completion thread, workers in other processes."""

import asyncio
import concurrent.futures
import textwrap
import threading

import pytest

import polyipc
from helpers import python_child, read_line

WORKER = textwrap.dedent("""
    import os, polyipc
    def fail(text):
        raise ValueError(text)
    with polyipc.Pool({name!r}, create=False) as pool:
        print("ready", flush=True)
        n = pool.serve({{"square": lambda x: x * x, "add": lambda a, b=0: a + b, "pid": os.getpid, "fail": fail}})
    print("served", n, flush=True)
""")


@pytest.fixture
def executor(qname):
    ex = polyipc.PoolExecutor(qname("pool"))
    yield ex
    ex.shutdown(wait=False, cancel_futures=True)
    ex.pool.terminate()


@pytest.fixture
def worker(executor):
    """A Python worker process serving the executor's pool until pool.close()."""
    child = python_child(WORKER.format(name=executor.pool.name))
    try:
        assert read_line(child, 30) == "ready"
        yield child
    finally:
        if child.poll() is None:
            try:
                with polyipc.Pool(executor.pool.name, create=False) as p:  # the executor's may be shut down
                    p.close()
                child.communicate(timeout=60)
            except Exception:  # noqa: BLE001 - the test's own failure matters more
                child.kill()
                child.communicate(timeout=30)


def test_futures_complete_with_nobody_waiting_and_as_completed_sees_them_all(executor, worker):
    fs = [executor.submit("square", i) for i in range(300)]
    assert all(isinstance(f, concurrent.futures.Future) for f in fs)
    seen = []
    for f in concurrent.futures.as_completed(fs, timeout=60):
        seen.append(f.result())
    assert sorted(seen) == sorted(i * i for i in range(300))
    assert executor.submit("add", a=2, b=3).result(timeout=30) == 5  # keyword arguments: a JSON object
    assert executor.submit("pid").result(timeout=30) == worker.pid
    assert list(executor.map("add", [1, 2, 3], [10, 20, 30], timeout=30)) == [11, 22, 33]
    executor.pool.close()
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0 and out.strip().endswith("served 305"), err


def test_done_callbacks_and_exceptions(executor, worker):
    called = threading.Event()
    f = executor.submit("fail", "no")
    f.add_done_callback(lambda _: called.set())
    assert called.wait(30)
    e = f.exception(timeout=0)
    assert isinstance(e, polyipc.PoolTaskError) and e.text == "ValueError: no"
    with pytest.raises(polyipc.PoolTaskError, match="^ValueError: no$"):
        f.result()
    done, not_done = concurrent.futures.wait([f, executor.submit("square", 4)], timeout=30)
    assert len(done) == 2 and not not_done


def test_cancel_takes_back_a_task_no_worker_took(executor):
    f = executor.submit("square", 3)  # no worker runs
    waiter = concurrent.futures.ThreadPoolExecutor(1).submit(concurrent.futures.wait, [f], 30)
    assert not f.done()
    assert f.cancel() and f.cancelled() and f.done()
    with pytest.raises(concurrent.futures.CancelledError):
        f.result(timeout=0)
    done, _ = waiter.result(timeout=30)  # a wait() already waiting saw the cancellation
    assert f in done
    assert f.cancel()  # again: still cancelled, as concurrent.futures says
    assert executor.pool.stat()["depth"] == 0  # the task left the pool


def test_a_task_a_worker_holds_is_not_cancelled(executor):
    f = executor.submit("square", 5)
    with executor.pool.take(timeout=10) as t:
        assert not f.cancel() and not f.cancelled()
        t.complete(25)
    assert f.result(timeout=30) == 25


def test_shutdown_waits_for_its_futures_then_refuses_new_ones(executor, worker):
    fs = [executor.submit("square", i) for i in range(100)]
    executor.shutdown(wait=True)
    assert all(f.done() for f in fs) and [f.result() for f in fs] == [i * i for i in range(100)]
    with pytest.raises(RuntimeError, match="after shutdown"):
        executor.submit("square", 1)
    assert executor.pool.closed  # the handle was released (the worker fixture then ends its worker)


def test_shutdown_with_cancel_futures_cancels_what_no_worker_took(qname):
    ex = polyipc.PoolExecutor(qname("pool"))
    fs = [ex.submit("square", i) for i in range(10)]
    with ex.pool.take(timeout=10) as held:  # one task is running: it is not cancelled
        ex.shutdown(wait=False, cancel_futures=True)
        assert sum(f.cancelled() for f in fs) == 9
        held.complete(held.args[0] ** 2)
    assert [f.result(timeout=30) for f in fs if not f.cancelled()] == [held.args[0] ** 2]
    ex.pool.terminate()


def test_asyncio_awaits_the_futures(executor, worker):
    async def main():
        return await asyncio.gather(*(asyncio.wrap_future(executor.submit("square", i)) for i in range(50)))

    assert asyncio.run(asyncio.wait_for(main(), 60)) == [i * i for i in range(50)]


def test_bad_input(executor):
    with pytest.raises(TypeError, match="named by a str"):
        executor.submit(len, 1)
    with pytest.raises(TypeError):
        executor.submit("f", object())  # not JSON
    assert executor.pool.stat()["depth"] == 0
    with pytest.raises(TypeError, match="not both"):
        executor.submit("f", 1, k=2)
    assert not executor._pending
