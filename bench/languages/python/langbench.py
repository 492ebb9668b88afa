#!/usr/bin/env python3
"""bench/languages/python: put+get of 64-byte messages through the Python binding,
and multiprocessing.Queue with the same protocol (see ../c/langbench.c).

usage: PYTHONPATH=<build>/bindings/python/package python3 langbench.py ROLE N NAME [WARMUP] [--variant V]
  ROLE     single | producer | consumer    polyipc (one process / one role of two)
           mp                              multiprocessing.Queue: forks 1 producer + 1 consumer itself
  variant  text    (default) JSON queue, the 64-byte JSON text as str in, bytes out
                   (put_bytes / get_bytes: no encoding, the library validates)
           object  JSON queue, a dict whose compact JSON is 64 bytes: put(obj) / get(), so
                   json.dumps/loads (the binding's stdlib codec) are included
           bytes   BYTES queue, b"x" * 64: put / get
           bytes-batch, object-batch   producer/consumer only: put_many / get_many of
                   BATCH (256) messages per call (informational: not one message per call)
           for mp: bytes (b"x" * 64) or object (the same dict, pickled by multiprocessing)
Prints one JSON line.
"""

import json
import multiprocessing as mp
import os
import sys
import time

TEXT = '{"id":123456,"kind":"bench","payload":"xxxxxxxxxxxxxxxxxxxxxxx"}'
OBJ = {"id": 123456, "kind": "bench", "payload": "x" * 23}
PAYLOAD = b"x" * 64
assert len(TEXT) == 64 and json.dumps(OBJ, separators=(",", ":")) == TEXT
CAPACITY = 4 << 20
BATCH = 256
VARIANTS = ("text", "object", "bytes", "bytes-batch", "object-batch")
clock = time.perf_counter  # CLOCK_MONOTONIC


def out(**kw):
    print(json.dumps(dict(lang="python", **kw)), flush=True)


# ---- polyipc --------------------------------------------------------------------
def polyipc_calls(variant, name):
    import polyipc

    fmt = polyipc.BYTES if variant.startswith("bytes") else polyipc.JSON
    q = polyipc.Queue(name, format=fmt, capacity_bytes=CAPACITY)
    if variant == "text":
        msg, put, get = TEXT, q.put_bytes, q.get_bytes
    elif variant.startswith("object"):
        msg, put, get = OBJ, q.put, q.get
    else:
        msg, put, get = PAYLOAD, q.put, q.get
    return polyipc, q, msg, put, get


def run_batch(role, n, name, warm, variant):
    polyipc, q, msg, _, _ = polyipc_calls(variant, name)
    a = polyipc.Queue(name + ".ack", format=polyipc.JSON, capacity_bytes=CAPACITY)
    put_many, get_many = q.put_many, q.get_many
    chunk = [msg] * BATCH
    if role == "producer":
        for k in range(0, warm, BATCH):
            put_many(chunk[:min(BATCH, warm - k)])
        a.get_bytes()
        t0 = clock()
        for k in range(0, n, BATCH):
            put_many(chunk if n - k >= BATCH else chunk[:n - k])
        t1 = clock()
        m = msg
    elif role == "consumer":
        got = 0
        while got < warm:
            got += len(get_many(min(BATCH, warm - got)))
        t0 = clock()
        a.put_bytes(b"1")
        got = 0
        while got < n:
            ms = get_many(min(BATCH, n - got))
            got += len(ms)
        t1 = clock()
        m = ms[-1]
        polyipc.unlink(name)
        polyipc.unlink(name + ".ack")
    else:
        raise SystemExit(f"langbench.py: variant {variant} is for producer/consumer")
    a.close()
    q.close()
    if (m != msg) if variant.startswith("object") else len(m) != 64:
        raise SystemExit(f"langbench.py: wrong message {m!r}")
    out(mode=role, variant=variant, ok=True, n=n, seconds=t1 - t0, rate=n / (t1 - t0))


