#!/usr/bin/env python3
"""Drives the interop agents (see README.md): the producer x consumer matrix,
the many-to-many run and the joinable run. Prints one line per pair or run and
exits 1 if any fails.

    run_interop.py --agents BUILD/tests/interop/agents [--cli BUILD/cli/polyipc]
                   matrix [--producers c,go] [--consumers all] [-n 10000]
    run_interop.py --agents ... many [-n 2000]
    run_interop.py --agents ... joinable [-n 2000] [--producer go] [--consumers java,rust]

The agents run in the namespace $POLYIPC_NAMESPACE-<pid> (so two runs never
meet), which is empty again at the end. Every wait is bounded (--timeout).
Only standard-library Python: the driver needs no binding.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

LANGS = ["c", "java", "go", "csharp", "python", "rust"]
POLL = 0.02  # how often a bounded wait looks at its processes


def lang_list(text, allowed):
    if text in ("all", ""):
        return list(allowed)
    out = [x.strip() for x in text.split(",") if x.strip()]
    for x in out:
        if x not in allowed:
            raise SystemExit(f"run_interop: unknown language {x!r} (known: {', '.join(allowed)})")
    return out


class Agent:
    """One running agent process; stdout and stderr go to files in the work dir."""

    def __init__(self, run, lang, args, label):
        self.lang, self.label = lang, label
        exe = os.path.join(run.agents, f"agent-{lang}")
        self.out_path = os.path.join(run.work, f"{label}.out")
        self.err_path = os.path.join(run.work, f"{label}.err")
        self.killed = False
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            try:
                self.proc = subprocess.Popen([exe, *args], stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                             env=run.env, start_new_session=True)
            except OSError as e:
                err.write(f"cannot start {exe}: {e}\n")
                self.proc = None
        run.live.append(self)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def poll(self):
        return 127 if self.proc is None else self.proc.poll()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: the agent and nothing else
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.killed = True

    def output(self):
        text = ""
        for path in (self.out_path, self.err_path):
            try:
                with open(path, errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def first_problem(self):
        """The agent's FAIL line, else its last line of output, else its exit status."""
        lines = [l for l in self.output().splitlines() if l.strip()]
        for l in lines:
            if "FAIL" in l or "not built" in l:
                return l.strip()
        rc = self.poll()
        if lines:
            return f"exit status {rc}: {lines[-1].strip()}"
        return f"exit status {rc}, no output"


