#!/usr/bin/env bash
# What the Go binding needs beyond scripts/setup.sh: swig (for the
# generated-up-to-date check) and gcc (cgo, -race). Go itself (>= 1.23) comes
# with this kind of machine (/usr/local/go); Debian's golang-go is 1.19, too
# old for go.mod, so it is not a fallback: without Go the binding's CMake
# skips the Go tests and says so. Idempotent; no network when all is present.
set -euo pipefail
packages=(swig gcc libc6-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bindings/go/setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
go=$(command -v go || true)
[ -z "$go" ] && [ -x /usr/local/go/bin/go ] && go=/usr/local/go/bin/go
if [ -z "$go" ]; then
  echo "bindings/go/setup.sh: warning: no Go toolchain (go >= 1.23) found; the Go binding's tests are skipped" >&2
  exit 0
fi
version=$("$go" env GOVERSION)  # go1.26.8
minor=$(echo "$version" | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ -z "$minor" ] || [ "$minor" -lt 23 ]; then
  echo "bindings/go/setup.sh: warning: $version is older than go1.23; the Go binding needs go1.23 or newer" >&2
fi
