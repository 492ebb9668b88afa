"""bench/peers/peer_report.py: what the Python peers share with their driver.

A peer prints one JSON object as its last output: the figures with "ok": true,
or "ok": false and the error (it never hangs the driver, which reads the
last '{' of its output).
"""
import json
import multiprocessing as mp
import sys


def latencies(lat):
    """p50/p99/p99.9/mean/max/min of latencies in ns (sorts lat in place)."""
    lat.sort()
    m = len(lat)
    pct = lambda q: float(lat[min(m - 1, int(q * m))])
    return {"p50": pct(0.5), "p99": pct(0.99), "p999": pct(0.999), "mean": sum(lat) / m, "max": float(lat[-1]),
            "min": float(lat[0])}


def report(run, args):
    """Runs run(args) with processes forked (as the C++ peers), prints its result or the error as JSON."""
    if mp.get_start_method(allow_none=True) is None:
        mp.set_start_method("fork")
    try:
        r = run(args)
    except BaseException as e:  # report, never hang the driver
        r = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
    print(json.dumps(r))
    sys.stdout.flush()
