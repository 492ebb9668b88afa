#!/usr/bin/env python3
"""worker [max_jobs]: takes JSON jobs from the joinable queue demo.jobs (opened
or created), prints one line per job and calls task_done; stops when the queue
is closed for writing and drained (polyipc.Closed, an EOFError), or after
max_jobs jobs. A worker killed before task_done loses nothing: its job goes to
another worker. The queue lives in the namespace $POLYIPC_NAMESPACE.

Run from a build tree: PYTHONPATH=<build>/bindings/python/package python3 worker.py
"""

import os
import sys

try:
    import polyipc
except ImportError as e:
    sys.exit(f"worker: cannot import polyipc ({e}); put <build>/bindings/python/package on PYTHONPATH")


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and not argv[1].isdigit()):
        print("usage: worker.py [max_jobs]", file=sys.stderr)
        return 2
    max_jobs = int(argv[1]) if len(argv) == 2 else None
    done = 0
    with polyipc.JoinableQueue("demo.jobs") as q:
        while max_jobs is None or done < max_jobs:
            try:
                job = q.get()
            except EOFError:  # closed for writing and drained
                break
            print(f"worker python pid {os.getpid()}: job {job.get('job')} done", flush=True)
            q.task_done()
            done += 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        sys.exit(130)
