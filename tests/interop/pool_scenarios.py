"""The worker-pool scenarios across languages (README.md, "Worker pools"),
driven through run_interop's Run and Agent."""
import re
import time

from sync_scenarios import finish_agents, report, wait_for_output

Agent = None  # set by run_all (run_interop's Agent class)


def served(agent):
    m = re.search(r"served (\d+)", agent.output())
    return int(m.group(1)) if m else None


def check_served(workers, expected, problems, why=""):
    """The workers' served counts by language; a problem when one did not say or they do not
    add up to expected."""
    counts = {w.lang: served(w) for w in workers}
    total = sum(c or 0 for c in counts.values())
    if None in counts.values() or total != expected:
        problems.append(f"workers served {counts}, {total} in all, expected {expected}{why}")
    return counts


def close_tasks(run, pool):
    closer = Agent(run, "c", ["pool-close", pool], f"{pool}.close")
    return finish_agents(run, f"interop pool close {pool}", [closer], run.timeout)


def start_workers(run, langs, pool, head, tag):
    """A worker in every language on pool, all attached before anything is submitted (so
    all take part from the first task); None, reported and killed, when they did not start."""
    workers = [Agent(run, l, ["pool-work", pool], f"{tag}.{l}") for l in langs]
    if run.wait_attached(pool, [w.pid for w in workers], run.timeout):
        return workers
    run.report_failure(head + " (workers starting)", workers)
    for w in workers:
        w.kill()
    return None


def finish_round(run, head, pool, submitters, workers, before_close=None):
    """Waits for the submitters (then runs before_close, if any), then closes the pool's
    tasks and waits for the workers; False (reported) when one of them did not finish."""
    if not finish_agents(run, head + " (submitters)", submitters, run.timeout):
        for w in workers:
            w.kill()
        return False
    if before_close:
        before_close()
    return close_tasks(run, pool) and finish_agents(run, head + " (workers)", workers, run.timeout)


# (arguments of `polyipc submit POOL ...`, its exit code, what its stdout (0) or stderr says)
CLI_SUBMITS = (
    (["add", "[20,22]"], 0, "42"),
    (["concat", '{"parts":["a","é😀"]}'], 0, '"aé😀"'),
    (["fail", '"boom cli"'], 6, "boom cli"),
)


def cli_submits(run, pool, problems):
    """The polyipc command submits to the same workers, as a shell script would: the
    result printed, a task that failed in its worker exits 6 with its error."""
    for args, code, says in CLI_SUBMITS:
        r = run.cli_run("submit", pool, *args, "--timeout", "60")
        said = r.stdout.strip() if code == 0 else r.stderr
        if r.returncode != code or says not in said:
            problems.append(f"polyipc submit {pool} {' '.join(args)}: exit {r.returncode}, "
                            f"stdout {r.stdout.strip()!r}, stderr {r.stderr.strip()!r}")


def serve(run, langs, per_submitter):
    """A worker in every language serves one pool while every language
    submits at once; each submitter checks each of its results. Then the
    polyipc command submits a few tasks to the same workers."""
    head = f"interop pool serve ({len(langs)} workers, {len(langs)} submitters x {per_submitter} tasks)"
    pool = "pool.serve"
    run.rm(pool)
    start = time.monotonic()
    workers = start_workers(run, langs, pool, head, "pool.work")
    if workers is None:
        return
    submitters = [Agent(run, l, ["pool-submit", pool, str(per_submitter)], f"pool.submit.{l}") for l in langs]
    problems = []
    if not finish_round(run, head, pool, submitters, workers, lambda: cli_submits(run, pool, problems)):
        return
    problems += [f"{s.lang}: {s.output().strip()[-200:]!r}" for s in submitters
                 if f"results ok {per_submitter}" not in s.output()]
    counts = check_served(workers, per_submitter * len(langs) + len(CLI_SUBMITS), problems, " (with the CLI's)")
    report(run, head, problems, f"every result checked ({time.monotonic() - start:.1f} s; served by {counts})")
    run.rm(pool)


