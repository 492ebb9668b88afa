#!/usr/bin/env bash
# What the Rust binding needs beyond scripts/setup.sh: bindgen and libclang
# for the test that the committed polyipc-sys/src/bindings.rs is what
# bindgen makes of polyipc.h (builds themselves need neither), and a C
# compiler for the test that compares constants and layouts with C.
# Rust itself (cargo, rustc >= 1.85) comes with this kind of machine (rustup);
# without it the binding's CMake skips the Rust tests and says so.
# Idempotent; no network when all is present.
set -euo pipefail
packages=(bindgen libclang1-14 gcc libc6-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bindings/rust/setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
cargo=$(command -v cargo || true)
[ -z "$cargo" ] && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ] && cargo=${CARGO_HOME:-$HOME/.cargo}/bin/cargo
if [ -z "$cargo" ]; then
  echo "bindings/rust/setup.sh: warning: no cargo found; the Rust binding's tests are skipped" >&2
fi
exit 0
