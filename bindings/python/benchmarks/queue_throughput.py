#!/usr/bin/env python3
"""Queue throughput, polyipc against multiprocessing.Queue, in one run.

  1 producer process -> 1 consumer process, 64-byte payloads:
    bytes: b"x" * 64 each way
    json:  a dict whose compact JSON is 64 bytes (polyipc: json.dumps/loads
           included; multiprocessing: pickle, as it does)
  and, in one process, put+get pairs of the same messages.

usage: PYTHONPATH=<build>/bindings/python/package python3 queue_throughput.py [MESSAGES]
The queues live in a namespace of their own and are unlinked at the end.
"""

import json
import multiprocessing
import os
import sys
import time
import uuid

if __name__ == "__main__":  # not in the spawned children: they inherit it
    os.environ["POLYIPC_NAMESPACE"] = f"bench-python-{os.getpid()}"

import polyipc  # noqa: E402

PAYLOAD = b"x" * 64
OBJ = {"id": 123456, "kind": "bench", "payload": "x" * 23}
assert len(json.dumps(OBJ, separators=(",", ":"))) == 64, len(json.dumps(OBJ, separators=(",", ":")))
CAPACITY = 8 << 20


BATCH = 256


def _polyipc_producer(name, count, kind, go, batch):
    with polyipc.Queue(name, create=False) as q:
        msg = PAYLOAD if kind == "bytes" else OBJ
        go.wait()
        if batch:
            chunk = [msg] * batch
            for _ in range(count // batch):
                q.put_many(chunk)
            q.put_many([msg] * (count % batch))
        else:
            put = q.put
            for _ in range(count):
                put(msg)


def _mp_producer(q, count, kind, go):
    msg = PAYLOAD if kind == "bytes" else OBJ
    go.wait()
    put = q.put
    for _ in range(count):
        put(msg)
    q.close()
    q.join_thread()


def cross_process_polyipc(kind, count, batch=0):
    ctx = multiprocessing.get_context("spawn")
    name = f"bench.{kind}.{uuid.uuid4().hex[:8]}"
    go = ctx.Event()
    with polyipc.Queue(name, format=polyipc.BYTES if kind == "bytes" else polyipc.JSON, capacity_bytes=CAPACITY) as q:
        try:
            producer = ctx.Process(target=_polyipc_producer, args=(name, count, kind, go, batch))
            producer.start()
            get, get_many = q.get, q.get_many
            start = time.perf_counter()
            go.set()
            if batch:
                got = 0
                while got < count:
                    got += len(get_many(batch, timeout=60))
            else:
                for _ in range(count):
                    get(timeout=60)
            elapsed = time.perf_counter() - start
            producer.join()
        finally:
            polyipc.unlink(name)
    return count / elapsed


def cross_process_multiprocessing(kind, count):
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    go = ctx.Event()
    producer = ctx.Process(target=_mp_producer, args=(q, count, kind, go))
    producer.start()
    get = q.get
    start = time.perf_counter()
    go.set()
    for _ in range(count):
        get(timeout=60)
    elapsed = time.perf_counter() - start
    producer.join()
    return count / elapsed


def one_process_polyipc(kind, count):
    name = f"bench.one.{kind}.{uuid.uuid4().hex[:8]}"
    with polyipc.Queue(name, format=polyipc.BYTES if kind == "bytes" else polyipc.JSON, capacity_bytes=CAPACITY) as q:
        try:
            msg = PAYLOAD if kind == "bytes" else OBJ
            put, get = q.put, q.get
            start = time.perf_counter()
            for _ in range(count):
                put(msg)
                get()
            elapsed = time.perf_counter() - start
        finally:
            polyipc.unlink(name)
    return count / elapsed


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"{count} messages of 64 bytes, polyipc {polyipc.__version__}, Python {sys.version.split()[0]}")
    for kind in ("bytes", "json"):
        theirs = cross_process_multiprocessing(kind, count)
        print(f"{kind:5} 1 producer -> 1 consumer process: multiprocessing.Queue {theirs:10,.0f} msg/s")
        ours = cross_process_polyipc(kind, count)
        print(f"{kind:5} 1 producer -> 1 consumer process: polyipc put/get        {ours:10,.0f} msg/s"
              f"   {ours / theirs:5.1f}x")
        ours = cross_process_polyipc(kind, count, BATCH)
        print(f"{kind:5} 1 producer -> 1 consumer process: polyipc *_many({BATCH})   {ours:10,.0f} msg/s"
              f"   {ours / theirs:5.1f}x")
    for kind in ("bytes", "json"):
        print(f"{kind:5} put+get in one process:            polyipc {one_process_polyipc(kind, count):10,.0f} msg/s")


if __name__ == "__main__":
    main()
