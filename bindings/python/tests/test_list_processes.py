"""polyipc.List across real processes: two children append concurrently and nothing
is lost or reordered, a List passed to a spawn child reopens by name, and a child
killed with SIGKILL while appending and popping leaves a list the test can still read
and use, with only complete values in it. Waits are bounded; nothing sleeps to
synchronise."""

import inspect
import json
import multiprocessing
import subprocess

import polyipc
from helpers import kill9, python_child, read_line

SPAWN = multiprocessing.get_context("spawn")


def test_two_children_append_concurrently_nothing_lost_order_kept(qname):
    name, n = qname(), 1000
    with polyipc.List(name) as lst:
        code = (f"import sys, polyipc\nlst = polyipc.List({name!r}, create=False)\n"
                "print('ready', flush=True)\nsys.stdin.readline()\n"
                f"for i in range({n}):\n    lst.append({{'from': %r, 'seq': i}})\n"
                "print('done', flush=True)\n")
        children = [python_child(code % f"child{k}", stdin=subprocess.PIPE) for k in range(2)]
        try:
            for c in children:
                assert read_line(c, 60) == "ready"
            for c in children:  # both start at once
                c.stdin.write("go\n")
                c.stdin.flush()
            for c in children:
                assert read_line(c, 120) == "done"
                c.wait(timeout=60)
                assert c.returncode == 0, c.stderr.read()
        finally:
            for c in children:
                if c.poll() is None:
                    c.kill()
                    c.wait(timeout=30)
        values = lst.snapshot()
        assert len(values) == 2 * n == len(lst)
        for k in range(2):
            assert [v["seq"] for v in values if v["from"] == f"child{k}"] == list(range(n))
        assert {v["from"] for v in values} == {"child0", "child1"}


def _append_in_child(lst, tag, count):
    for i in range(count):
        lst.append([tag, i])
    lst.close()


def test_a_list_passed_to_a_spawn_process_reopens_by_name(qname):
    name = qname()
    with polyipc.List(name) as lst:
        workers = [SPAWN.Process(target=_append_in_child, args=(lst, t, 100)) for t in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
            assert w.exitcode == 0
        values = lst.snapshot()
        assert sorted(map(tuple, values)) == sorted((t, i) for t in range(2) for i in range(100))
        for t in range(2):
            assert [i for tt, i in values if tt == t] == list(range(100))


def _value(j):
    return {"j": j, "pad": "p" * (j * 97), "seq": list(range(j % 25)), "text": "🦄" * (j % 7)}


# Values up to ~5 KB, appended, inserted and popped at both ends and in the middle (which
# copies the list), so the writer spends much of its time in the native call (and often in a
# compaction): some kills land while it holds the list's lock.
_WRITER = """
import json, polyipc
{value_source}
lst = polyipc.List({name!r}, create=False)
texts = [json.dumps(_value(j), ensure_ascii=False) for j in range(50)]
i = 0
while True:
    try:
        if i % 4:
            lst.append_json(texts[i % 50])
        else:
            lst.insert(len(lst) // 2, _value(i % 50))
        if i % 7 == 0:
            lst[0] = _value(i % 50)
    except polyipc.Full:  # no room in 64 KiB: make some
        lst.pop(0)
    if len(lst) > 12:
        lst.pop((0, -1, len(lst) // 3)[i % 3])
    if i == {announce_at}:
        print("writing", flush=True)
    i += 1
"""


def _check_complete(lst):
    """Every value is a complete one, the same through every way of reading the list."""
    values = lst.snapshot()
    assert len(lst) == len(values)
    assert json.loads(lst.snapshot_json()) == values
    for i, v in enumerate(values):
        assert v == _value(v["j"])
        assert lst[i] == v and json.loads(lst.get_json(i)) == v
    return values


def test_writer_killed_with_sigkill_leaves_a_readable_and_usable_list(qname):
    name = qname()
    # little room for such values: the writer compacts often, so some kills land in a compaction
    with polyipc.List(name, capacity_bytes=64 << 10, max_items=64) as lst:
        for rnd in range(10):
            writer = python_child(_WRITER.format(name=name, announce_at=300 + 157 * rnd,
                                                value_source=inspect.getsource(_value)))
            try:
                assert read_line(writer, 60) == "writing"
            finally:
                kill9(writer)
            values = _check_complete(lst)
            assert values, "the writer appended values before it was killed"
            # the test's own calls go through: the killed writer's lock and half-made change are undone
            # (each value put back fits where one as large was taken out: the list may be full)
            first = lst.pop(0)
            assert first == values[0]
            lst.append({"parent": rnd})
            assert lst[-1] == {"parent": rnd}
            lst[-1] = first
            lst.insert(0, lst.pop())
            assert lst.snapshot() == values
        stat = lst.stat()
        assert stat["name"] == name and stat["counters"]["compactions"] > 0
        lst.clear()
        assert len(lst) == 0
        lst.extend(_value(j) for j in range(12))
        assert len(_check_complete(lst)) == 12
