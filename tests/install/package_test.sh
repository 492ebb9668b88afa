#!/bin/sh
# Builds the Debian packages of this build tree with cpack, checks each one's
# name, dependencies and files, unpacks all of them into a temporary root (the
# machine's own /usr is never touched), then builds and runs
# tests/install/consumer against that root with pkg-config and with
# find_package(), and runs the packaged CLI.
#
# Driven by ctest (tests/install/CMakeLists.txt); all arguments are NAME=VALUE:
#   BUILD_DIR     the configured and built tree     CPACK       cpack executable
#   CONSUMER_DIR  tests/install/consumer            CMAKE, CC, PKG_CONFIG, READELF
#   WORK_DIR      where the temporary dir goes      VERSION, MAJOR   PROJECT_VERSION(_MAJOR)
#   GENERATOR, MAKE_PROGRAM  for the CMake consumer CLI         1 when the CLI is built
#   PYTHON        the interpreter the Python binding was built for (empty: not built)
set -eu

TEST_NAME=package_test
. "$(dirname "$0")/lib.sh"
parse_args "$@"
BUILD_DIR=$ARG_BUILD_DIR; CONSUMER_DIR=$ARG_CONSUMER_DIR; WORK_DIR=$ARG_WORK_DIR
CPACK=$ARG_CPACK; CMAKE=$ARG_CMAKE; CC=$ARG_CC; PKG_CONFIG=$ARG_PKG_CONFIG; READELF=$ARG_READELF
VERSION=$ARG_VERSION; MAJOR=$ARG_MAJOR; GENERATOR=$ARG_GENERATOR; MAKE_PROGRAM=${ARG_MAKE_PROGRAM:-}
CLI=${ARG_CLI:-0}
PYTHON=${ARG_PYTHON:-}

require_tools "$CPACK" "$CMAKE" "$CC" "$PKG_CONFIG" "$READELF" dpkg-deb

make_tmp "$WORK_DIR"

step "cpack -G DEB ($BUILD_DIR)"
(cd "$BUILD_DIR" && "$CPACK" -G DEB -B "$TMP/out") >"$TMP/cpack.log" 2>&1 \
  || { cat "$TMP/cpack.log" >&2; fail "cpack failed"; }

LIB=libpolyipc$MAJOR
deb() { echo "$TMP/out/${1}_${VERSION}_$(dpkg --print-architecture).deb"; }
field() { dpkg-deb -f "$(deb "$1")" "$2"; }
files() { dpkg-deb -c "$(deb "$1")" | awk '{ print $6 }' | sed 's|^\./|/|' | grep -v '/$' | sort; }
packages="$LIB libpolyipc-dev"
[ "$CLI" = 1 ] && packages="$packages polyipc"
[ -n "$PYTHON" ] && packages="$packages python3-polyipc"
for p in $packages; do
  [ -f "$(deb "$p")" ] || fail "no package $p: $(ls "$TMP/out")"
  [ "$(field "$p" Package)" = "$p" ] && [ "$(field "$p" Version)" = "$VERSION" ] \
    || fail "$p: Package/Version fields are '$(field "$p" Package)' '$(field "$p" Version)'"
done

step "what each package holds and needs"
expect_files() {  # package, then the exact file list (the per-configuration CMake targets file aside)
  p=$1; shift
  want=$(printf '%s\n' "$@" | sort)
  got=$(files "$p" | grep -v '/polyipcTargets-[a-z]*\.cmake$' || true)
  [ "$got" = "$want" ] || fail "$p holds
$got
expected
$want"
}
expect_files "$LIB" /usr/lib/libpolyipc.so.$MAJOR /usr/lib/libpolyipc.so.$VERSION
expect_files libpolyipc-dev /usr/include/polyipc.h /usr/lib/libpolyipc.so /usr/lib/pkgconfig/polyipc.pc \
  /usr/lib/cmake/polyipc/polyipcConfig.cmake /usr/lib/cmake/polyipc/polyipcConfigVersion.cmake \
  /usr/lib/cmake/polyipc/polyipcTargets.cmake
