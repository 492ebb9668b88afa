#!/usr/bin/env python3
"""The Python interop agent: the `polyipc` package and the json module.
Messages and command lines: see ../README.md."""

import json
import multiprocessing
import os
import struct
import sys
import threading
import time
import warnings

import polyipc

LANG = "python"
INT64_MIN, INT64_MAX = -9223372036854775808, 9223372036854775807
TIMEOUT = float(os.environ.get("POLYIPC_INTEROP_TIMEOUT", "60"))

FIXED = "héllo wörld — 漢字かな한글 😀🎉 👩\u200d💻 e\u0301 𝄞 \U0010FFFF"
ESCAPES = ("quote\" backslash\\ slash/ bs\b ff\f nl\n cr\r tab\t nul\x00 us\x1f del\x7f "
           "ls\u2028 ps\u2029 <&>")


def message(producer, i):
    m = {
        "seq": i,
        "producer": producer,
        "ints": [INT64_MIN, INT64_MAX, INT64_MAX - i, INT64_MIN + i, i * 1000000007, -i, 0],
        "doubles": [1.7976931348623157e308, 5e-324, -0.0, 2.2250738585072014e-308,
                    (i + 0.5) / 7.0, -((i + 1) * 1e-300), (i + 1) * 1e21, i + 0.25],
        "flags": [True, False, None],
        "strings": {
            "fixed": FIXED,
            "escapes": ESCAPES,
            "computed": (chr(0x4E00 + i % 20902) + chr(0x1F600 + i % 80) + "a" + chr(0x0301)
                         + chr(0xAC00 + i % 11172) + chr(0x10000 + (i * 7919) % 0x100000)),
            "empty": "",
        },
        "ключ🔑": i,
        "nested": {"a": {"b": {"c": {"d": [i, {"e": [[], {}, None, True, False]}, [[["deep"]]]]}}}},
        "list": list(range(i % 10)),
    }
    if i % 1000 == 999:
        m["big"] = "ü" * 20000 + "|" + str(i)
    return m


def show(v):
    s = repr(v)
    return s if len(s) <= 120 else s[:117] + "..."


def kind(v):
    if v is None or isinstance(v, bool):
        return "literal"
    return {int: "integer", float: "double", str: "string", list: "array", dict: "object"}.get(type(v), type(v).__name__)


def diff(got, want, path="$"):
    """None when equal, else a description of the first difference."""
    if want is None or isinstance(want, bool):
        if got is want:
            return None
    elif type(want) is int:
        if type(got) is int and got == want:
            return None
    elif type(want) is float:
        if type(got) is float and struct.pack("<d", got) == struct.pack("<d", want):
            return None
    elif isinstance(want, str):
        if isinstance(got, str) and got == want:
            return None
    elif isinstance(want, list):
        if isinstance(got, list):
            if len(got) != len(want):
                return f"{path}: array of {len(got)} elements, want {len(want)}"
            for k, (g, w) in enumerate(zip(got, want)):
                d = diff(g, w, f"{path}[{k}]")
                if d:
                    return d
            return None
    elif isinstance(want, dict):
        if isinstance(got, dict):
            for k in want:
                if k not in got:
                    return f"{path}: key {k!r} missing"
            for k in got:
                if k not in want:
                    return f"{path}: unexpected key {k!r}"
            for k in want:
                d = diff(got[k], want[k], f"{path}.{k}")
                if d:
                    return d
            return None
    return f"{path}: got {show(got)} ({kind(got)}), want {show(want)} ({kind(want)})"


class Failure(Exception):
    pass


def check(msg, producer, seq):
    if not isinstance(msg, dict):
        raise Failure(f"message #{seq}: not an object: {show(msg)}")
    d = diff(msg, message(producer, seq))
    if d:
        raise Failure(f"message {producer}#{seq}: {d}")


def produce(queue, n, ident):
    q = polyipc.Queue(queue)
    try:
        for i in range(n):
            q.put(message(ident, i), timeout=TIMEOUT)
    finally:
        q.close()
    print(f"python: produced {n} messages on {queue}")


