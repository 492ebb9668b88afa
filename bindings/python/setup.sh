#!/usr/bin/env bash
# What the Python binding's build and tests need: swig and CPython headers
# (Debian), and pytest for the `python3` on PATH (the interpreter CMake builds
# the extension for and ctest runs pytest with). Quick and offline when present.
set -euo pipefail

missing=()
for p in swig python3-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "python setup: installing ${missing[*]}"
  sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=$(command -v python3 || true)
if [ -z "$python" ]; then
  echo "python setup: no python3 on PATH" >&2
  exit 1
fi
if ! "$python" -c 'import pytest' 2>/dev/null; then
  echo "python setup: installing pytest for $python"
  "$python" -m pip install --quiet --disable-pip-version-check pytest \
    || "$python" -m pip install --quiet --disable-pip-version-check --break-system-packages pytest
fi
# The headers of that interpreter (pyenv builds carry their own; Debian's come with python3-dev).
"$python" - <<'PY'
import os, sys, sysconfig
h = os.path.join(sysconfig.get_paths()["include"], "Python.h")
if not os.path.exists(h):
    sys.exit(f"python setup: {sys.executable} has no {h}: install its development headers")
PY
