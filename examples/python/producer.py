#!/usr/bin/env python3
"""producer N: puts N JSON jobs {"job": i, "from": "python"} on the joinable
queue demo.jobs (opened or created), closes it for writing (end of stream),
waits in join() until workers in any language have task_done every job, and
prints a summary. The queue lives in the namespace $POLYIPC_NAMESPACE.

Run from a build tree: PYTHONPATH=<build>/bindings/python/package python3 producer.py 8
"""

import os
import sys
import time

try:
    import polyipc
except ImportError as e:
    sys.exit(f"producer: cannot import polyipc ({e}); put <build>/bindings/python/package on PYTHONPATH")


def main(argv):
    if len(argv) != 2 or not argv[1].isdigit() or int(argv[1]) < 1:
        print("usage: producer.py N", file=sys.stderr)
        return 2
    jobs = int(argv[1])
    with polyipc.JoinableQueue("demo.jobs") as q:
        start = time.monotonic()
        for i in range(1, jobs + 1):
            q.put({"job": i, "from": "python"})
        q.close_writes()  # workers drain what is left, then stop
        print(f"producer python pid {os.getpid()}: put {jobs} jobs on demo.jobs in namespace "
              f"'{polyipc.namespace()}', closed it for writing; waiting for the workers", flush=True)
        q.join()  # Ctrl-C works here: the wait is sliced
        print(f"producer python pid {os.getpid()}: all {jobs} jobs done in {time.monotonic() - start:.3f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        sys.exit(130)