def get(q, what):
    try:
        return q.get(timeout=TIMEOUT)
    except polyipc.Empty:
        raise Failure(f"{what}: nothing came within {TIMEOUT:g} s") from None


def consume(queue, n, ident):
    q = polyipc.Queue(queue)
    try:
        for k in range(n):
            msg = get(q, f"waiting for message #{k}")
            if not isinstance(msg, dict) or msg.get("seq") != k or msg.get("producer") != ident:
                seq = msg.get("seq") if isinstance(msg, dict) else None
                prod = msg.get("producer") if isinstance(msg, dict) else None
                raise Failure(f"message #{k}: got seq {show(seq)} from {show(prod)}, want seq {k} from {ident!r}")
            check(msg, ident, k)
        try:
            extra = q.get(timeout=0)
            raise Failure(f"after {n} messages the queue still holds one: {show(extra)}")
        except polyipc.Empty:
            pass
    finally:
        q.close()
    print(f"python: ok {n} messages from {ident}")


def consume_until_closed(q, out, joinable, hang_after):
    last = {}
    got = []
    try:
        while True:
            if hang_after is not None and len(got) == hang_after:
                msg = get(q, "waiting for the job to hang on")
                print(f"took job {msg.get('producer')} {msg.get('seq')}", flush=True)
                while True:
                    time.sleep(3600)
            try:
                msg = get(q, f"waiting for message #{len(got)}")
            except polyipc.Closed:
                break
            if not isinstance(msg, dict) or not isinstance(msg.get("producer"), str) or type(msg.get("seq")) is not int:
                raise Failure(f"message #{len(got)}: no producer/seq: {show(msg)}")
            p, s = msg["producer"], msg["seq"]
            check(msg, p, s)
            if p in last and s <= last[p]:
                raise Failure(f"message {p}#{s} came after {p}#{last[p]}")
            last[p] = s
            got.append((p, s))
            if joinable:
                q.task_done()
    finally:
        with open(out, "w") as f:
            f.writelines(f"{p} {s}\n" for p, s in got)
    print(f"python: ok {len(got)} messages, end of stream")


# ---- synchronisation scenarios (../README.md, "Synchronisation scenarios") -------------
class SyncFailure(Exception):
    pass


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise SyncFailure(f"cannot read {path}: {e}") from None


def write_json(path, obj):
    """Atomically: a kill never leaves a torn file."""
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f)
    os.replace(tmp, path)


def hang():
    print("holding", flush=True)
    while True:
        time.sleep(3600)  # until killed


def tickets(lock_name, path, ident, hang_holding):
    lock = polyipc.Lock(lock_name)
    bought = 0
    try:
        while True:
            if not lock.acquire(timeout=TIMEOUT):
                raise SyncFailure(f"lock {lock_name}: not acquired within {TIMEOUT:g} s")
            dead = lock.previous_owner_died  # this acquire reported OWNER_DEAD
            try:
                state = read_json(path)
                if state.get("pending") is not None:
                    if not dead:
                        raise SyncFailure(f"{path}: a torn sale ({state['pending']}) without a dead holder")
                    p = state["pending"]
                    state.update(remaining=p["remaining"], sold=p["sold"], buyers=p["buyers"],
                                 repairs=state.get("repairs", 0) + 1, pending=None)
                    write_json(path, state)
                if state["remaining"] == 0:
                    break
                before = {"remaining": state["remaining"], "sold": state["sold"], "buyers": dict(state["buyers"])}
                state["remaining"] -= 1
                state["sold"] += 1
                state["buyers"][ident] = state["buyers"].get(ident, 0) + 1
                state["pending"] = before
                write_json(path, state)
                if hang_holding:
                    hang()
                state["pending"] = None
                write_json(path, state)
                bought += 1
            finally:
                lock.release()
    finally:
        lock.close()
    print(f"tickets {ident}: bought {bought}")


