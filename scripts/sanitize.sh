#!/usr/bin/env bash
# The C++ core, the C API, the CLI and their tests built with AddressSanitizer
# (leaks included) and UndefinedBehaviorSanitizer, every report fatal, then
# their tests run (ctest labels core, capi, cli and abi; the bindings are not
# built, and install and interop need uninstrumented consumers or other
# languages). Not part of test.sh: on 2 cores the build takes ~13 min, then
# the 712 tests of --quick ~1 min; the kill-at-every-instruction tests it
# leaves out take 2-4 min each (~30 min in all).
#   BUILD_DIR   build tree (default: <repo>/build-sanitize)
#   SANITIZE    the -fsanitize list (default: address,undefined)
# Usage: scripts/sanitize.sh [--quick] [ctest options...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-sanitize}
quick=()
if [ "${1:-}" = --quick ]; then
  quick=(-E KillEveryInstruction)
  shift
fi
"$root/scripts/setup.sh"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPOLYIPC_SANITIZE="${SANITIZE:-address,undefined}" -DPOLYIPC_BUILD_BINDINGS=OFF -DPOLYIPC_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --parallel "$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
cd "$build"
exec ctest --output-on-failure -j "$(nproc)" --timeout 1200 -L "^(core|capi|cli|abi)$" "${quick[@]}" "$@"