def kill(run, langs, tasks):
    """Each language in turn is a worker killed with kill -9 mid-task: the
    task it held is finished by a worker in another language, and the
    submitter (a third language) gets exactly one result for every task."""
    for i, victim in enumerate(langs):
        submitter, rescuer = langs[(i + 1) % len(langs)], langs[(i + 2) % len(langs)]
        head = f"interop pool kill ({victim} killed mid-task, {rescuer} takes over, {submitter} submits)"
        pool = f"pool.kill.{victim}"
        run.rm(pool)
        v = Agent(run, victim, ["pool-work", pool, "--hang-after", "2"], f"pool.kill.{victim}.victim")
        s = Agent(run, submitter, ["pool-submit", pool, str(tasks)], f"pool.kill.{victim}.submit")
        if not wait_for_output(v, "took task", run.timeout):
            run.report_failure(head + " (victim)", [v, s])
            v.kill()
            s.kill()
            continue
        v.kill()
        r = Agent(run, rescuer, ["pool-work", pool], f"pool.kill.{victim}.rescue")
        if not finish_agents(run, head, [s], run.timeout):
            r.kill()
            continue
        if not close_tasks(run, pool) or not finish_agents(run, head + " (rescuer)", [r], run.timeout):
            continue
        problems = [] if f"results ok {tasks}" in s.output() else [f"{submitter}: {s.output().strip()[-200:]!r}"]
        if served(r) != tasks - 2:
            problems.append(f"{rescuer} served {served(r)}, expected {tasks - 2} (the killed task included)")
        info = run.stat(pool) or {}
        redelivered = (info.get("counters") or {}).get("redeliveries")
        if redelivered != 1:
            problems.append(f"the pool counted {redelivered} redeliveries, expected 1")
        report(run, head, problems, f"{tasks} results, the killed task redelivered once")
        run.rm(pool)


def cancel(run, langs, tasks):
    """A worker in every language serves a pool while a C submitter puts
    tasks in it and cancels every other one at once: each cancel either takes
    its task back or finds a worker has it. No worker in any language runs a
    task that was taken back, and every result checks (those as cancelled)."""
    head = f"interop pool cancel ({tasks} tasks, half cancelled while {len(langs)} workers take)"
    pool = "pool.cancel"
    run.rm(pool)
    workers = start_workers(run, langs, pool, head, "pool.cancel.work")
    if workers is None:
        return
    s = Agent(run, "c", ["pool-submit-cancel", pool, str(tasks)], "pool.cancel.submit")
    if not finish_round(run, head, pool, [s], workers):
        return
    m = re.search(r"results ok (\d+) \((\d+) cancelled\)", s.output())
    problems = [] if m and int(m.group(1)) == tasks else [s.output().strip()[-200:]]
    cancelled = int(m.group(2)) if m else 0
    counts = check_served(workers, tasks - cancelled, problems, " (none taken back)")
    report(run, head, problems, f"{cancelled} taken back, none of them run (served by {counts})")
    run.rm(pool)


def submitters_round(run, langs, name, head, submitters, tasks, what):
    """A worker in every language serves pool `pool.<name>` while each (lang, argv) of
    `submitters` runs `agent lang argv[0] POOL argv[1:]`; each must end with `results ok
    <tasks>`, and the workers' served counts must add up to all their tasks."""
    pool = f"pool.{name}"
    run.rm(pool)
    workers = start_workers(run, langs, pool, head, f"pool.{name}.work")
    if workers is None:
        return
    subs = [Agent(run, lang, [argv[0], pool, *argv[1:]], f"pool.{name}.{lang}") for lang, argv in submitters]
    if not finish_round(run, head, pool, subs, workers):
        return
    problems = [f"{s.lang}: {s.output().strip()[-200:]}" for s in subs if f"results ok {tasks}" not in s.output()]
    counts = check_served(workers, tasks * len(subs), problems)
    report(run, head, problems, f"{what} (served by {counts})")
    run.rm(pool)


def map_chunks(run, langs, submitter, tasks, chunk):
    """A map (Python's Pool.starmap, Go's Pool.Map) sends its arguments as JSON
    arrays, `chunk` tasks to a pool message; a worker in every language takes
    a chunk's tasks together (or, by take, one by one) and the results come
    back to the map in order, as arrays."""
    head = (f"interop pool map ({submitter} maps {tasks} tasks, {chunk} to a chunk; "
            f"{len(langs)} workers)")
    submitters_round(run, langs, "map", head, [(submitter, ["pool-map", str(tasks), str(chunk)])], tasks,
                     "every result in order")


def complete(run, langs, tasks):
    """Results nobody waits for: submitters in Python (callbacks), Go (a select on Done),
    Java (CompletableFuture) and C# (await) each put all their tasks in at once and let the
    handle's completion thread receive the results, from workers in every language."""
    submitters = [(l, ["pool-complete", str(tasks)]) for l in ("python", "go", "java", "csharp") if l in langs]
    head = (f"interop pool complete ({len(submitters)} submitters x {tasks} tasks, nobody waiting; "
            f"{len(langs)} workers)")
    submitters_round(run, langs, "complete", head, submitters, tasks, "every result through the completion path")


def run_all(run, agent_class, langs, which):
    global Agent
    Agent = agent_class
    import sync_scenarios
    sync_scenarios.Agent = agent_class
    if "serve" in which:
        serve(run, langs, 200)
    if "kill" in which:
        kill(run, langs, 20)
    if "cancel" in which:
        cancel(run, langs, 400)
    if "complete" in which:
        complete(run, langs, 200)
    if "map" in which:
        for submitter in ("python", "go"):
            if submitter in langs:
                map_chunks(run, langs, submitter, 600, 25)
