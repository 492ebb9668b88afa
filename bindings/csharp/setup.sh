#!/usr/bin/env bash
# The C# binding's toolchain, all from Debian: swig, mono's mcs compiler and
# runtime, Newtonsoft.Json (pkg-config newtonsoft-json) and pkg-config.
# Idempotent: quick and offline when everything is installed. The tests use
# their own small runner (no NUnit needed).
set -euo pipefail

packages=(swig pkg-config mono-mcs mono-runtime libnewtonsoft-json-cil-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup (csharp): installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }
  if [ "$(id -u)" -ne 0 ]; then apt_get() { sudo -E apt-get -o DPkg::Lock::Timeout=600 "$@"; }; fi
  apt_get update -qq
  apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
