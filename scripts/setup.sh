#!/usr/bin/env bash
# Installs every Debian package the build, tests, demo and benchmarks need.
# Idempotent: does nothing (and needs no network) when all are present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev
  swig python3-dev libcli11-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }
  if [ "$(id -u)" -ne 0 ]; then apt_get() { sudo apt-get -o DPkg::Lock::Timeout=600 "$@"; }; fi
  apt_get update -qq
  apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Each language binding installs what its own toolchain needs.
root=$(cd "$(dirname "$0")/.." && pwd)
for lang_setup in "$root"/bindings/*/setup.sh; do
  if [ -x "$lang_setup" ]; then "$lang_setup"; fi
done
echo "setup: all build and test packages present"
