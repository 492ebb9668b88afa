"""The pipe and shared-memory scenarios across languages (README.md, "Pipe and
shared-memory scenarios"), driven through run_interop's Run and Agent."""
import time

from sync_scenarios import finish_agents, report, wait_for_output

Agent = None  # set by run_all (run_interop's Agent class)


def pingpong(run, pinger, ponger, n):
    head = f"interop ipc pipe ({pinger} pings, {ponger} pongs)"
    pipe = f"ipc.pipe.{pinger}.{ponger}"
    run.rm(pipe)
    start = time.monotonic()
    b = Agent(run, ponger, ["pipe-pong", pipe, str(n), ponger], f"pipe.{ponger}.pong")
    a = Agent(run, pinger, ["pipe-ping", pipe, str(n), pinger], f"pipe.{pinger}.ping")
    if finish_agents(run, head, [a, b], run.timeout):
        problems = [f"{x.lang}: {x.output().strip()[-200:]!r}" for x, want in
                    ((a, f"pipe {pinger}: {n} round trips"), (b, f"pipe {ponger}: {n} replies")) if want not in x.output()]
        report(run, head, problems, f"{n} JSON round trips ({time.monotonic() - start:.1f} s)")
    run.rm(pipe)


def eof(run, langs):
    """Every language sees the end of stream: once when the sender closes its
    end, once when the sender is killed with kill -9 holding it."""
    for receiver in langs:
        for killed in (False, True):
            sender = "c" if killed else langs[(langs.index(receiver) + 1) % len(langs)]
            how = f"{sender} killed with kill -9" if killed else f"{sender} closes"
            head = f"interop ipc pipe eof ({receiver} receives, {how})"
            pipe = f"ipc.eof.{receiver}.{int(killed)}"
            run.rm(pipe)
            r = Agent(run, receiver, ["pipe-eof", pipe, receiver], f"eof.{receiver}.{int(killed)}")
            s = Agent(run, sender, ["pipe-send", pipe, "3", sender] + (["--hang"] if killed else []),
                      f"eof.{receiver}.{int(killed)}.sender")
            if killed:
                if not wait_for_output(s, "holding", run.timeout):
                    run.report_failure(head + " (sender)", [s])
                    r.kill()
                    continue
                s.kill()
            if finish_agents(run, head, [r] if killed else [r, s], run.timeout):
                want = f"pipe {receiver}: eof after 3 messages"
                problems = [] if want in r.output() else [f"{receiver}: {r.output().strip()[-200:]!r}"]
                report(run, head, problems, "3 messages, then end of stream")
            run.rm(pipe)


def shm(run, writer, readers, size):
    head = f"interop ipc shared memory ({writer} writes {size} bytes, {len(readers)} languages read)"
    name = "ipc.shm"
    run.rm(name)
    w = Agent(run, writer, ["shm-write", name, str(size), "17", writer], f"shm.{writer}.write")
    if not finish_agents(run, head + " (writing)", [w], run.timeout):
        run.rm(name)
        return
    checkers = [Agent(run, l, ["shm-check", name, str(size), "17", l], f"shm.{l}.check") for l in readers]
    if finish_agents(run, head, checkers, run.timeout):
        problems = [f"{a.lang}: {a.output().strip()[-200:]!r}" for a in checkers
                    if f"shm {a.lang}: checked {size}" not in a.output()]
        report(run, head, problems, "every reader saw every byte")
    run.rm(name)


def counter(run, langs, per_lang):
    head = f"interop ipc counter ({len(langs)} languages x {per_lang} atomic adds)"
    name = "ipc.counter"
    run.rm(name)
    agents = [Agent(run, l, ["counter", name, str(per_lang), l], f"counter.{l}") for l in langs]
    if finish_agents(run, head, agents, run.timeout):
        info = run.stat(name) or {}
        total = (info.get("values") or [None])[0]
        want = per_lang * len(langs)
        report(run, head, [] if total == want else [f"the value is {total}, expected {want}"], f"the value is exactly {want}")
    run.rm(name)


