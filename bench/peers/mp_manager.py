#!/usr/bin/env python3
"""bench/peers/mp_manager.py: Python's multiprocessing.Manager().dict() and .list() as peers of polyipc_manager_bench.

Run by the driver (bench/manager) as a subprocess; prints one JSON object on stdout.
The same work as the polyipc cells, on 64 keys holding 64 B JSON texts (str):
  - get:  this process reads the keys in turn through the dict's proxy;
  - set:  it replaces the values in turn;
  - incr: 2 forked processes each increment one counter under a Manager Lock
          (the proxy has no compare-and-set) for --seconds; increments/s, summed;
  - list-fifo: a Manager list of 64 values used as a queue: append one, pop the first.
"""
import argparse
import multiprocessing as mp
import time

from peer_report import report

KEYS = 64


def value_of(n):
    v = '{"n":%d,"name":"worker","pad":"' % n
    return v + "x" * (64 - len(v) - 2) + '"}'


def timed(seconds, op):
    now = time.monotonic_ns
    n = 0
    t0 = now()
    end = t0 + int(seconds * 1e9)
    while True:
        op(n)
        n += 1
        if (n & 63) == 0 and now() >= end:
            break
    return n / ((now() - t0) / 1e9)


def incrementer(d, lock, start, seconds, counts, w):
    start.wait()
    end = time.monotonic_ns() + int(seconds * 1e9)
    n = 0
    while True:
        with lock:
            d["counter"] = d["counter"] + 1
        n += 1
        if (n & 15) == 0 and time.monotonic_ns() >= end:
            break
    counts[w] = n


def run(a):
    with mp.Manager() as m:
        if a.mode == "list-fifo":
            lst = m.list([value_of(i) for i in range(KEYS)])
            values = [value_of(1000 + i) for i in range(2 * KEYS)]
            def fifo(n):
                lst.append(values[n % len(values)])
                if len(lst.pop(0)) != 64:
                    raise RuntimeError("pop failed")
            return dict(ok=True, rate=timed(a.seconds, fifo))
        d = m.dict()
        keys = ["key-%d" % i for i in range(KEYS)]
        for i, k in enumerate(keys):
            d[k] = value_of(i)
        d["counter"] = 0
        if a.mode == "dict-get":
            def get(n):
                if len(d[keys[n % KEYS]]) != 64:
                    raise RuntimeError("get failed")
            return dict(ok=True, rate=timed(a.seconds, get))
        if a.mode == "dict-set":
            values = [value_of(1000 + i) for i in range(2 * KEYS)]
            def put(n):
                d[keys[n % KEYS]] = values[n % len(values)]
            return dict(ok=True, rate=timed(a.seconds, put))
        lock = m.Lock()
        start = mp.Event()
        counts = mp.Array("q", 2)
        procs = [mp.Process(target=incrementer, args=(d, lock, start, a.seconds, counts, w)) for w in range(2)]
        for p in procs:
            p.start()
        t0 = time.monotonic_ns()
        start.set()
        for p in procs:
            p.join(120)
        secs = (time.monotonic_ns() - t0) / 1e9
        if any(p.exitcode != 0 for p in procs):
            raise RuntimeError("an incrementing process failed")
        if d["counter"] != counts[0] + counts[1]:
            raise RuntimeError("lost increments")
        return dict(ok=True, rate=(counts[0] + counts[1]) / secs)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("dict-get", "dict-set", "dict-incr", "list-fifo"), required=True)
    ap.add_argument("--seconds", type=float, default=0.5)
    report(run, ap.parse_args())
