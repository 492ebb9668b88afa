#!/usr/bin/env bash
# The polyglot crash-safety demo. Act 1: five languages share the joinable
# queue demo.jobs in a namespace of their own:
#   - a C worker (examples/c, --hang) takes the first job and stops in the
#     middle of it; it is killed with kill -9 before task_done;
#   - a Go producer (examples/go) puts the jobs, closes the queue for writing
#     and waits in join();
#   - a Rust worker (examples/rust) does a few jobs and leaves;
#   - a Java worker (examples/java) does the rest, including the killed
#     worker's job, which the library hands out again;
#   - a C# process (the interop agent's `watch`) follows the queue's counters
#     meanwhile, and a Python process (the polyipc package) checks and sums up.
# Act 2: six languages buy tickets from one JSON file under a Lock; a buyer
# is killed holding it and the next one repairs the file (OWNER_DEAD).
# Act 3: processes in four languages sleep on an Event; `polyipc set` wakes them.
# Act 4: Go services submit tasks to a worker pool; a C worker is killed holding
# one, which a Python, Java or Rust worker finishes with the rest.
# `polyipc ls` shows the objects. Exits non-zero when any of that does not
# happen. BUILD_DIR overrides build/, DEMO_JOBS the number of jobs (default 12).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build=${BUILD_DIR:-$root/build}
cli=$build/cli/polyipc
c_worker=$build/examples/c/polyipc_example_worker
go_producer=$build/examples/go/producer
java_worker=$build/examples/java/worker
csharp_agent=$build/tests/interop/agents/agent-csharp
rust_target=$build/examples/rust/target
rust_worker=$rust_target/release/worker
jobs=${DEMO_JOBS:-12}
rust_jobs=3 # the Rust worker takes this many jobs, then leaves
limit=60    # seconds any one step may take before the demo gives up

