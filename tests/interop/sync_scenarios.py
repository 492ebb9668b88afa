"""The synchronisation scenarios across languages (README.md, "Synchronisation
scenarios"), driven through run_interop's Run and Agent."""
import json
import os
import time


def wait_for_output(agent, text, limit):
    """Bounded: until the agent printed `text` (True), exited, or limit s passed."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if text in agent.output():
            return True
        if agent.poll() is not None:
            return False
        time.sleep(0.01)
    return False


def peek_all(run, queue, count=100000):
    r = run.cli_run("peek", queue, "--count", str(count), "--json")
    if r.returncode != 0:
        raise RuntimeError(f"polyipc peek {queue} failed: {r.stderr.strip()}")
    return [m["message"] for m in json.loads(r.stdout)]


def report(run, head, problems, ok_text):
    if problems:
        run.failures += 1
        print(f"{head}: FAILED: {problems[0]} ({len(problems)} problems in all)", flush=True)
        for p in problems[1:10]:
            print(f"  | {p}")
    else:
        print(f"{head}: ok {ok_text}", flush=True)


def finish_agents(run, head, agents, limit):
    bad = run.wait_all(agents, limit)
    if bad:
        run.report_failure(head, bad)
    return not bad


def tickets(run, langs, victim, total):
    """Buyers in every language share one Lock and a JSON file; the victim is
    killed holding the lock mid-sale and the next buyer repairs the file."""
    head = f"interop sync tickets ({victim} killed mid-sale)"
    lock, path = "sync.tickets", os.path.join(run.work, "tickets.json")
    run.rm(lock)
    with open(path, "w") as f:
        json.dump({"remaining": total, "sold": 0, "buyers": {}, "repairs": 0, "pending": None}, f)
    v = Agent(run, victim, ["tickets", lock, path, f"{victim}-victim", "--hang"], f"tickets.{victim}.victim")
    if not wait_for_output(v, "holding", run.timeout):
        run.report_failure(head + " (victim)", [v])
        v.kill()
        return
    buyers = [Agent(run, l, ["tickets", lock, path, l], f"tickets.{l}") for l in langs]
    v.kill()
    start = time.monotonic()
    if not finish_agents(run, head, buyers, run.timeout):
        return
    with open(path) as f:
        t = json.load(f)
    bought = {}
    problems = []
    for a in buyers:
        line = [l for l in a.output().splitlines() if l.startswith(f"tickets {a.lang}: bought")]
        if not line:
            problems.append(f"{a.lang}: no 'bought' line: {a.output().strip()[-200:]!r}")
            continue
        bought[a.lang] = int(line[-1].split()[-1])
    if t["remaining"] != 0 or t["sold"] != total:
        problems.append(f"remaining {t['remaining']}, sold {t['sold']} (expected 0 and {total})")
    if t["pending"] is not None:
        problems.append(f"a sale left pending: {t['pending']}")
    if t["repairs"] != 1:
        problems.append(f"{t['repairs']} repairs (expected exactly 1: the victim's sale)")
    if sum(t["buyers"].values()) != total or any(t["buyers"].get(l, 0) != n for l, n in bought.items()):
        problems.append(f"buyers in the file {t['buyers']} disagree with what they report {bought}")
    if sum(bought.values()) != total:
        problems.append(f"buyers report {sum(bought.values())} tickets in all, {total} were sold")
    report(run, head, problems, f"{total} tickets sold by {len(langs)} languages, never oversold, "
                                f"1 torn sale repaired after OWNER_DEAD ({time.monotonic() - start:.1f} s; {bought})")
    run.rm(lock, lock)


def semaphore(run, langs, per_lang, iterations):
    """Semaphore(3) shared by per_lang processes of each language; a holder is
    killed first, and its slot must come back: the most ever inside is exactly 3."""
    head = f"interop sync semaphore ({per_lang * len(langs)} processes, a holder killed)"
    sem, log = "sync.sem", "sync.sem.log"
    run.rm(sem, log)
    v = Agent(run, "c", ["semaphore", sem, log, "victim", "1", "--hang"], "sem.victim")
    if not wait_for_output(v, "holding", run.timeout):
        run.report_failure(head + " (victim)", [v])
        v.kill()
        return
    v.kill()
    workers = [Agent(run, l, ["semaphore", sem, log, f"{l}{k}", str(iterations)], f"sem.{l}{k}")
               for l in langs for k in range(per_lang)]
    if not finish_agents(run, head, workers, run.timeout):
        return
    inside, most, problems = 0, 0, []
    events = [e for e in peek_all(run, log) if e.get("id") != "victim"]
    for e in events:
        inside += 1 if e["ev"] == "enter" else -1
        most = max(most, inside)
    if len(events) != 2 * iterations * len(workers):
        problems.append(f"{len(events)} events logged, expected {2 * iterations * len(workers)}")
    if most != 3:
        problems.append(f"at most {most} inside at once, expected exactly 3")
    info = run.stat(sem) or {}
    if info.get("value") != 3:
        problems.append(f"value {info.get('value')} after all released, expected 3")
    report(run, head, problems, f"at most {most} of {len(workers)} processes inside at once, "
                                f"the killed holder's slot came back (value {info.get('value')})")
    run.rm(sem, log)


def event(run, langs):
    """For each language: it sets one Event that the other languages wait on."""
    for setter in langs:
        waiters_langs = [l for l in langs if l != setter]
        head = f"interop sync event ({setter} sets, {len(waiters_langs)} languages wait)"
        ev, ready = f"sync.event.{setter}", f"sync.event.{setter}.ready"
        run.rm(ev, ready)
        waiters = [Agent(run, l, ["event-wait", ev, ready, l], f"event.{setter}.{l}") for l in waiters_langs]
        end = time.monotonic() + run.timeout
        while waiters and time.monotonic() < end and all(a.poll() is None for a in waiters):
            try:
                if len(peek_all(run, ready)) == len(waiters):
                    break
            except RuntimeError:
                pass  # not created yet
            time.sleep(0.02)
        s = Agent(run, setter, ["event-set", ev, setter], f"event.{setter}.set")
        if finish_agents(run, head, [s, *waiters], run.timeout):
            problems = [f"{a.lang}: {a.output().strip()!r}" for a in waiters if f"event {a.lang}: woken" not in a.output()]
            report(run, head, problems, "every waiter woken")
        run.rm(ev, ready)


def barrier(run, langs, rounds, short_lang):
    head = f"interop sync barrier ({len(langs)} parties, {rounds} rounds)"
    b, out = "sync.barrier", "sync.barrier.out"
    run.rm(b, out)
    agents = [Agent(run, l, ["barrier", b, str(len(langs)), str(rounds), out, l], f"barrier.{l}") for l in langs]
    if finish_agents(run, head, agents, run.timeout):
        problems = []
        got = {m["id"]: m["indexes"] for m in peek_all(run, out)}
        if sorted(got) != sorted(langs):
            problems.append(f"results from {sorted(got)}")
        else:
            for r in range(rounds):
                idx = sorted(got[l][r] for l in langs)
                if idx != list(range(len(langs))):
                    problems.append(f"round {r}: arrival indexes {idx}")
        report(run, head, problems, f"every round gave each party a distinct arrival index 0..{len(langs) - 1}")
    run.rm(b, out)
    # A timeout breaks it for everyone: one more party than will ever come.
    head = f"interop sync barrier timeout ({short_lang} times out, the others see it broken)"
    b = "sync.barrier.timeout"
    run.rm(b)
    agents = [Agent(run, l, ["barrier-timeout", b, str(len(langs) + 1), "1500" if l == short_lang else "60000", l],
                    f"barrier-timeout.{l}") for l in langs]
    if finish_agents(run, head, agents, run.timeout):
        problems = []
        for a in agents:
            want = "timeout" if a.lang == short_lang else "broken"
            if f"barrier {a.lang}: {want}" not in a.output():
                problems.append(f"{a.lang}: expected '{want}', got {a.output().strip()!r}")
        report(run, head, problems, "one timeout, every other waiter broken")
    run.rm(b)


def condition(run, pairs, n):
    for producer, consumer in pairs:
        head = f"interop sync condition ({producer} -> {consumer} bounded buffer)"
        cond, path = f"sync.cond.{producer}.{consumer}", os.path.join(run.work, f"buffer.{producer}.{consumer}.json")
        run.rm(cond, cond + ".lock")
        with open(path, "w") as f:
            json.dump({"items": [], "capacity": 4}, f)
        p = Agent(run, producer, ["condition-produce", cond, path, str(n), producer], f"cond.{producer}.produce")
        c = Agent(run, consumer, ["condition-consume", cond, path, str(n), consumer], f"cond.{consumer}.consume")
        if finish_agents(run, head, [p, c], run.timeout):
            report(run, head, [], f"{n} items through a buffer of 4, in order")
        run.rm(cond, cond + ".lock")


Agent = None  # set by run_interop (avoids a circular import)


def run_all(run, agent_class, langs, which):
    global Agent
    Agent = agent_class
    if "tickets" in which:
        tickets(run, langs, victim=langs[-1], total=300)
    if "semaphore" in which:
        semaphore(run, langs, per_lang=2, iterations=100)
    if "event" in which:
        event(run, langs)
    if "barrier" in which:
        barrier(run, langs, rounds=100, short_lang=langs[0])
    if "condition" in which:
        rot = langs[1:] + langs[:1]
        condition(run, list(zip(langs, rot)), 200)
