#!/usr/bin/env python3
"""The Python interop agent: the `polyipc` package and the json module.
Messages and command lines: see ../README.md."""

import os
import struct
import sys
import time

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


def main(argv):
    if len(argv) < 3:
        raise SystemExit("usage: agent produce|consume QUEUE N ID | many-consume QUEUE OUT | "
                         "jobs-consume QUEUE OUT [--hang-after K]")
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