def run_polyipc(role, n, name, warm, variant):
    if variant.endswith("-batch"):
        return run_batch(role, n, name, warm, variant)
    polyipc, q, msg, put, get = polyipc_calls(variant, name)
    ack = name + ".ack"
    if role == "single":
        for _ in range(warm):
            put(msg)
            get()
        t0 = clock()
        for _ in range(n):
            put(msg)
            m = get()
        t1 = clock()
        q.close()
        polyipc.unlink(name)
    elif role == "producer":
        a = polyipc.Queue(ack, format=polyipc.JSON, capacity_bytes=CAPACITY)
        for _ in range(warm):
            put(msg)
        a.get_bytes()
        t0 = clock()
        for _ in range(n):
            put(msg)
        t1 = clock()
        m = msg
        a.close()
        q.close()
    elif role == "consumer":
        a = polyipc.Queue(ack, format=polyipc.JSON, capacity_bytes=CAPACITY)
        for _ in range(warm):
            get()
        t0 = clock()
        a.put_bytes(b"1")
        for _ in range(n):
            m = get()
        t1 = clock()
        a.close()
        q.close()
        polyipc.unlink(name)
        polyipc.unlink(ack)
    else:
        raise SystemExit(f"langbench.py: unknown role {role}")
    if (m != msg) if variant == "object" else len(m) != 64:  # the last message, checked once
        raise SystemExit(f"langbench.py: wrong message {m!r}")
    out(mode=role, variant=variant, ok=True, n=n, seconds=t1 - t0, rate=n / (t1 - t0))


# ---- multiprocessing.Queue, same protocol ----------------------------------------
def _mp_producer(q, ack, n, warm, variant):
    msg = PAYLOAD if variant == "bytes" else OBJ
    put = q.put
    for _ in range(warm):
        put(msg)
    ack.get()
    for _ in range(n):
        put(msg)
    q.close()
    q.join_thread()


def _mp_consumer(q, ack, n, warm, variant, results):
    get = q.get
    for _ in range(warm):
        get()
    t0 = clock()
    ack.put(1)
    for _ in range(n):
        m = get()
    t1 = clock()
    ok = (m == OBJ) if variant == "object" else len(m) == 64
    results.put((ok, t1 - t0))


def run_mp(n, warm, variant):
    if variant not in ("bytes", "object"):
        raise SystemExit("langbench.py mp: variant is bytes or object")
    ctx = mp.get_context("fork")
    q, ack, results = ctx.Queue(), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=_mp_consumer, args=(q, ack, n, warm, variant, results)),
             ctx.Process(target=_mp_producer, args=(q, ack, n, warm, variant))]
    for p in procs:
        p.start()
    ok, secs = results.get(timeout=300)
    for p in procs:
        p.join()
    if not ok:
        raise SystemExit("langbench.py mp: wrong message")
    out(mode="mp", variant=variant, ok=True, n=n, seconds=secs, rate=n / secs)


def main():
    args = sys.argv[1:]
    variant = "text"
    if "--variant" in args:
        i = args.index("--variant")
        variant = args[i + 1]
        del args[i:i + 2]
    if len(args) < 2 or variant not in VARIANTS:
        print(__doc__, file=sys.stderr)
        raise SystemExit(2)
    role, n = args[0], int(args[1])
    if role == "mp":
        warm = int(args[2]) if len(args) > 2 else 20000
        run_mp(n, warm, variant)
        return
    if len(args) < 3:
        print(__doc__, file=sys.stderr)
        raise SystemExit(2)
    name = args[2]
    warm = int(args[3]) if len(args) > 3 else 20000
    try:
        run_polyipc(role, n, name, warm, variant)
    except Exception as e:  # one JSON line whatever happens
        out(mode=role, variant=variant, ok=False, error=f"{type(e).__name__}: {e}")
        raise


if __name__ == "__main__":
    main()
