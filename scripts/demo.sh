#!/usr/bin/env bash
# The crash-safety demo: a producer and two workers (examples/c) exchange JSON
# jobs through the joinable queue demo.jobs. Worker 1 takes a job and is killed
# with kill -9 before task_done; the library hands that job to worker 2, and the
# producer's join() still returns. `polyipc ls` shows the queue meanwhile.
# Exits non-zero when any of that does not happen. BUILD_DIR overrides build/,
# DEMO_JOBS the number of jobs (default 8).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build=${BUILD_DIR:-$root/build}
cli=$build/cli/polyipc
producer=$build/examples/c/polyipc_example_producer
worker=$build/examples/c/polyipc_example_worker
jobs=${DEMO_JOBS:-8}
limit=60  # seconds any one step may take before the demo gives up

# A namespace of its own: the demo never sees or touches anyone else's objects.
export POLYIPC_NAMESPACE=demo-$$
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done  # only the demo's own processes
  "$cli" rm demo.jobs >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
fail() {
  echo "demo: FAILED: $*" >&2
  for log in "$tmp"/*.log; do [ -f "$log" ] && { echo "--- $(basename "$log")" >&2; cat "$log" >&2; }; done
  exit 1
}
show() { sed 's/^/  | /' "$@"; }
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

say "namespace $POLYIPC_NAMESPACE, $jobs jobs, binaries from $build"

# Worker 1 starts first and alone, so it is the one that takes the first job.
# Its stdout is a FIFO the script reads line by line: the moment it reports
# holding a job is known exactly, without sleeping.
mkfifo "$tmp/worker-1.fifo"
"$worker" worker-1 --hang >"$tmp/worker-1.fifo" 2>&1 &
w1=$!
pids+=("$w1")
exec 3<"$tmp/worker-1.fifo"

"$producer" "$jobs" "$limit" >"$tmp/producer.log" 2>&1 &
prod=$!
pids+=("$prod")

say "worker-1 (pid $w1) takes a job and stops in the middle of it"
held_line=""
deadline=$((SECONDS + limit))
while [ -z "$held_line" ]; do
  left=$((deadline - SECONDS))
  [ "$left" -gt 0 ] || fail "worker-1 did not take a job within ${limit}s"
  IFS= read -r -t "$left" line <&3 || fail "worker-1 ended or went silent before taking a job"
  echo "  | $line"
  case $line in *"took job"*) held_line=$line ;; esac
done
held_job=$(sed -E 's/.*took job ([0-9-]+).*/\1/' <<<"$held_line")

"$worker" worker-2 >"$tmp/worker-2.log" 2>&1 &
w2=$!
pids+=("$w2")

say "polyipc ls while worker-1 holds job $held_job and worker-2 (pid $w2) is working"
"$cli" ls | show

say "kill -9 worker-1 (pid $w1) while it holds job $held_job (it never calls task_done)"
rc=0
{ kill -9 "$w1" && wait "$w1"; } 2>/dev/null || rc=$?  # (quiet: no "Killed" job report from bash)
forget "$w1"
exec 3<&-
[ "$rc" -eq 137 ] || fail "worker-1 exited with $rc, not killed by SIGKILL"
echo "  | worker-1 is dead (exit status $rc)"

say "the producer waits in join() until every job is task_done"
rc=0
wait_bounded "$prod" $((limit + 10)) || rc=$?
[ "$rc" -eq 124 ] || forget "$prod"
show "$tmp/producer.log"
[ "$rc" -eq 0 ] || fail "the producer failed (exit $rc): join did not return"
grep -q "join returned" "$tmp/producer.log" || fail "the producer did not report that join returned"

say "worker-2 stops once the queue is closed for writing and drained"
rc=0
wait_bounded "$w2" "$limit" || rc=$?
[ "$rc" -eq 124 ] || forget "$w2"
show "$tmp/worker-2.log"
[ "$rc" -eq 0 ] || fail "worker-2 failed (exit $rc)"

grep -q "^worker-2: did job $held_job:" "$tmp/worker-2.log" ||
  fail "job $held_job, held by the killed worker-1, was not redelivered to worker-2"
done_jobs=$(grep -Eo '^worker-2: did job [0-9]+' "$tmp/worker-2.log" | sort -u | wc -l)
[ "$done_jobs" -eq "$jobs" ] || fail "worker-2 did $done_jobs distinct jobs, expected $jobs"

say "polyipc stat demo.jobs after the run"
"$cli" stat demo.jobs | show
redeliveries=$("$cli" stat demo.jobs --json | grep -Eo '"redeliveries": *[0-9]+' | grep -Eo '[0-9]+$' || true)

say "remove the demo's objects"
"$cli" rm demo.jobs | show
"$cli" ls | show
[ "$("$cli" ls --json | tr -d ' \n')" = "[]" ] || fail "namespace $POLYIPC_NAMESPACE is not empty after rm"

say "what happened"
cat <<EOF
  - the producer put $jobs JSON jobs on the joinable queue 'demo.jobs' (namespace $POLYIPC_NAMESPACE)
  - worker-1 (pid $w1) took job $held_job and was killed with kill -9 before calling task_done
  - the library handed job $held_job to worker-2, which did it${redeliveries:+ (redeliveries counter: $redeliveries)}
  - worker-2 did all $jobs jobs and called task_done for each; no job was lost
  - join() returned in the producer, which then closed the queue; worker-2 drained it and stopped
  - demo.jobs was removed; the namespace is empty
demo: OK
EOF