def semaphore(sem_name, log_name, ident, iterations, hang_holding):
    sem = polyipc.Semaphore(sem_name, 3)
    log = polyipc.Queue(log_name)
    pid = os.getpid()
    try:
        for _ in range(1 if hang_holding else iterations):
            if not sem.acquire(timeout=TIMEOUT):
                raise SyncFailure(f"semaphore {sem_name}: no slot within {TIMEOUT:g} s")
            try:
                log.put({"id": ident, "pid": pid, "ev": "enter"}, timeout=TIMEOUT)
                if hang_holding:
                    hang()
                # Inside for a moment: 20 yields and at least 2 ms, so that processes started
                # apart still overlap and the 3 slots are really contended.
                inside_until = time.monotonic() + 0.002
                k = 0
                while k < 20 or time.monotonic() < inside_until:
                    time.sleep(0)  # a yield: others may enter meanwhile
                    k += 1
                log.put({"id": ident, "pid": pid, "ev": "exit"}, timeout=TIMEOUT)
            finally:
                sem.release()
    finally:
        sem.close()
        log.close()
    print(f"semaphore {ident}: {iterations} iterations")


def event_wait(event_name, ready_name, ident):
    with polyipc.Event(event_name) as ev, polyipc.Queue(ready_name) as ready:
        ready.put({"id": ident}, timeout=TIMEOUT)
        if not ev.wait(TIMEOUT):
            raise SyncFailure(f"event {event_name}: not set within {TIMEOUT:g} s")
    print(f"event {ident}: woken")


def event_set(event_name, ident):
    with polyipc.Event(event_name) as ev:
        ev.set()
    print(f"event {ident}: set")


def barrier(barrier_name, parties, rounds, out, ident):
    indexes = []
    with polyipc.Barrier(barrier_name, parties) as b:
        for r in range(rounds):
            try:
                indexes.append(b.wait(TIMEOUT))
            except polyipc.BarrierTimeout:
                raise SyncFailure(f"barrier {barrier_name}: round {r}: not all {parties} parties came "
                                  f"within {TIMEOUT:g} s") from None
            except polyipc.Broken as e:
                raise SyncFailure(f"barrier {barrier_name}: round {r}: {e}") from None
    with polyipc.Queue(out) as q:
        q.put({"id": ident, "indexes": indexes}, timeout=TIMEOUT)
    print(f"barrier {ident}: {rounds} rounds")


def barrier_timeout(barrier_name, parties, timeout_ms, ident):
    with polyipc.Barrier(barrier_name, parties) as b:
        try:
            b.wait(timeout_ms / 1000.0)
        except polyipc.BarrierTimeout:
            print(f"barrier {ident}: timeout")
            return 0
        except polyipc.Broken:
            print(f"barrier {ident}: broken")
            return 0
    print(f"barrier {ident}: passed")
    return 1


def condition(cond_name, path, n, ident, produce):
    state = {}

    def ready():
        state.update(read_json(path))
        return len(state["items"]) < state["capacity"] if produce else len(state["items"]) > 0

    cond = polyipc.Condition(cond_name)  # bound to the default lock COND.lock
    try:
        for i in range(n):
            if not cond.acquire(timeout=TIMEOUT):
                raise SyncFailure(f"condition {cond_name}: lock not acquired within {TIMEOUT:g} s")
            try:
                if not cond.wait_for(ready, TIMEOUT):
                    raise SyncFailure(f"condition {cond_name}: item {i}: "
                                      f"{'no room' if produce else 'nothing'} within {TIMEOUT:g} s")
                if produce:
                    state["items"].append(i)
                else:
                    got = state["items"].pop(0)
                    if got != i:
                        raise SyncFailure(f"condition {cond_name}: took {got!r}, want {i}")
                write_json(path, state)
                cond.notify_all()
            finally:
                cond.release()
    finally:
        cond.close()
    print(f"condition {ident}: {'produced' if produce else 'consumed'} {n}")


SYNC_USAGE = ("tickets LOCK FILE ID [--hang] | semaphore SEM LOG ID ITERATIONS [--hang] | "
              "event-wait EVENT READY ID | event-set EVENT ID | barrier BARRIER PARTIES ROUNDS OUT ID | "
              "barrier-timeout BARRIER PARTIES TIMEOUT_MS ID | condition-produce|condition-consume COND FILE N ID")


