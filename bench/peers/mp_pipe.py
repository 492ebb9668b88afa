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
import multiprocessing as mp
import time

from peer_report import latencies, report


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
    return dict(ok=True, iters=len(lat), seconds=secs, **latencies(lat))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=20000)
    ap.add_argument("--warm", type=int, default=2000)
    ap.add_argument("--size", type=int, default=64)
    report(run, ap.parse_args())

if __name__ == "__main__":
    main()