[ "$(files libpolyipc-dev | grep -c '/polyipcTargets-[a-z]*\.cmake$')" = 1 ] \
  || fail "libpolyipc-dev: not exactly one polyipcTargets-<config>.cmake"
[ "$CLI" = 1 ] && expect_files polyipc /usr/bin/polyipc
field "$LIB" Depends | grep -q 'libc6' || fail "$LIB: Depends lacks libc6: $(field "$LIB" Depends)"
field "$LIB" Depends | grep -q 'libstdc++6' || fail "$LIB: Depends lacks libstdc++6: $(field "$LIB" Depends)"
field libpolyipc-dev Depends | grep -qF "$LIB (= $VERSION)" \
  || fail "libpolyipc-dev: Depends is '$(field libpolyipc-dev Depends)', not on $LIB (= $VERSION)"
[ "$CLI" = 1 ] && { field polyipc Depends | grep -qF "$LIB (= $VERSION)" \
  || fail "polyipc: Depends is '$(field polyipc Depends)', not on $LIB (= $VERSION)"; }
if [ -n "$PYTHON" ]; then
  pydir=/usr/lib/python3/dist-packages/polyipc
  files python3-polyipc | grep -qx "$pydir/__init__.py" || fail "python3-polyipc lacks $pydir/__init__.py"
  [ "$(files python3-polyipc | grep -c "^$pydir/_polyipc_native\.cpython-.*\.so$")" = 1 ] \
    || fail "python3-polyipc: not exactly one extension module in $pydir: $(files python3-polyipc)"
  stray=$(files python3-polyipc | grep -v "^$pydir/[^/]*\.\(py\|so\)$" || true)
  [ -z "$stray" ] || fail "python3-polyipc holds files outside $pydir: $stray"
  pyver=$("$PYTHON" -c 'import sys; print("%d.%d %d.%d" % (sys.version_info[0], sys.version_info[1], sys.version_info[0], sys.version_info[1] + 1))')
  for want in "$LIB (= $VERSION)" "python3 (>= ${pyver% *})" "python3 (<< ${pyver#* })"; do
    field python3-polyipc Depends | grep -qF "$want" \
      || fail "python3-polyipc: Depends is '$(field python3-polyipc Depends)', without $want"
  done
fi
dpkg-deb -e "$(deb "$LIB")" "$TMP/control"
grep -qx "libpolyipc $MAJOR $LIB (>= $VERSION)" "$TMP/control/shlibs" \
  || fail "$LIB: shlibs file is '$(cat "$TMP/control/shlibs" 2>/dev/null)'"
[ -x "$TMP/control/postinst" ] || fail "$LIB: no postinst (ldconfig)"

step "unpacking into $TMP/root"
ROOT=$TMP/root
for p in $packages; do dpkg-deb -x "$(deb "$p")" "$ROOT"; done
"$READELF" -d "$ROOT/usr/lib/libpolyipc.so.$VERSION" | grep -q "Library soname: \[libpolyipc\.so\.$MAJOR\]" \
  || fail "packaged library has not SONAME libpolyipc.so.$MAJOR"
if "$READELF" -S "$ROOT/usr/lib/libpolyipc.so.$VERSION" | grep -q '\.debug_info'; then
  fail "packaged library is not stripped"
fi
if grep -rF "$BUILD_DIR" "$ROOT/usr/lib/pkgconfig" "$ROOT/usr/lib/cmake" >"$TMP/leaks"; then
  fail "packaged files refer to the build tree: $(cat "$TMP/leaks")"
fi
grep -qx 'prefix=/usr' "$ROOT/usr/lib/pkgconfig/polyipc.pc" || fail "polyipc.pc: prefix is not /usr"

# ---- consumer 1: cc + pkg-config, the root as sysroot ----------------------------
step "building the consumer with $CC + pkg-config"
flags=$(PKG_CONFIG_LIBDIR=$ROOT/usr/lib/pkgconfig PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR=$ROOT \
  PKG_CONFIG_SYSTEM_LIBRARY_PATH= PKG_CONFIG_SYSTEM_INCLUDE_PATH= "$PKG_CONFIG" --cflags --libs polyipc) \
  || fail "pkg-config does not find polyipc in the packages"
