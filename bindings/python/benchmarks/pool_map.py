#!/usr/bin/env python3
"""Pool.map and apply_async with callbacks, polyipc against multiprocessing.Pool, in one run.

Two worker processes either way: two processes that serve() a polyipc pool,
or multiprocessing.Pool(2). The submitter maps `square` over range(TASKS)
with each pool's default chunks and with chunksize=1, and submits TASKS
apply_async calls whose callbacks count the results (timed until the last
callback ran), the peers interleaved within each round; the table gives the
median tasks/s over the rounds and the median of the within-round ratios
polyipc / multiprocessing.

usage: PYTHONPATH=<build>/bindings/python/package python3 pool_map.py [TASKS [ROUNDS]]
The pool lives in a namespace of its own and is unlinked at the end.
"""

import multiprocessing
import os
import statistics
import sys
import threading
import time
import uuid

if __name__ == "__main__":  # not in the spawned children: they inherit it
    os.environ["POLYIPC_NAMESPACE"] = f"bench-python-{os.getpid()}"

import polyipc  # noqa: E402


def square(x):
    return x * x


def _worker(name):
    with polyipc.Pool(name, create=False) as pool:
        pool.serve({"square": square})


def _callbacks(apply_async, fn, tasks):
    """apply_async of every task with a callback; returns once the last callback ran."""
    got = []
    last = threading.Event()

    def on_result(v):
        got.append(v)
        if len(got) == tasks:
            last.set()

    for x in range(tasks):
        apply_async(fn, (x,), callback=on_result)
    if not last.wait(120):
        raise SystemExit("callbacks did not all run")
    return sorted(got)


def _rate(run, tasks, check):
    start = time.perf_counter()
    out = run()
    elapsed = time.perf_counter() - start
    if out != check:
        raise SystemExit("a map returned wrong results")
    return tasks / elapsed


def main():
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    items = list(range(tasks))
    check = [square(x) for x in items]
    name = f"bench-map-{uuid.uuid4().hex[:8]}"
    ctx = multiprocessing.get_context("fork")
    rates = {}
    with polyipc.Pool(name) as pool, ctx.Pool(2) as mp:
        workers = [ctx.Process(target=_worker, args=(name,)) for _ in range(2)]
        for w in workers:
            w.start()
        try:
            pool.map("square", range(100))  # both sides warm
            mp.map(square, range(100))
            cases = {
                ("default chunks", "polyipc"): lambda: pool.map("square", items),
                ("default chunks", "multiprocessing"): lambda: mp.map(square, items),
                ("chunksize=1", "polyipc"): lambda: pool.map("square", items, chunksize=1),
                ("chunksize=1", "multiprocessing"): lambda: mp.map(square, items, chunksize=1),
                ("apply_async+cb", "polyipc"): lambda: _callbacks(pool.apply_async, "square", tasks),
                ("apply_async+cb", "multiprocessing"): lambda: _callbacks(mp.apply_async, square, tasks),
            }
            for _ in range(rounds):
                for key, run in cases.items():
                    rates.setdefault(key, []).append(_rate(run, tasks, check))
        finally:
            pool.close()
            for w in workers:
                w.join(30)
            pool.unlink()
    print(f"square over {tasks} integers, 2 worker processes, {rounds} rounds (median)")
    print(f"{'case':<16} {'polyipc tasks/s':>16} {'multiprocessing':>16} {'ratio':>8}")
    for case in ("default chunks", "chunksize=1", "apply_async+cb"):
        ours, theirs = rates[(case, "polyipc")], rates[(case, "multiprocessing")]
        ratio = statistics.median(a / b for a, b in zip(ours, theirs))
        print(f"{case:<16} {statistics.median(ours):>16,.0f} {statistics.median(theirs):>16,.0f} {ratio:>7.3f}x")


if __name__ == "__main__":
    main()
