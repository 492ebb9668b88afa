#!/usr/bin/env python3
"""bench/peers/mp_pool.py: Python's multiprocessing.Pool as a peer of polyipc_pool_bench.

Run by the driver (bench/pool) as a subprocess; prints one JSON object on stdout.
The same work as the polyipc cells: tasks add(i, i) on a pool of --workers
processes (forked, started before timing);
  - rtt:  one task at a time, apply(); latency of each in ns;
  - tput: up to --outstanding tasks in flight (apply_async; the oldest result
          is waited for when the window is full) for --seconds; tasks/s;
  - map:  starmap of --map-tasks tasks, --chunk to a chunk, repeated for
          --seconds; tasks/s.
"""
import argparse
import collections
import multiprocessing as mp
import time

from peer_report import latencies, report


def add(a, b):
    return a + b


def run(a):
    with mp.Pool(a.workers) as pool:
        pool.apply(add, (0, 0))  # every worker started
        now = time.monotonic_ns
        if a.mode == "rtt":
            lat = []
            for i in range(a.warm + a.rounds):
                t0 = now()
                if pool.apply(add, (i, i)) != 2 * i:
                    raise RuntimeError("wrong result")
                if i >= a.warm:
                    lat.append(now() - t0)
            return dict(ok=True, rounds=len(lat), **latencies(lat))
        if a.mode == "map":
            calls = [(i, i) for i in range(a.map_tasks)]
            want = [2 * i for i in range(a.map_tasks)]
            done = 0
            t0 = now()
            end = t0 + int(a.seconds * 1e9)
            while True:
                if pool.starmap(add, calls, chunksize=a.chunk) != want:
                    raise RuntimeError("wrong result")
                done += a.map_tasks
                if now() >= end:
                    break
            secs = (now() - t0) / 1e9
            return dict(ok=True, tasks=done, seconds=secs, rate=done / secs)
        window = collections.deque()
        done = i = 0
        t0 = now()
        end = t0 + int(a.seconds * 1e9)
        while True:
            while len(window) < a.outstanding:
                window.append((i, pool.apply_async(add, (i, i))))
                i += 1
            k, r = window.popleft()
            if r.get(60) != 2 * k:
                raise RuntimeError("wrong result")
            done += 1
            if (done & 63) == 0 and now() >= end:
                break
        secs = (now() - t0) / 1e9
        for k, r in window:
            r.get(60)
        return dict(ok=True, tasks=done, seconds=secs, rate=done / secs)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("rtt", "tput", "map"), required=True)
    ap.add_argument("--map-tasks", type=int, default=100000)
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5000)
    ap.add_argument("--warm", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--outstanding", type=int, default=64)
    report(run, ap.parse_args())
