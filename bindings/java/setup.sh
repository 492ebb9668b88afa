#!/usr/bin/env bash
# The Java binding's toolchain: a JDK 17, Maven and SWIG from Debian. Idempotent
# and quick (no network) when they are installed. Maven fetches the jar's
# dependencies (Jackson, JUnit, plugins) from Maven Central on the first build.
set -euo pipefail

packages=(openjdk-17-jdk-headless maven swig)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A JDK 17 installed another way (JAVA_HOME, or javac on PATH) is fine too.
if [[ " ${missing[*]} " == *" openjdk-17-jdk-headless "* ]]; then
  javac_bin=${JAVA_HOME:+$JAVA_HOME/bin/}javac
  if command -v "$javac_bin" >/dev/null 2>&1 && "$javac_bin" -version 2>&1 | grep -qE 'javac (1[7-9]|[2-9][0-9])'; then
    missing=("${missing[@]/openjdk-17-jdk-headless}")
  fi
fi
command -v mvn >/dev/null 2>&1 && missing=("${missing[@]/maven}")
read -r -a missing <<<"${missing[*]}"

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup (java): installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }
  if [ "$(id -u)" -ne 0 ]; then apt_get() { sudo -E apt-get -o DPkg::Lock::Timeout=600 "$@"; }; fi
  apt_get update -qq
  apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