echo "pkg-config --cflags --libs polyipc: $flags"
# shellcheck disable=SC2086  # the flags are meant to be split
"$CC" -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -o "$TMP/consumer-pkgconfig" \
  "$CONSUMER_DIR/consumer.c" $flags || fail "building the consumer with pkg-config flags failed"
LD_LIBRARY_PATH=$ROOT/usr/lib "$TMP/consumer-pkgconfig" || fail "consumer (pkg-config) exited with status $?"

# ---- consumer 2: CMake find_package ------------------------------------------------
step "building the consumer with find_package(polyipc)"
set -- -S "$CONSUMER_DIR" -B "$TMP/consumer-build" -G "$GENERATOR" \
  -DCMAKE_PREFIX_PATH="$ROOT/usr" -DCMAKE_C_COMPILER="$CC" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
  -DPOLYIPC_EXPECTED_VERSION="$VERSION" -DPOLYIPC_EXPECTED_DIR="$ROOT/usr/lib/cmake/polyipc"
[ -n "$MAKE_PROGRAM" ] && set -- "$@" -DCMAKE_MAKE_PROGRAM="$MAKE_PROGRAM"
env -u CMAKE_PREFIX_PATH "$CMAKE" "$@" >"$TMP/consumer-cmake.log" 2>&1 \
  || { cat "$TMP/consumer-cmake.log" >&2; fail "configuring the CMake consumer failed"; }
"$CMAKE" --build "$TMP/consumer-build" >>"$TMP/consumer-cmake.log" 2>&1 \
  || { cat "$TMP/consumer-cmake.log" >&2; fail "building the CMake consumer failed"; }
LD_LIBRARY_PATH=$ROOT/usr/lib "$TMP/consumer-build/consumer" || fail "consumer (CMake) exited with status $?"

if [ "$CLI" = 1 ]; then
  step "the packaged CLI"
  # Its rpath ($ORIGIN/../lib) finds the packaged library beside it.
  loaded=$(env -u LD_LIBRARY_PATH ldd "$ROOT/usr/bin/polyipc" | sed -n 's/.*libpolyipc\.so\.[0-9]* => \(.*\) (0x.*/\1/p')
  [ "$(readlink -f "$loaded")" = "$(readlink -f "$ROOT/usr/lib/libpolyipc.so.$MAJOR")" ] \
    || fail "the packaged CLI loads '$loaded', not the packaged library"
  env -u LD_LIBRARY_PATH "$ROOT/usr/bin/polyipc" --help >/dev/null || fail "packaged 'polyipc --help' failed"
fi

if [ -n "$PYTHON" ]; then
  step "the packaged Python binding ($PYTHON)"
  # Nothing from the build tree: the package's directory on the path, and the
  # extension's rpath ($ORIGIN/../../..) finding the packaged library.
  env -u LD_LIBRARY_PATH PYTHONPATH="$ROOT/usr/lib/python3/dist-packages" PYTHONDONTWRITEBYTECODE=1 \
    POLYIPC_NAMESPACE="package-test-$$" "$PYTHON" - "$ROOT" <<'PY' || fail "the packaged Python binding failed"
import os
import sys

root = os.path.realpath(sys.argv[1])
import polyipc

assert os.path.realpath(polyipc.__file__).startswith(root + "/"), f"imported {polyipc.__file__}"
with open("/proc/self/maps") as maps:
    libs = {os.path.realpath(line.split()[-1]) for line in maps if "libpolyipc.so" in line}
assert len(libs) == 1 and next(iter(libs)).startswith(root + "/usr/lib/"), f"loaded {libs}"
q = polyipc.Queue("package-test", ephemeral=True)
q.put({"from": "python3-polyipc", "n": [1, 2, 3]})
got = q.get(timeout=5)
assert got == {"from": "python3-polyipc", "n": [1, 2, 3]}, got
q.close()
print("python3-polyipc: imported from the package, loaded", next(iter(libs)), "and round-tripped a message")
PY
fi

echo "package_test: OK ($packages)"
