#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest.
# Ends with ctest's summary line; exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build=${BUILD_DIR:-$root/build}
# A namespace of its own so tests never touch objects of other users.
export POLYIPC_NAMESPACE=${POLYIPC_NAMESPACE:-test-$$}
cd "$build"
ctest --output-on-failure --timeout 900 -j "$(nproc)" "$@"