def sync_main(argv):
    """Runs a synchronisation sub-command; None when argv is not one."""
    cmd, args = argv[1], argv[2:]
    hang_flag = bool(args) and args[-1] == "--hang"
    if hang_flag:
        args = args[:-1]
    try:
        if cmd == "tickets" and len(args) == 3:
            tickets(args[0], args[1], args[2], hang_flag)
        elif cmd == "semaphore" and len(args) == 4:
            semaphore(args[0], args[1], args[2], int(args[3]), hang_flag)
        elif hang_flag:
            raise SystemExit(f"python agent: --hang is for tickets and semaphore: {' '.join(argv[1:])}")
        elif cmd == "event-wait" and len(args) == 3:
            event_wait(*args)
        elif cmd == "event-set" and len(args) == 2:
            event_set(*args)
        elif cmd == "barrier" and len(args) == 5:
            barrier(args[0], int(args[1]), int(args[2]), args[3], args[4])
        elif cmd == "barrier-timeout" and len(args) == 4:
            return barrier_timeout(args[0], int(args[1]), int(args[2]), args[3])
        elif cmd in ("condition-produce", "condition-consume") and len(args) == 4:
            condition(args[0], args[1], int(args[2]), args[3], cmd == "condition-produce")
        elif cmd in ("tickets", "semaphore", "event-wait", "event-set", "barrier", "barrier-timeout",
                     "condition-produce", "condition-consume"):
            raise SystemExit(f"python agent: bad command line: {' '.join(argv[1:])}\nusage: agent {SYNC_USAGE}")
        else:
            return None
    except (SyncFailure, polyipc.PolyipcError, ValueError) as e:
        print(f"FAIL: python {cmd}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


# ---- pipe and shared-memory scenarios (README: "Pipe and shared-memory scenarios") ----

def pipe_end(name, end):
    # OPEN_OR_CREATE with the default options (duplex, JSON), as every agent
    return polyipc.Connection(name, end, create=True)


def recv_within(conn, what):
    """The next message; None at end of stream (EOFError)."""
    if not conn.poll(TIMEOUT):
        raise SyncFailure(f"{what}: nothing within {TIMEOUT:g} s")
    try:
        return conn.recv()
    except EOFError:
        return None


def pipe_ping(name, n, ident, pong):
    with pipe_end(name, "b" if pong else "a") as c:
        for i in range(n):
            if not pong:
                c.send({"seq": i, "ping": ident})
            m = recv_within(c, f"pipe {name}: message {i}")
            if m is None:
                raise SyncFailure(f"pipe {name}: end of stream after {i} messages")
            if not isinstance(m, dict) or m.get("seq") != i:
                raise SyncFailure(f"pipe {name}: expected seq {i}, got {show(m)}")
            if pong:
                c.send({"seq": i, "pong": ident})
    print(f"pipe {ident}: {n} {'replies' if pong else 'round trips'}")


def pipe_send(name, k, ident, hang_flag):
    c = pipe_end(name, "a")
    for i in range(k):
        c.send({"seq": i, "from": ident})
    print(f"pipe {ident}: sent {k}", flush=True)
    if hang_flag:
        hang()
    c.close()


def pipe_eof(name, ident):
    k = 0
    with pipe_end(name, "b") as c:
        while True:
            m = recv_within(c, f"pipe {name}: after {k} messages")
            if m is None:
                break
            if not isinstance(m, dict) or m.get("seq") != k:
                raise SyncFailure(f"pipe {name}: expected seq {k}, got {show(m)}")
            k += 1
    print(f"pipe {ident}: eof after {k} messages")


def shm_pattern(size, seed):
    period = bytes((i * 131 + seed) % 256 for i in range(256))
    return (period * (size // 256 + 1))[:size]


def shm_write(name, size, seed, ident):
    shm = polyipc.SharedMemory(name, create=True, size=size, exclusive=False)  # OPEN_OR_CREATE
    try:
        if shm.size != size:
            raise SyncFailure(f"shm {name}: size {shm.size}, expected {size}")
        shm.buf[:] = shm_pattern(size, seed)  # through the memoryview
    finally:
        shm.close()
    print(f"shm {ident}: wrote {size}")


def shm_check(name, size, seed, ident):
    shm = polyipc.SharedMemory(name)  # attach, whatever the size
    try:
        if shm.size != size:
            raise SyncFailure(f"shm {name}: size {shm.size}, expected {size}")
        got, want = bytes(shm.buf), shm_pattern(size, seed)
        if got != want:
            i = next(i for i in range(size) if got[i] != want[i])
            raise SyncFailure(f"shm {name}: byte {i} is {got[i]}, expected {want[i]}")
    finally:
        shm.close()
    print(f"shm {ident}: checked {size}")


def counter(name, n, ident):
    v = polyipc.Value("q", 0, name=name)  # int64, length 1, OPEN_OR_CREATE
    try:
        for _ in range(n):
            v.add(1)
    finally:
        v.close()
    print(f"counter {ident}: added {n}")


# The dict scenario (../README.md): each language's entry, under a key outside the BMP.
def dict_key(lang):
    return "\u043a\u043b\u044e\u0447\U0001F511." + lang


def dict_value(lang):
    return {"lang": lang,
            "text": "h\u00e9llo w\u00f6rld \U0001F600 \u6f22\u5b57 quote\" backslash\\ nl\n nul\u0000",
            "ints": [INT64_MIN, INT64_MAX, 0, -1],
            "doubles": [0.5, 1e300, -2.25],
            "flags": [True, False, None],
            "nested": {"a": [[], {}, [["deep"]]]}}


def dict_write(name, increments, ident):
    d = polyipc.Dict(name)  # OPEN_OR_CREATE, defaults
    try:
        d[dict_key(ident)] = dict_value(ident)
        for _ in range(increments):
            while True:  # get, then compare-and-set value+1 (from absent: 1) until it swaps
                old = d.get("counter", polyipc.ABSENT)
                if d.compare_and_set("counter", old, 1 if old is polyipc.ABSENT else old + 1):
                    break
    finally:
        d.close()
    print(f"dict {ident}: wrote, {increments} increments")


def dict_check(name, langs, ident):
    d = polyipc.Dict(name, create=False)
    try:
        others = langs.split(",")
        for other in others:
            text = d.get_json(dict_key(other))
            if text is None:
                raise SyncFailure(f"dict {name}: no entry of {other}")
            problem = diff(json.loads(text), dict_value(other))  # the json module, compared exactly
            if problem:
                raise SyncFailure(f"dict {name}: the entry of {other} differs: {problem}")
    finally:
        d.close()
    print(f"dict {ident}: checked {len(others)} entries")


# The list scenario (../README.md): each language appends {"from": ID, "seq": i}.
def list_append(name, n, ident):
    lst = polyipc.List(name)  # OPEN_OR_CREATE, defaults
    try:
        for i in range(n):
            lst.append({"from": ident, "seq": i})
    finally:
        lst.close()
    print(f"list {ident}: appended {n}")


def list_check(name, langs, n, ident):
    lst = polyipc.List(name, create=False)
    try:
        items = lst.snapshot()  # read once: one snapshot
    finally:
        lst.close()
    following = {lang: 0 for lang in langs.split(",")}  # language -> the seq its next value must have
    for v in items:
        if not isinstance(v, dict) or set(v) != {"from", "seq"} or type(v["seq"]) is not int:
            raise SyncFailure(f"list {name}: not a value of this scenario: {show(v)}")
        if v["from"] not in following:
            raise SyncFailure(f"list {name}: a value from an unknown language: {show(v)}")
        if v["seq"] != following[v["from"]]:
            raise SyncFailure(f"list {name}: out of order or lost: {show(v)}, "
                              f"expected seq {following[v['from']]} from {v['from']}")
        following[v["from"]] += 1
    for lang, count in following.items():
        if count != n:
            raise SyncFailure(f"list {name}: {lang} has {count} values, expected {n}")
    print(f"list {ident}: checked {len(items)} values")


def dict_relay(name, index, count, rounds, ident):
    """The watch scenario: a token round the languages through one dict; each
    turn waits in wait_change from the version read before the token."""
    d = polyipc.Dict(name)  # OPEN_OR_CREATE, defaults
    try:
        for r in range(rounds):
            turn = r * count + index
            while True:
                version = d.version
                token = d.get("token", 0)
                if token == turn:
                    break
                if token > turn:
                    raise SyncFailure(f"dict {name}: the token passed turn {turn}: {token}")
                if d.wait_change(version, timeout=60) == version:
                    raise SyncFailure(f"dict {name}: no change for 60 s while waiting for turn {turn}")
            d["token"] = turn + 1
    finally:
        d.close()
    print(f"relay {ident}: {rounds} turns")


IPC_USAGE = ("pipe-ping|pipe-pong PIPE N ID | pipe-send PIPE K ID [--hang] | pipe-eof PIPE ID | "
             "shm-write|shm-check SHM SIZE SEED ID | counter ARRAY N ID | dict-write DICT N ID | "
             "dict-check DICT LANGS ID | list-append LIST N ID | list-check LIST LANGS N ID | "
             "dict-relay DICT INDEX COUNT ROUNDS ID")


def ipc_main(argv):
    """Runs a pipe / shared-memory sub-command; None when argv is not one."""
    cmd, args = argv[1], argv[2:]
    try:
        if cmd in ("pipe-ping", "pipe-pong") and len(args) == 3:
            pipe_ping(args[0], int(args[1]), args[2], cmd == "pipe-pong")
        elif cmd == "pipe-send" and len(args) in (3, 4) and (len(args) == 3 or args[3] == "--hang"):
            pipe_send(args[0], int(args[1]), args[2], len(args) == 4)
        elif cmd == "pipe-eof" and len(args) == 2:
            pipe_eof(*args)
        elif cmd in ("shm-write", "shm-check") and len(args) == 4:
            (shm_write if cmd == "shm-write" else shm_check)(args[0], int(args[1]), int(args[2]), args[3])
        elif cmd == "counter" and len(args) == 3:
            counter(args[0], int(args[1]), args[2])
        elif cmd == "dict-write" and len(args) == 3:
            dict_write(args[0], int(args[1]), args[2])
        elif cmd == "dict-check" and len(args) == 3:
            dict_check(*args)
        elif cmd == "list-append" and len(args) == 3:
            list_append(args[0], int(args[1]), args[2])
        elif cmd == "list-check" and len(args) == 4:
            list_check(args[0], args[1], int(args[2]), args[3])
        elif cmd == "dict-relay" and len(args) == 5:
            dict_relay(args[0], int(args[1]), int(args[2]), int(args[3]), args[4])
        elif cmd in ("pipe-ping", "pipe-pong", "pipe-send", "pipe-eof", "shm-write", "shm-check", "counter",
                     "dict-write", "dict-check", "list-append", "list-check", "dict-relay"):
            raise SystemExit(f"python agent: bad command line: {' '.join(argv[1:])}\nusage: agent {IPC_USAGE}")
        else:
            return None
    except (SyncFailure, polyipc.PolyipcError, ValueError, OSError, EOFError) as e:
        print(f"FAIL: python {cmd}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0



# ---- worker pools: pool-work / pool-submit (the five functions and task i: ../README.md) ----

def pool_run(task):
    """Runs one task of the five interop functions and finishes it."""
    fn, args = task.function, task.args
    try:
        if fn == "add":
            a, b = args
            task.complete(a + b)
        elif fn == "concat":
            task.complete("".join(args["parts"]))
        elif fn == "echo":
            task.complete_json(task.args_json)  # the same value, exactly as it came
        elif fn == "fail":
            task.fail(args if isinstance(args, str) else json.dumps(args))
        elif fn == "whoami":
            task.complete(LANG)
        else:
            task.fail(f"no function '{fn}' in this worker")
    except Exception as e:  # noqa: BLE001 - bad arguments: the task fails with the exception's text
        if not task.released:
            task.fail(f"{type(e).__name__}: {e}")


def pool_work(name, hang_after):
    served = 0
    with polyipc.Pool(name) as pool:  # OPEN_OR_CREATE, the defaults
        while True:
            try:
                task = pool.take()  # in slices: Ctrl-C works
            except polyipc.Closed:
                break
            if hang_after is not None and served == hang_after:
                print(f"took task {task.id}", flush=True)
                while True:
                    time.sleep(3600)  # until killed, the task unfinished
            with task:
                pool_run(task)
            served += 1
    print(f"served {served}", flush=True)


def pool_expect(i):
    """Task i of pool-submit: (function, args, ok, result or error text)."""
    k = i % 4
    if k == 0:
        return "add", [i, 2 * i], True, 3 * i
    if k == 1:
        return "concat", {"parts": ["p", str(i), "é😀"]}, True, f"p{i}é😀"
    if k == 2:
        v = {"i": i, "v": [i, "x", None, True, 1.5, {"k": "ü"}]}
        return "echo", v, True, v
    return "fail", boom(i), False, boom(i)


def boom(i):
    """The error text of fail task i: a named escape two characters in, then a \\u one (Json.NET
    6's JsonConvert.ToString threw on that), quotes, a backslash, a line separator."""
    return f"nl\nctl\u0001 boom {i} \"q\" \\ ls\u2028"


def pool_submit(name, n):
    outstanding = {}  # task id -> i
    nxt = done = 0
    with polyipc.Pool(name) as pool:
        while done < n:
            while nxt < n and len(outstanding) < 64:
                fn, args, _, _ = pool_expect(nxt)
                try:
                    r = pool.submit(fn, args, timeout=TIMEOUT)
                except polyipc.Full:
                    raise Failure(f"task {nxt}: no room in pool {name} within {TIMEOUT:g} s") from None
                outstanding[r.id] = nxt
                nxt += 1
            try:
                r = pool.next_result(timeout=TIMEOUT)  # id 0: whichever finishes first
            except multiprocessing.TimeoutError:
                raise Failure(f"no result within {TIMEOUT:g} s ({len(outstanding)} outstanding)") from None
            if r.id not in outstanding:
                raise Failure(f"a result for task id {r.id}, which is not outstanding")
            i = outstanding.pop(r.id)
            fn, args, ok, want = pool_expect(i)
            try:
                got_ok, got = True, r.get()
            except polyipc.PoolTaskError as e:
                got_ok, got = False, e.text
            if got_ok != ok:
                raise Failure(f"task {i} ({fn} {show(args)}): expected {'result' if ok else 'error'} {show(want)}, "
                              f"got {'result' if got_ok else 'error'} {show(got)}")
            d = diff(got, want)
            if d:
                raise Failure(f"task {i} ({fn} {show(args)}): {'result' if ok else 'error text'} {d}")
            done += 1
    print(f"results ok {n}")


def pool_map(name, n, chunk):
    """starmap of add over n tasks, chunk to a pool message: workers in any language
    serve a chunk's tasks one by one; the results come in order."""
    with polyipc.Pool(name) as pool:
        got = pool.starmap("add", [[i, 2 * i] for i in range(n)], chunksize=chunk)
    if len(got) != n:
        raise Failure(f"{len(got)} results for {n} tasks")
    for i, v in enumerate(got):
        if v != 3 * i:
            raise Failure(f"task {i} (add [{i}, {2 * i}]): result {show(v)}, expected {3 * i}")
    print(f"results ok {n}")


def pool_complete(name, n):
    """The tasks of pool-submit, all submitted at once, their results taken by the handle's
    completion thread (callbacks), with nobody waiting for any of them; then each checked."""
    outcomes = {}
    all_in = threading.Event()
    lock = threading.Lock()

    def outcome(i, ok):
        def record(value):
            with lock:
                outcomes[i] = (ok, value.text if not ok and isinstance(value, polyipc.PoolTaskError) else value)
                if len(outcomes) == n:
                    all_in.set()
        return record

    with polyipc.Pool(name) as pool:
        for i in range(n):
            fn, args, _, _ = pool_expect(i)
            pool.submit(fn, args, timeout=TIMEOUT, callback=outcome(i, True), error_callback=outcome(i, False))
        if not all_in.wait(TIMEOUT):
            raise Failure(f"{len(outcomes)} of {n} callbacks ran within {TIMEOUT:g} s")
    for i in range(n):
        fn, args, ok, want = pool_expect(i)
        got_ok, got = outcomes[i]
        if got_ok != ok or diff(got, want):
            raise Failure(f"task {i} ({fn} {show(args)}): expected {'result' if ok else 'error'} {show(want)}, "
                          f"got {'result' if got_ok else 'error'} {show(got)}")
    print(f"results ok {n}")


POOL_USAGE = "pool-work POOL [--hang-after K] | pool-submit POOL N | pool-map POOL N CHUNK | pool-complete POOL N"


def pool_main(argv):
    """Runs a pool sub-command; None when argv is not one."""
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == "pool-work" and len(args) in (1, 3) and (len(args) == 1 or args[1] == "--hang-after"):
            pool_work(args[0], int(args[2]) if len(args) == 3 else None)
        elif cmd == "pool-submit" and len(args) == 2:
            pool_submit(args[0], int(args[1]))
        elif cmd == "pool-map" and len(args) == 3:
            pool_map(args[0], int(args[1]), int(args[2]))
        elif cmd == "pool-complete" and len(args) == 2:
            pool_complete(args[0], int(args[1]))
        elif cmd in ("pool-work", "pool-submit", "pool-map", "pool-complete"):
            raise SystemExit(f"python agent: bad command line: {' '.join(argv[1:])}\nusage: agent {POOL_USAGE}")
        else:
            return None
    except (Failure, polyipc.PolyipcError, ValueError, EOFError) as e:
        print(f"FAIL: python {cmd}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv):
    if len(argv) >= 2:
        # the sync scenarios check previous_owner_died themselves: no warning on stderr
        warnings.simplefilter("ignore", polyipc.OwnerDeadWarning)
        status = ipc_main(argv)  # first: sync_main refuses --hang outside its own commands
        if status is None:
            status = pool_main(argv)
        if status is None:
            status = sync_main(argv)
        if status is not None:
            return status
    if len(argv) < 3:
        raise SystemExit("usage: agent produce|consume QUEUE N ID | many-consume QUEUE OUT | "
                         "jobs-consume QUEUE OUT [--hang-after K] | " + SYNC_USAGE + " | " + IPC_USAGE + " | " +
                         POOL_USAGE)
    cmd, queue = argv[1], argv[2]
    try:
        if cmd == "produce" and len(argv) == 5:
            produce(queue, int(argv[3]), argv[4])
        elif cmd == "consume" and len(argv) == 5:
            consume(queue, int(argv[3]), argv[4])
        elif cmd == "many-consume" and len(argv) == 4:
            q = polyipc.Queue(queue)
            try:
                consume_until_closed(q, argv[3], False, None)
            finally:
                q.close()
        elif cmd == "jobs-consume" and len(argv) in (4, 6):
            hang = int(argv[5]) if len(argv) == 6 and argv[4] == "--hang-after" else None
            if len(argv) == 6 and hang is None:
                raise SystemExit(f"python agent: unknown option {argv[4]}")
            q = polyipc.JoinableQueue(queue)
            try:
                consume_until_closed(q, argv[3], True, hang)
            finally:
                q.close()
        elif cmd == "dump" and len(argv) == 4:  # dump SEQ ID: M(ID, SEQ) as JSON, to compare implementations
            import json
            print(json.dumps(message(argv[3], int(argv[2])), ensure_ascii=False))
        else:
            raise SystemExit(f"python agent: bad command line: {' '.join(argv[1:])}")
    except Failure as e:
        print(f"python: FAIL: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