say() { printf '\n== %s\n' "$*"; }
fail() {
  echo "demo: FAILED: $*" >&2
  if [ -n "${tmp:-}" ]; then
    for log in "$tmp"/*.log; do [ -f "$log" ] && { echo "--- $(basename "$log")" >&2; cat "$log" >&2; }; done
  fi
  exit 1
}
show() { sed 's/^/  | /' "$@"; }

[[ $jobs =~ ^[0-9]+$ ]] && [ "$jobs" -ge $((rust_jobs + 2)) ] || fail "DEMO_JOBS must be a number >= $((rust_jobs + 2))"
for program in "$cli" "$c_worker" "$go_producer" "$java_worker" "$csharp_agent"; do
  [ -x "$program" ] || fail "$program is missing: its language's binding was not built (see scripts/setup.sh and the cmake output)"
done
python=$(sed -n 's/^Python3_EXECUTABLE:FILEPATH=//p' "$build/CMakeCache.txt")
[ -n "$python" ] && [ -f "$build/bindings/python/package/polyipc/__init__.py" ] ||
  fail "the Python binding was not built in $build"

# examples/rust has no CMake entry (ctest builds it under `ctest -L rust`): build the worker here.
cargo=$(command -v cargo || echo "$HOME/.cargo/bin/cargo")
[ -x "$cargo" ] || fail "cargo is missing (bindings/rust/setup.sh)"
echo "demo: building the Rust example worker (cargo, into $rust_target)"
POLYIPC_LIB_DIR=$(dirname "$(readlink -f "$build/capi/libpolyipc.so")") CARGO_TARGET_DIR=$rust_target \
  CARGO_TERM_COLOR=never "$cargo" build --quiet --release --locked --manifest-path "$root/examples/rust/Cargo.toml" ||
  fail "cargo could not build examples/rust"

# A namespace of its own: the demo never sees or touches anyone else's objects.
export POLYIPC_NAMESPACE=demo-$$
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done # only the demo's own processes
  "$cli" rm demo.jobs demo.office demo.go demo.ready demo.pool >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# Drops a reaped pid from the cleanup list (its number may be reused by then).
forget() {
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}
# Waits (at most $2 s) for process $1 to end, then returns its exit status.
wait_bounded() {
  timeout "$2" tail --pid="$1" -f /dev/null || return 124
  local rc=0
  wait "$1" || rc=$?
  return "$rc"
}
# Waits (at most $limit s) for process $1 and forgets it once it has ended;
# sets rc to its exit status (124: still running).
reap() {
  rc=0
  wait_bounded "$1" "$limit" || rc=$?
  [ "$rc" -eq 124 ] || forget "$1"
}
# Reaps the processes $2...; fails naming them ($1) when one did not exit 0.
reap_all() {
  local what=$1 p
  shift
  for p in "$@"; do
    reap "$p"
    [ "$rc" -eq 0 ] || fail "$what failed (exit $rc)"
  done
}
# Reads the C worker's output (fd 3) until a line matches $1, at most $limit s.
read_until() {
  local deadline=$((SECONDS + limit)) left line
  while :; do
    left=$((deadline - SECONDS))
    [ "$left" -gt 0 ] || fail "the C worker did not say '$1' within ${limit}s"
    IFS= read -r -t "$left" line <&3 || fail "the C worker ended or went silent before saying '$1'"
    echo "  | $line"
    case $line in *"$1"*) matched=$line && return 0 ;; esac
  done
}

say "namespace $POLYIPC_NAMESPACE, $jobs jobs, programs from $build"

# The C worker starts first and alone, so it is the one that takes the first job.
# Its stdout is a FIFO read line by line: the moment it holds a job is known
# exactly, without sleeping.
say "a C worker opens demo.jobs (creating it, joinable) and waits for jobs"
mkfifo "$tmp/c-worker.fifo"
"$c_worker" c-worker --hang >"$tmp/c-worker.fifo" 2>&1 &
cw=$!
pids+=("$cw")
exec 3<"$tmp/c-worker.fifo"
read_until "waiting for jobs"

say "a C# process watches demo.jobs; a Go producer puts $jobs jobs, closes the queue for writing and waits in join()"
"$csharp_agent" watch demo.jobs $((4 * limit)) >"$tmp/csharp-watcher.log" 2>&1 &
watcher=$!
pids+=("$watcher")
"$go_producer" "$jobs" >"$tmp/go-producer.log" 2>&1 &
prod=$!
pids+=("$prod")
read_until "took job"
held_job=$(sed -E 's/.*took job ([0-9-]+).*/\1/' <<<"$matched")

say "a Rust worker does $rust_jobs jobs and leaves (the C worker still holds job $held_job)"
"$rust_worker" "$rust_jobs" >"$tmp/rust-worker.log" 2>&1 &
rw=$!
pids+=("$rw")
reap "$rw"
show "$tmp/rust-worker.log"
[ "$rc" -eq 0 ] || fail "the Rust worker failed (exit $rc)"

say "polyipc ls: demo.jobs while the C worker (pid $cw) holds job $held_job"
"$cli" ls | show

say "kill -9 the C worker (pid $cw) in the middle of job $held_job: it never calls task_done"
rc=0
{ kill -9 "$cw" && wait "$cw"; } 2>/dev/null || rc=$? # (quiet: no "Killed" job report from bash)
forget "$cw"
exec 3<&-
[ "$rc" -eq 137 ] || fail "the C worker exited with $rc, not killed by SIGKILL"
echo "  | the C worker is dead (exit status $rc)"

say "a Java worker takes what is left, including job $held_job handed out again, and stops at the end of the stream"
"$java_worker" >"$tmp/java-worker.log" 2>&1 &
jw=$!
pids+=("$jw")
reap "$jw"
show "$tmp/java-worker.log"
[ "$rc" -eq 0 ] || fail "the Java worker failed (exit $rc)"

say "the Go producer's join() returns once every job is task_done"
reap "$prod"
show "$tmp/go-producer.log"
[ "$rc" -eq 0 ] || fail "the Go producer failed (exit $rc): join did not return"
grep -q "done by the workers" "$tmp/go-producer.log" || fail "the Go producer did not report that join returned"

say "what the C# watcher saw"
reap "$watcher"
show "$tmp/csharp-watcher.log"
[ "$rc" -eq 0 ] || fail "the C# watcher failed (exit $rc)"

say "a Python process checks the work and sums up"
rc=0
PYTHONPATH="$build/bindings/python/package" PYTHONDONTWRITEBYTECODE=1 timeout "$limit" "$python" - \
  "$tmp" "$jobs" "$held_job" "$rust_jobs" >"$tmp/python-summary.log" 2>&1 <<'EOF' || rc=$?
import re
import sys

import polyipc

tmp, jobs, held, rust_jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
done = {}
for lang in ("rust", "java"):
    with open(f"{tmp}/{lang}-worker.log") as f:
        for line in f:
            m = re.match(r"worker (\w+) pid \d+: job (\d+) done", line)
            if m:
                done.setdefault(int(m.group(2)), []).append(lang)
st = polyipc.stat("demo.jobs")
c = st["counters"]
by = {lang: sorted(j for j, who in done.items() if lang in who) for lang in ("rust", "java")}
problems = [f"job {j} was never done" for j in range(1, jobs + 1) if j not in done]
problems += [f"job {j} was done {len(w)} times ({', '.join(w)})" for j, w in sorted(done.items()) if len(w) > 1]
if len(by["rust"]) != rust_jobs:
    problems.append(f"the rust worker did {len(by['rust'])} jobs, not {rust_jobs}")
if held not in by["java"]:
    problems.append(f"job {held}, held by the killed C worker, was not done by the java worker")
if c["redeliveries"] < 1:
    problems.append(f"the redeliveries counter is {c['redeliveries']}")
if st["unfinished_tasks"] != 0 or st["depth"] != 0 or not st["closed"]:
    problems.append(f"demo.jobs is not finished: depth {st['depth']}, unfinished {st['unfinished_tasks']}, closed {st['closed']}")
print(f"summary python: {c['puts']} jobs put on demo.jobs, {len(done)} done by the workers, "
      f"{st['unfinished_tasks']} unfinished, closed for writing: {st['closed']}")
print(f"summary python: rust did jobs {by['rust']}; java did jobs {by['java']}")
print(f"summary python: job {held} was taken {c['redeliveries'] + 1} times (the C worker died holding it, "
      f"redeliveries counter {c['redeliveries']}) and done once, by java")
for p in problems:
    print(f"summary python: PROBLEM: {p}")
sys.exit(1 if problems else 0)
EOF
show "$tmp/python-summary.log"
[ "$rc" -eq 0 ] || fail "the Python summary found problems (exit $rc)"

say "polyipc stat demo.jobs after the run"
"$cli" stat demo.jobs | show
redeliveries=$("$cli" stat demo.jobs --json | grep -Eo '"redeliveries": *[0-9]+' | grep -Eo '[0-9]+$' || true)
rust_did=$(grep -c ': job [0-9]* done' "$tmp/rust-worker.log" || true)
java_did=$(grep -c ': job [0-9]* done' "$tmp/java-worker.log" || true)

say "a ticket office: buyers in C, Go, Java, C#, Python and Rust share $tmp/tickets.json under the Lock demo.office"
agents=$build/tests/interop/agents
echo '{"remaining": 60, "sold": 0, "buyers": {}, "repairs": 0, "pending": null}' >"$tmp/tickets.json"
# The Python buyer stops in the middle of a sale, holding the lock; it is killed there.
"$agents/agent-python" tickets demo.office "$tmp/tickets.json" python-killed --hang >"$tmp/victim.log" 2>&1 &
victim=$!
pids+=("$victim")
deadline=$((SECONDS + limit))
until grep -q holding "$tmp/victim.log"; do
  [ $SECONDS -lt $deadline ] && kill -0 "$victim" 2>/dev/null || fail "the Python buyer did not start a sale"
  sleep 0.05 # polling a log file for the demo's narration; the library itself never sleeps to synchronise
done
echo "  | the Python buyer (pid $victim) holds demo.office in the middle of a sale"
buyers=()
for lang in c go java csharp python rust; do
  "$agents/agent-$lang" tickets demo.office "$tmp/tickets.json" "$lang" >"$tmp/buyer-$lang.log" 2>&1 &
  buyers+=("$!")
  pids+=("$!")
done
{ kill -9 "$victim" && wait "$victim"; } 2>/dev/null || true
forget "$victim"
echo "  | kill -9 the Python buyer: the next buyer gets the lock with OWNER_DEAD and repairs the file"
reap_all "a buyer" "${buyers[@]}"
cat "$tmp"/buyer-*.log | show
"$python" - "$tmp/tickets.json" <<'PY' | show || fail "the ticket file is inconsistent"
import json, sys
t = json.load(open(sys.argv[1]))
ok = t["remaining"] == 0 and t["sold"] == 60 and sum(t["buyers"].values()) == 60 and t["pending"] is None and t["repairs"] == 1
print(f"tickets.json: sold {t['sold']}, remaining {t['remaining']}, by {t['buyers']}, repairs {t['repairs']}, pending {t['pending']}")
sys.exit(0 if ok else 1)
PY

say "an Event: waiters in Go, Java, Rust and Python sleep on demo.go; 'polyipc set demo.go' wakes them all"
waiters=()
for lang in go java rust python; do
  "$agents/agent-$lang" event-wait demo.go demo.ready "$lang" >"$tmp/waiter-$lang.log" 2>&1 &
  waiters+=("$!")
  pids+=("$!")
done
deadline=$((SECONDS + limit))
until [ "$("$cli" peek demo.ready --count 10 --json 2>/dev/null | grep -c '"id"')" -ge 4 ]; do
  [ $SECONDS -lt $deadline ] || fail "the event waiters did not all start"
  sleep 0.05 # (the demo's narration, as above)
done
"$cli" ls | show
"$cli" set demo.go | show
reap_all "an event waiter" "${waiters[@]}"
cat "$tmp"/waiter-*.log | show
"$cli" rm demo.office demo.go demo.ready >/dev/null

say "a Dict: C, Go, Java, C#, Python and Rust processes at once write an entry into demo.stats and count to 3000 with compare-and-set"
writers=()
for lang in c go java csharp python rust; do
  "$agents/agent-$lang" dict-write demo.stats 500 "$lang" >"$tmp/dict-$lang.log" 2>&1 &
  writers+=("$!")
  pids+=("$!")
done
reap_all "a dict writer" "${writers[@]}"
cat "$tmp"/dict-*.log | show
"$cli" dict demo.stats | show
dict_counter=$("$cli" dict demo.stats counter)
[ "$dict_counter" = 3000 ] || fail "demo.stats counter is $dict_counter, expected 3000"
"$agents/agent-go" dict-check demo.stats c,go,java,csharp,python,rust go | show || fail "the Go check of demo.stats failed"
"$cli" rm demo.stats >/dev/null

relay_rounds=500
say "watching a Dict: a token goes round C, Go, Java, C#, Python and Rust $relay_rounds times through demo.baton; each process sleeps in wait_change until its turn, while 'polyipc top' watches"
"$cli" dict demo.baton token 0 --create >/dev/null
"$cli" top demo.baton --iterations 3 --interval 0.5 </dev/null >"$tmp/top.log" 2>&1 &
top_pid=$!
pids+=("$top_pid")
relays=()
index=0
for lang in c go java csharp python rust; do
  "$agents/agent-$lang" dict-relay demo.baton "$index" 6 "$relay_rounds" "$lang" >"$tmp/relay-$lang.log" 2>&1 &
  relays+=("$!")
  pids+=("$!")
  index=$((index + 1))
done
reap_all "a relay" "${relays[@]}"
cat "$tmp"/relay-*.log | show
reap_all "polyipc top" "$top_pid"
show "$tmp/top.log"
baton=$("$cli" dict demo.baton token)
[ "$baton" = $((6 * relay_rounds)) ] || fail "demo.baton token is $baton, expected $((6 * relay_rounds))"
"$cli" rm demo.baton >/dev/null

say "a worker pool: Go services submit tasks to demo.pool; a C worker is killed mid-task; Python, Java and Rust workers serve the rest"
"$agents/agent-c" pool-work demo.pool --hang-after 1 >"$tmp/pool-victim.log" 2>&1 &
pool_victim=$!
pids+=("$pool_victim")
"$agents/agent-go" pool-submit demo.pool 2 >"$tmp/pool-submit-first.log" 2>&1 &
pool_first=$!
pids+=("$pool_first")
deadline=$((SECONDS + limit))
until grep -q "took task" "$tmp/pool-victim.log"; do
  [ $SECONDS -lt $deadline ] || fail "the C pool worker did not take a task"
  sleep 0.05 # (the demo's narration, as above)
done
pool_task=$(sed -n 's/^took task //p' "$tmp/pool-victim.log")
echo "the C worker finished task 1 and holds task $pool_task" | show
pool_workers=()
for lang in python java rust; do
  "$agents/agent-$lang" pool-work demo.pool >"$tmp/pool-$lang.log" 2>&1 &
  pool_workers+=("$!")
  pids+=("$!")
done
# The 40 tasks come once all three workers have the pool open, so that each gets a share.
deadline=$((SECONDS + limit))
until "$cli" stat demo.pool --json | "$python" -c '
import json, sys
attached = {a["pid"] for a in json.load(sys.stdin).get("attached", [])}
sys.exit(0 if all(int(p) in attached for p in sys.argv[1:]) else 1)' "${pool_workers[@]}"; do
  [ $SECONDS -lt $deadline ] || fail "the pool workers did not all start"
  sleep 0.05 # (the demo's narration, as above)
done
"$cli" ls | show
echo "kill -9 the C worker holding task $pool_task" | show
{ kill -9 "$pool_victim" && wait "$pool_victim"; } 2>/dev/null || true
forget "$pool_victim"
"$agents/agent-go" pool-submit demo.pool 40 >"$tmp/pool-submit.log" 2>&1 &
pool_submitter=$!
pids+=("$pool_submitter")
reap_all "a Go submitter (checking every result)" "$pool_first" "$pool_submitter"
pool_redeliveries=$("$cli" stat demo.pool --json | "$python" -c 'import json,sys; print(json.load(sys.stdin)["counters"]["redeliveries"])')
"$agents/agent-c" pool-close demo.pool || fail "could not close the tasks of demo.pool"
reap_all "a pool worker" "${pool_workers[@]}"
pool_served=""
for lang in python java rust; do
  pool_served+="$lang $(sed -n 's/^served //p' "$tmp/pool-$lang.log"), "
done
pool_served=${pool_served%, }
cat "$tmp/pool-submit-first.log" "$tmp/pool-submit.log" | show
echo "served by: $pool_served (42 tasks, task $pool_task among them; whichever worker is free first takes the next)" | show
[ "$pool_redeliveries" = 1 ] || fail "demo.pool counted $pool_redeliveries redeliveries, expected 1"
"$cli" rm demo.pool >/dev/null

say "remove the demo's objects"
"$cli" rm demo.jobs | show
"$cli" ls | show
[ "$("$cli" ls --json | tr -d ' \n')" = "[]" ] || fail "namespace $POLYIPC_NAMESPACE is not empty after rm"

say "what happened"
cat <<EOF
  - a C worker created the joinable queue 'demo.jobs' (namespace $POLYIPC_NAMESPACE) and took job $held_job
  - a Go producer put $jobs JSON jobs on it, closed it for writing and waited in join()
  - a Rust worker did $rust_did jobs and left
  - the C worker was killed with kill -9 in the middle of job $held_job, before task_done
  - the library handed job $held_job out again (redeliveries counter: ${redeliveries:-?}); a Java worker did it and the
    $((java_did - 1)) other jobs left, then stopped at the end of the stream
  - every job was done exactly once and join() returned in the Go producer: kill -9 lost no work
  - a C# process watched the counters throughout; a Python process checked the result
  - six languages sold 60 tickets from one JSON file under the Lock 'demo.office'; a Python buyer was killed
    with kill -9 holding the lock mid-sale; the next buyer got OWNER_DEAD, repaired the file, and nothing was
    oversold or lost
  - Go, Java, Rust and Python processes slept on the Event 'demo.go' until 'polyipc set demo.go' woke them all
  - six languages wrote into the Dict 'demo.stats' at once and incremented its counter 500 times each by
    compare-and-set: it read exactly $dict_counter, and Go read back every language's entry intact
  - a token went round the six languages $relay_rounds times through the Dict 'demo.baton': each process slept in
    wait_change until the one before it had passed the token ($baton turns in order); 'polyipc top' showed
    the dict's calls per second meanwhile
  - Go services submitted 2 and then 40 tasks to the worker pool 'demo.pool' and checked every result; a C
    worker was killed with kill -9 holding task $pool_task, which another worker finished (redeliveries:
    $pool_redeliveries); of the Python, Java and Rust workers, whichever was free first took each next
    task ($pool_served)
  - demo.jobs was removed; the namespace is empty
demo: OK
EOF
