"""polyipc.Dict across real processes: compare-and-set increments from several
children add up exactly, a Dict passed to a spawn child reopens by name, and a
child killed with SIGKILL while setting leaves a dict the test can still read and
write, with only complete values in it. Waits are bounded; nothing sleeps to
synchronise."""

import inspect
import json
import multiprocessing
import subprocess

import polyipc
from helpers import kill9, python_child, read_line

SPAWN = multiprocessing.get_context("spawn")


def _increment(d, key, count):
    """count atomic increments of d[key]: read (setting 0 if absent), then compare-and-set until it takes."""
    done = 0
    while done < count:
        old = d.setdefault(key, 0)
        if d.compare_and_set(key, old, old + 1):
            done += 1


def test_compare_and_set_increments_from_three_processes_add_up(qname):
    name, n = qname(), 400
    with polyipc.Dict(name) as d:
        code = (f"import sys, polyipc\n{inspect.getsource(_increment)}\nd = polyipc.Dict({name!r}, create=False)\n"
                f"print('ready', flush=True)\nsys.stdin.readline()\n_increment(d, 'counter', {n})\n"
                "print('done', flush=True)\n")
        children = [python_child(code, stdin=subprocess.PIPE) for _ in range(2)]
        try:
            for c in children:
                assert read_line(c, 60) == "ready"
            for c in children:  # both start at once, and the test increments too
                c.stdin.write("go\n")
                c.stdin.flush()
            _increment(d, "counter", n)
            for c in children:
                assert read_line(c, 120) == "done"
                c.wait(timeout=60)
                assert c.returncode == 0, c.stderr.read()
        finally:
            for c in children:
                if c.poll() is None:
                    c.kill()
                    c.wait(timeout=30)
        assert d["counter"] == 3 * n
        assert len(d) == 1


def _add_in_child(d, key, count):
    for _ in range(count):
        while True:
            old = d.get(key)
            if d.compare_and_set(key, polyipc.ABSENT if old is None else old, (old or 0) + 1):
                break
    d.close()


def test_a_dict_passed_to_a_spawn_process_reopens_by_name(qname):
    name = qname()
    with polyipc.Dict(name) as d:
        workers = [SPAWN.Process(target=_add_in_child, args=(d, "hits", 100)) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
            assert w.exitcode == 0
        assert d["hits"] == 200


def _value(j):
    return {"j": j, "pad": "p" * (j * 97), "seq": list(range(j % 25)), "text": "🦄" * (j % 7)}


# Values up to ~5 KB, mostly set as prepared JSON text, so the writer spends much of its time in
# the native call (and often in a compaction): some kills land while it holds the dict's lock.
_WRITER = """
import json, polyipc
{value_source}
d = polyipc.Dict({name!r}, create=False)
texts = [json.dumps(_value(j), ensure_ascii=False) for j in range(50)]
i = 0
while True:
    k = "k%d" % (i % 12)
    if i % 4:
        d.set_json(k, texts[i % 50])
    else:
        d[k] = _value(i % 50)
    if i % 5 == 0:
        d.pop("k%d" % ((i + 6) % 12), None)
    if i % 97 == 0:
        d.compare_and_set("cas", polyipc.ABSENT, i) or d.compare_and_set("cas", d.get("cas"), i)
    if i == {announce_at}:
        print("writing", flush=True)
    i += 1
"""


def _check_complete(d):
    """Every entry is a complete value, the same through every way of reading the dict."""
    items = d.copy()
    assert d.keys() == list(items)
    assert len(d) == len(items)
    for k, v in items.items():
        if k == "cas":
            assert isinstance(v, int)
            continue
        assert k.startswith("k")
        assert v == _value(v["j"])
        assert json.loads(d.get_json(k)) == v
        assert d[k] == v
    return items


def test_writer_killed_with_sigkill_leaves_a_readable_and_writable_dict(qname):
    name = qname()
    # little room for such values: the writer compacts often, so some kills land in a compaction
    with polyipc.Dict(name, capacity_bytes=64 << 10, max_items=64) as d:
        for rnd in range(10):
            writer = python_child(_WRITER.format(name=name, announce_at=300 + 157 * rnd,
                                                value_source=inspect.getsource(_value)))
            try:
                assert read_line(writer, 60) == "writing"
            finally:
                kill9(writer)
            items = _check_complete(d)
            assert items, "the writer set keys before it was killed"
            # the test's own writes go through: the killed writer's lock and half-made change are undone
            d["parent"] = {"round": rnd}
            assert d["parent"] == {"round": rnd}
            del d["parent"]
            k = next(iter(items))
            assert d.compare_and_set(k, items[k], "replaced") is True
            assert d[k] == "replaced"
            del d[k]
        stat = d.stat()
        assert stat["name"] == name and stat["counters"]["compactions"] > 0
        d.clear()
        assert len(d) == 0
        d.update({f"k{j}": _value(j) for j in range(12)})
        _check_complete(d)
