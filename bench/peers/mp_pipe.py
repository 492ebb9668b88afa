#!/usr/bin/env python3
"""bench/peers/mp_pipe.py: Python's multiprocessing.Pipe as a peer of polyipc_ipc_bench.

Run by the driver (bench/ipc) as a subprocess; prints one JSON object on stdout.
Round trips of a 64-byte message between two processes, measured as the C++
peers are:
  - a duplex multiprocessing.Pipe(); the child (fork) echoes every message
    with recv_bytes()/send_bytes() until EOFError;
  - the parent sends the message with send_bytes() and waits for the echo with
    recv_bytes(); latency of a round trip = time.monotonic_ns() (CLOCK_MONOTONIC)
    after recv_bytes returns - the same before send_bytes;
  - --warm round trips first, not recorded; percentiles in ns.
"""
import argparse
import json
import multiprocessing as mp
import sys
import time


def ponger(conn, other):
    other.close()  # the parent's end: EOF reaches us once the parent closes its copy
    try:
        while True:
            conn.send_bytes(conn.recv_bytes())
    except EOFError:
        pass


def run(a):
    parent, child = mp.Pipe(duplex=True)
    p = mp.Process(target=ponger, args=(child, parent))
    p.start()
    child.close()
    msg = bytes((97 + i % 26) for i in range(a.size))
    n = a.warm + a.iters
    lat = [0] * a.iters
    now = time.monotonic_ns
    send, recv = parent.send_bytes, parent.recv_bytes
    t0 = time.monotonic()
    for i in range(n):
        t_a = now()
        send(msg)
        r = recv()
        t_b = now()
        if i >= a.warm:
            lat[i - a.warm] = t_b - t_a
    secs = time.monotonic() - t0
    if len(r) != a.size:
        raise RuntimeError("echo of %d bytes, expected %d" % (len(r), a.size))
    parent.close()
    p.join(60)
    if p.exitcode != 0:
        raise RuntimeError("ponger exit code %s" % p.exitcode)
    lat.sort()
    m = len(lat)
    pct = lambda q: float(lat[min(m - 1, int(q * m))])
    return {"ok": True, "iters": m, "seconds": secs, "p50": pct(0.5), "p99": pct(0.99), "p999": pct(0.999),
            "mean": sum(lat) / m, "max": float(lat[-1]), "min": float(lat[0])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=20000)
    ap.add_argument("--warm", type=int, default=2000)
    ap.add_argument("--size", type=int, default=64)
    a = ap.parse_args()
    if mp.get_start_method(allow_none=True) is None:
        mp.set_start_method("fork")
    try:
        r = run(a)
    except BaseException as e:  # report, never hang the driver
        r = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
    print(json.dumps(r))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