class Run:
    def __init__(self, args):
        self.agents = os.path.abspath(args.agents)
        self.cli = args.cli
        self.timeout = args.timeout
        self.verbose = args.verbose
        self.namespace = f"{os.environ.get('POLYIPC_NAMESPACE', 'interop')}-{os.getpid()}"
        self.env = dict(os.environ, POLYIPC_NAMESPACE=self.namespace,
                        POLYIPC_INTEROP_TIMEOUT=str(args.get_timeout))
        self.work = tempfile.mkdtemp(prefix="polyipc-interop-")
        self.live = []
        self.failures = 0
        self.at_failure = {}  # object name -> `polyipc stat` taken when an agent failed

    # ---- the polyipc CLI -----------------------------------------------------------------
    def cli_run(self, *args):
        return subprocess.run([self.cli, *args], env=self.env, capture_output=True, text=True, timeout=30)

    def names(self):
        r = self.cli_run("ls", "--json")
        if r.returncode != 0:
            raise RuntimeError(f"polyipc ls failed: {r.stderr.strip()}")
        return [o["name"] for o in json.loads(r.stdout)]

    def stat(self, name):
        r = self.cli_run("stat", name, "--json")
        return json.loads(r.stdout) if r.returncode == 0 else None

    def rm(self, *names):
        if names:
            self.cli_run("rm", *names)

    # ---- waiting -------------------------------------------------------------------------
    def wait_all(self, agents, limit, stop_on_failure=True, watch=()):
        """Waits (at most `limit` s) until every agent has exited. On the first
        failure the others are killed at once (they would only wait for messages
        that will never come), after the objects named in `watch` are described
        (`polyipc stat`, kept in self.at_failure for report_failure: the state
        the survivors were waiting on). Returns the agents that failed or ran
        out of time."""
        deadline = time.monotonic() + limit
        while True:
            failed = [a for a in agents if a.poll() not in (None, 0)]
            if failed and stop_on_failure:
                break
            if all(a.poll() is not None for a in agents):
                break
            if time.monotonic() >= deadline:
                break
            time.sleep(POLL)
        late = [a for a in agents if a.poll() is None]
        if late or any(a.poll() != 0 for a in agents):
            self.at_failure = {name: self.stat(name) for name in watch}
        for a in late:
            a.kill()
            with open(a.err_path, "a") as f:
                f.write(f"run_interop: killed: still running after another agent failed or after {limit:g} s\n")
        # those that failed on their own first: their complaint is the news
        return [a for a in agents if a.poll() != 0 and a not in late] + late

    def wait_attached(self, queue, pids, limit):
        """Waits (at most `limit` s) until every pid has the queue open (so producers
        start only once all consumers are there). Returns False when time ran out or
        a process ended first (the caller reports what that process said)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            info = self.stat(queue)
            if info is not None:
                attached = {a["pid"] for a in info.get("attached", [])}
                if all(p in attached for p in pids):
                    return True
            time.sleep(POLL)
        return False

    def report_failure(self, head, agents):
        self.failures += 1
        first = agents[0]
        print(f"{head}: FAILED: {first.lang} ({first.label}): {first.first_problem()}", flush=True)
        for name, info in self.at_failure.items():
            print(f"  --- {name} when the first agent failed: {json.dumps(info)}")
        self.at_failure = {}
        for a in agents:
            text = a.output().rstrip()
            if text:
                print(f"  --- {a.label} ({a.lang})")
                for line in text.splitlines()[:40]:
                    print(f"  | {line}")
        sys.stdout.flush()

    def cleanup(self):
        for a in self.live:
            a.kill()
        try:
            left = self.names()
            self.rm(*left)
            left = self.names()
        except Exception as e:  # the CLI itself is broken: say so
            print(f"interop: cannot list namespace {self.namespace}: {e}")
            self.failures += 1
            return
        if left:
            print(f"interop: namespace {self.namespace} still holds {left} after rm")
            self.failures += 1

    # ---- the runs ------------------------------------------------------------------------
    def pair(self, producer, consumer, n):
        queue = f"interop.{producer}-to-{consumer}"
        head = f"interop {producer} -> {consumer}"
        self.rm(queue)
        start = time.monotonic()
        cons = Agent(self, consumer, ["consume", queue, str(n), producer], f"{producer}-to-{consumer}.consumer")
        prod = Agent(self, producer, ["produce", queue, str(n), producer], f"{producer}-to-{consumer}.producer")
        bad = self.wait_all([prod, cons], self.timeout, watch=[queue])
        secs = time.monotonic() - start
        if bad:
            # the consumer's complaint is the interesting one, unless it was killed
            self.report_failure(head, sorted(bad, key=lambda a: (a.killed, a is not cons)))
        else:
            print(f"{head}: ok {n} messages ({secs:.1f} s)", flush=True)
        self.rm(queue)

    def matrix(self, producers, consumers, n):
        for p in producers:
            for c in consumers:
                self.pair(p, c, n)

    def read_received(self, agents, files):
        got = {}
        per = {}
        for a, path in zip(agents, files):
            per[a.lang] = 0
            try:
                with open(path) as f:
                    for line in f:
                        p, s = line.split()
                        got.setdefault((p, int(s)), []).append(a.lang)
                        per[a.lang] += 1
            except (OSError, ValueError) as e:
                per[a.lang] = f"unreadable ({e})"
        return got, per

    def check_exactly_once(self, got, producers, n):
        problems = []
        for p in producers:
            for s in range(n):
                who = got.get((p, s))
                if not who:
                    problems.append(f"{p}#{s} never received")
                elif len(who) > 1:
                    problems.append(f"{p}#{s} received {len(who)} times (by {', '.join(who)})")
        expected = {(p, s) for p in producers for s in range(n)}
        for key in got:
            if key not in expected:
                problems.append(f"{key[0]}#{key[1]} received but never sent")
        return problems

    def many(self, langs, n):
        queue = "interop.many"
        head = "interop many-to-many"
        self.rm(queue)
        start = time.monotonic()
        files = [os.path.join(self.work, f"many.{c}.received") for c in langs]
        consumers = [Agent(self, c, ["many-consume", queue, f], f"many.{c}.consumer") for c, f in zip(langs, files)]
        # Producers start once all six consumers have the queue open: every consumer
        # takes part, whatever its start-up time.
        if not self.wait_attached(queue, [a.pid for a in consumers], self.timeout):
            bad = [a for a in consumers if a.poll() is not None] or consumers
            self.report_failure(head + " (consumers starting)", bad)
            for a in consumers:
                a.kill()
            self.rm(queue)
            return
        producers = [Agent(self, p, ["produce", queue, str(n), p], f"many.{p}.producer") for p in langs]
        bad = self.wait_all(producers, self.timeout, watch=[queue])
        if bad:
            for a in consumers:
                a.kill()
            self.report_failure(head + " (producing)", bad)
            self.rm(queue)
            return
        closer = Agent(self, "c", ["close-writes", queue], "many.close-writes")
        bad = self.wait_all([closer], 30)
        if bad:
            for a in consumers:
                a.kill()
            self.report_failure(head + " (close_writes)", bad)
            self.rm(queue)
            return
        bad = self.wait_all(consumers, self.timeout, watch=[queue])
        secs = time.monotonic() - start
        if bad:
            self.report_failure(head + " (consuming)", bad)
            self.rm(queue)
            return
        got, per = self.read_received(consumers, files)
        problems = self.check_exactly_once(got, langs, n)
        if problems:
            self.failures += 1
            print(f"{head}: FAILED: {problems[0]} ({len(problems)} problems in all)")
            for p in problems[1:10]:
                print(f"  | {p}")
        else:
            counts = ", ".join(f"{c} {per[c]}" for c in langs)
            print(f"{head}: ok {n * len(langs)} messages from {len(langs)} producers, each received exactly once "
                  f"({secs:.1f} s; taken by {counts})", flush=True)
        self.rm(queue)

    def joinable(self, producer, consumer_langs, n):
        queue = "interop.jobs"
        head = f"interop joinable ({producer} producer, {' and '.join(consumer_langs)} consumers)"
        self.rm(queue)
        start = time.monotonic()
        files = [os.path.join(self.work, f"jobs.{c}.received") for c in consumer_langs]
        consumers = [Agent(self, c, ["jobs-consume", queue, f], f"jobs.{c}.consumer")
                     for c, f in zip(consumer_langs, files)]
        if not self.wait_attached(queue, [a.pid for a in consumers], self.timeout):
            bad = [a for a in consumers if a.poll() is not None] or consumers
            self.report_failure(head + " (consumers starting)", bad)
            for a in consumers:
                a.kill()
            self.rm(queue)
            return
        prod = Agent(self, producer, ["jobs-produce", queue, str(n), producer], f"jobs.{producer}.producer")
        bad = self.wait_all([prod, *consumers], self.timeout, watch=[queue])
        secs = time.monotonic() - start
        if bad:
            self.report_failure(head, sorted(bad, key=lambda a: (a.killed, a is not prod)))
            self.rm(queue)
            return
        problems = []
        if "join returned" not in prod.output():
            problems.append(f"the {producer} producer did not report that join returned: {prod.output().strip()!r}")
        got, per = self.read_received(consumers, files)
        problems += self.check_exactly_once(got, [producer], n)
        info = self.stat(queue)
        if info is None or info.get("unfinished_tasks") != 0 or info.get("depth") != 0:
            problems.append(f"queue not finished: {info and {k: info.get(k) for k in ('depth', 'unfinished_tasks', 'leased')}}")
        if problems:
            self.failures += 1
            print(f"{head}: FAILED: {problems[0]} ({len(problems)} problems in all)")
            for p in problems[1:10]:
                print(f"  | {p}")
        else:
            counts = ", ".join(f"{c} {per[c]}" for c in consumer_langs)
            print(f"{head}: ok {n} jobs, each taken and task_done exactly once, join returned "
                  f"({secs:.1f} s; done by {counts})", flush=True)
        self.rm(queue)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", required=True, help="directory of the agent-<lang> scripts")
    ap.add_argument("--cli", help="the polyipc CLI (default: ../../cli/polyipc from --agents)")
    ap.add_argument("--langs", default="all", help="languages taking part (default: all six)")
    ap.add_argument("--timeout", type=float, default=240, help="seconds one pair or run may take")
    ap.add_argument("--get-timeout", type=float, default=60, help="seconds an agent waits for one message")
    ap.add_argument("-v", "--verbose", action="store_true")
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("matrix")
    m.add_argument("--producers", default="all")
    m.add_argument("--consumers", default="all")
    m.add_argument("-n", type=int, default=10000)
    y = sub.add_parser("many")
    y.add_argument("-n", type=int, default=2000, help="messages per producer")
    j = sub.add_parser("joinable")
    j.add_argument("-n", type=int, default=2000)
    j.add_argument("--producer", default="go")
    j.add_argument("--consumers", default="java,rust")
    sy = sub.add_parser("sync", help="Lock, Semaphore, Event, Barrier and Condition across languages")
    sy.add_argument("scenarios", nargs="?", default="tickets,semaphore,event,barrier,condition")
    ip = sub.add_parser("ipc", help="Pipes, shared memory and Values across languages")
    ip.add_argument("scenarios", nargs="?", default="pipe,eof,shm,counter,dict,list,watch")
    po = sub.add_parser("pool", help="Worker pools across languages")
    po.add_argument("scenarios", nargs="?", default="serve,kill,cancel,map,complete")
    args = ap.parse_args()
    if args.cli is None:
        args.cli = os.path.join(os.path.dirname(os.path.abspath(args.agents)), "..", "..", "cli", "polyipc")
    args.cli = os.path.abspath(args.cli)
    if not os.access(args.cli, os.X_OK):
        raise SystemExit(f"run_interop: no polyipc CLI at {args.cli} (--cli)")
    langs = lang_list(args.langs, LANGS)

    run = Run(args)
    start = time.monotonic()
    try:
        if args.cmd == "matrix":
            run.matrix(lang_list(args.producers, langs), lang_list(args.consumers, langs), args.n)
        elif args.cmd == "many":
            run.many(langs, args.n)
        elif args.cmd == "ipc":
            import ipc_scenarios
            ipc_scenarios.run_all(run, Agent, langs, args.scenarios.split(","))
        elif args.cmd == "pool":
            import pool_scenarios
            pool_scenarios.run_all(run, Agent, langs, args.scenarios.split(","))
        elif args.cmd == "sync":
            import sync_scenarios
            sync_scenarios.run_all(run, Agent, langs, args.scenarios.split(","))
        else:
            run.joinable(lang_list(args.producer, LANGS)[0], lang_list(args.consumers, LANGS), args.n)
    except KeyboardInterrupt:
        run.failures += 1
        print("interop: interrupted")
    finally:
        run.cleanup()
        if run.failures == 0:
            import shutil
            shutil.rmtree(run.work, ignore_errors=True)
        else:
            print(f"interop: agents' output kept in {run.work}")
    print(f"interop {args.cmd}: {'FAILED (' + str(run.failures) + ')' if run.failures else 'all ok'} "
          f"in {time.monotonic() - start:.1f} s (namespace {run.namespace})")
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
