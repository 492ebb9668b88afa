#!/usr/bin/env python3
"""bench/peers/mp_queue.py: Python's multiprocessing.Queue as a peer of polyipc_bench.

Run by the driver as a subprocess; prints one JSON object on stdout.
  --mode tput : P producers, C consumers (P == C), fixed duration after a warm-up
  --mode rtt  : ping-pong over two queues; round-trip percentiles in ns
Same protocol as the C++ peers: a warm-up, then a timed phase that starts at a
barrier, ended by one stop message per producer; rate = messages / (last
consumer's end - start).
"""
import argparse
import multiprocessing as mp
import resource
import time

from peer_report import latencies, report

WARM_END = "W"
STOP = None


def cpu_self():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def producer(q, size, seconds, warm_seconds, barrier, out):
    payload = b"p" * size
    put = q.put
    barrier.wait()  # start of the warm-up
    end = time.monotonic() + warm_seconds
    while time.monotonic() < end:
        for _ in range(16):
            put(payload)
    put(WARM_END)
    barrier.wait()  # start of the timed phase
    c0 = cpu_self()
    deadline = time.monotonic() + seconds
    n = 0
    check = 16 if size < 4096 else 1
    while time.monotonic() < deadline:
        for _ in range(check):
            put(payload)
        n += check
    put(STOP)
    out.put(("p", n, 0.0, cpu_self() - c0))


def consumer(q, size, barrier, out):
    get = q.get
    barrier.wait()
    while True:
        m = get()
        if m == WARM_END:
            break
    barrier.wait()
    c0 = cpu_self()
    n = 0
    while True:
        m = get()
        if m is None:
            break
        if len(m) != size:
            raise SystemExit("wrong message length %d" % len(m))
        n += 1
    out.put(("c", n, time.monotonic(), cpu_self() - c0))


def ponger(qa, qb):
    get, put = qa.get, qb.put
    while True:
        m = get()
        if m is None:
            break
        put(m)


def run_tput(a):
    P, C = a.producers, a.consumers
    maxsize = max(16, min(10000, (4 << 20) // max(a.size, 1)))
    q = mp.Queue(maxsize=maxsize)
    out = mp.Queue()
    barrier = mp.Barrier(P + C + 1)
    procs = [mp.Process(target=producer, args=(q, a.size, a.seconds, a.warm_seconds, barrier, out)) for _ in range(P)]
    procs += [mp.Process(target=consumer, args=(q, a.size, barrier, out)) for _ in range(C)]
    for p in procs:
        p.start()
    barrier.wait()
    barrier.wait()
    t0 = time.monotonic()
    res = [out.get(timeout=a.seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    sent = sum(r[1] for r in res if r[0] == "p")
    got = sum(r[1] for r in res if r[0] == "c")
    tend = max(r[2] for r in res if r[0] == "c")
    cpu = sum(r[3] for r in res)
    if sent != got:
        raise SystemExit("sent %d received %d" % (sent, got))
    secs = tend - t0
    return {"ok": True, "msgs": got, "seconds": secs, "rate": got / secs, "cpu": cpu / secs}


def run_rtt(a):
    qa, qb = mp.Queue(), mp.Queue()
    p = mp.Process(target=ponger, args=(qa, qb))
    p.start()
    payload = b"p" * a.size
    lat = []
    clock = time.perf_counter_ns
    put, get = qa.put, qb.get
    c0 = cpu_self()
    t0 = time.monotonic()
    for i in range(a.warm + a.iters):
        s = clock()
        put(payload)
        get()
        e = clock()
        if i >= a.warm:
            lat.append(e - s)
    secs = time.monotonic() - t0
    put(STOP)
    p.join()
    n = len(lat)
    return dict(ok=True, msgs=n, seconds=secs, rate=n / secs, cpu=(cpu_self() - c0) / secs, **latencies(lat))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["tput", "rtt"], required=True)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("--warm-seconds", type=float, default=0.1)
    ap.add_argument("--producers", type=int, default=1)
    ap.add_argument("--consumers", type=int, default=1)
    ap.add_argument("--iters", type=int, default=20000)
    ap.add_argument("--warm", type=int, default=2000)
    report(lambda a: run_tput(a) if a.mode == "tput" else run_rtt(a), ap.parse_args())

if __name__ == "__main__":
    main()