def dict_share(run, langs, increments):
    """Every language at once writes its own entry (non-BMP key, a value with
    int64 extremes and escapes) and increments one counter by get +
    compare_and_set; then every language reads every entry back."""
    head = f"interop ipc dict ({len(langs)} languages x {increments} compare-and-set increments, then all read all)"
    name = "ipc.dict"
    run.rm(name)
    writers = [Agent(run, l, ["dict-write", name, str(increments), l], f"dict.{l}.write") for l in langs]
    if not finish_agents(run, head + " (writing)", writers, run.timeout):
        run.rm(name)
        return
    r = run.cli_run("dict", name, "counter")
    want = increments * len(langs)
    problems = [] if r.returncode == 0 and r.stdout.strip() == str(want) else [
        f"the counter is {r.stdout.strip() or r.stderr.strip()!r}, expected {want}"]
    checkers = [Agent(run, l, ["dict-check", name, ",".join(langs), l], f"dict.{l}.check") for l in langs]
    if finish_agents(run, head, checkers, run.timeout):
        problems += [f"{a.lang}: {a.output().strip()[-200:]!r}" for a in checkers
                     if f"dict {a.lang}: checked {len(langs)} entries" not in a.output()]
        report(run, head, problems, f"the counter is exactly {want}; every language read every entry")
    run.rm(name)


def list_share(run, langs, n):
    """Every language at once appends n values to one list; then every
    language checks that each language's values are all there, in order."""
    head = f"interop ipc list ({len(langs)} languages append {n} values each at once, then all check all)"
    name = "ipc.list"
    run.rm(name)
    writers = [Agent(run, l, ["list-append", name, str(n), l], f"list.{l}.append") for l in langs]
    if not finish_agents(run, head + " (appending)", writers, run.timeout):
        run.rm(name)
        return
    checkers = [Agent(run, l, ["list-check", name, ",".join(langs), str(n), l], f"list.{l}.check") for l in langs]
    if finish_agents(run, head, checkers, run.timeout):
        total = n * len(langs)
        problems = [f"{a.lang}: {a.output().strip()[-200:]!r}" for a in checkers
                    if f"list {a.lang}: checked {total} values" not in a.output()]
        report(run, head, problems, f"{total} values, each language's in its order")
    run.rm(name)


def watch_relay(run, langs, rounds):
    """A token goes round the languages through one dict: each sleeps in
    wait_change until the token is its turn, then passes it on."""
    head = f"interop ipc watch (a token round {len(langs)} languages x {rounds} rounds, each waiting in wait_change)"
    name = "ipc.watch"
    run.rm(name)
    relays = [Agent(run, l, ["dict-relay", name, str(i), str(len(langs)), str(rounds), l], f"watch.{l}")
              for i, l in enumerate(langs)]
    if finish_agents(run, head, relays, run.timeout):
        r = run.cli_run("dict", name, "token")
        want = rounds * len(langs)
        problems = [] if r.returncode == 0 and r.stdout.strip() == str(want) else [
            f"the token is {r.stdout.strip() or r.stderr.strip()!r}, expected {want}"]
        problems += [f"{a.lang}: {a.output().strip()[-200:]!r}" for a in relays
                     if f"relay {a.lang}: {rounds} turns" not in a.output()]
        report(run, head, problems, f"{want} turns in order; the token reads {want}")
    run.rm(name)


def run_all(run, agent_class, langs, which):
    global Agent
    Agent = agent_class
    import sync_scenarios
    sync_scenarios.Agent = agent_class
    if "pipe" in which:
        a, b = ("java", "go") if {"java", "go"} <= set(langs) else (langs[0], langs[-1])
        pingpong(run, a, b, 100000)
        for i, l in enumerate(langs):  # every language on both ends, 1000 each
            pingpong(run, l, langs[(i + 1) % len(langs)], 1000)
    if "eof" in which:
        eof(run, langs)
    if "shm" in which:
        writer = "rust" if "rust" in langs else langs[0]
        shm(run, writer, [l for l in langs if l != writer] or [writer], 1 << 20)
    if "counter" in which:
        four = [l for l in ("java", "go", "csharp", "python") if l in langs] or langs
        counter(run, four, 1000000 // len(four))
    if "dict" in which:
        dict_share(run, langs, 2000)
    if "list" in which:
        list_share(run, langs, 500)
    if "watch" in which:
        watch_relay(run, langs, 200)
