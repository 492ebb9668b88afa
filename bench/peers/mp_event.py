#!/usr/bin/env python3
"""bench/peers/mp_event.py: Python's multiprocessing.Event as a peer of polyipc_sync_bench.

Run by the driver (bench/sync) as a subprocess; prints one JSON object on stdout.
Set-to-wake latency across two processes, measured as the C++ peers are:
  - the waiter sets `ready` (a second Event: the way back) and then waits on `ev`;
  - the setter waits for `ready`, clears it, busy-waits a random 50..200 us (a
    measurement delay so that the waiter is blocked, not a synchronisation),
    records time.monotonic_ns() (CLOCK_MONOTONIC) and sets `ev`;
  - the waiter records time.monotonic_ns() as soon as wait() returns, clears `ev`
    and announces the next round.
Latency of a round = wake timestamp - set timestamp; percentiles in ns.
"""
import argparse
import multiprocessing as mp
import random
import time

from peer_report import latencies, report


def waiter(ev, ready, t_wake, n):
    now = time.monotonic_ns
    for i in range(n):
        ready.set()
        ev.wait()
        t_wake[i] = now()
        ev.clear()


def run(a):
    n = a.warm + a.rounds
    ev, ready = mp.Event(), mp.Event()
    t_wake = mp.RawArray("q", n)
    t_set = [0] * n
    p = mp.Process(target=waiter, args=(ev, ready, t_wake, n))
    p.start()
    rng = random.Random(12345)
    now = time.monotonic_ns
    t0 = time.monotonic()
    for i in range(n):
        if not ready.wait(60):
            raise RuntimeError("waiter did not announce round %d" % i)
        ready.clear()
        until = now() + rng.randint(a.delay_min_us, a.delay_max_us) * 1000
        while now() < until:  # busy-wait: a measurement delay
            pass
        t_set[i] = now()
        ev.set()
    p.join(60)
    if p.exitcode != 0:
        raise RuntimeError("waiter exit code %s" % p.exitcode)
    secs = time.monotonic() - t0
    lat = [t_wake[i] - t_set[i] for i in range(a.warm, n)]
    return dict(ok=True, rounds=len(lat), seconds=secs, **latencies(lat))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--warm", type=int, default=100)
    ap.add_argument("--delay-min-us", type=int, default=50)
    ap.add_argument("--delay-max-us", type=int, default=200)
    report(run, ap.parse_args())

if __name__ == "__main__":
    main()
