#!/bin/sh
# Installs the current build tree into a fresh temporary prefix, checks the
# installed layout, then builds and runs tests/install/consumer twice against
# that prefix only: with `cc $(pkg-config --cflags --libs polyipc)` and with a
# CMake project doing find_package(polyipc REQUIRED) + polyipc::polyipc.
#
# Driven by ctest (tests/install/CMakeLists.txt); all arguments are NAME=VALUE:
#   BUILD_DIR      the build tree to install         CMAKE      cmake executable
#   SOURCE_DIR     the source tree of that build
#   CONSUMER_DIR   tests/install/consumer            CC         C compiler
#   WORK_DIR       where the temporary dir goes      PKG_CONFIG pkg-config executable
#   LIBDIR INCLUDEDIR BINDIR   GNUInstallDirs values READELF    readelf executable
#   VERSION        PROJECT_VERSION                   GENERATOR, MAKE_PROGRAM  for the CMake consumer
#   CLI            0: no CLI; 1: CLI installed; 2: CLI installed with an rpath to the prefix
set -eu

TEST_NAME=install_test
. "$(dirname "$0")/lib.sh"
parse_args "$@"
BUILD_DIR=$ARG_BUILD_DIR; SOURCE_DIR=$ARG_SOURCE_DIR; CONSUMER_DIR=$ARG_CONSUMER_DIR; WORK_DIR=$ARG_WORK_DIR
CMAKE=$ARG_CMAKE; CC=$ARG_CC; PKG_CONFIG=$ARG_PKG_CONFIG; READELF=$ARG_READELF
LIBDIR=$ARG_LIBDIR; INCLUDEDIR=$ARG_INCLUDEDIR; BINDIR=$ARG_BINDIR
VERSION=$ARG_VERSION; GENERATOR=$ARG_GENERATOR; MAKE_PROGRAM=${ARG_MAKE_PROGRAM:-}; CLI=${ARG_CLI:-0}

require_tools "$CMAKE" "$CC" "$PKG_CONFIG" "$READELF"

make_tmp "$WORK_DIR"
PREFIX=$TMP/prefix

step "cmake --install $BUILD_DIR --prefix $PREFIX"
"$CMAKE" --install "$BUILD_DIR" --prefix "$PREFIX" >"$TMP/install.log" 2>&1 \
  || { cat "$TMP/install.log" >&2; fail "cmake --install failed"; }

# ---- layout ----------------------------------------------------------------
case "$LIBDIR" in /*) LIB=$LIBDIR ;; *) LIB=$PREFIX/$LIBDIR ;; esac
case "$INCLUDEDIR" in /*) INC=$INCLUDEDIR ;; *) INC=$PREFIX/$INCLUDEDIR ;; esac
case "$BINDIR" in /*) BIN=$BINDIR ;; *) BIN=$PREFIX/$BINDIR ;; esac

# Fails unless binary $1, run without LD_LIBRARY_PATH, loads the
# libpolyipc.so.0 of the prefix (through its rpath).
check_loads_prefix_lib() {
  line=$(env -u LD_LIBRARY_PATH ldd "$1" | grep 'libpolyipc\.so\.0' || true)
  loaded=$(echo "$line" | sed -n 's/.*=> \(.*\) (0x[0-9a-f]*)$/\1/p')
  [ -n "$loaded" ] && [ "$(readlink -f "$loaded")" = "$(readlink -f "$LIB/libpolyipc.so.0")" ] \
    || fail "$1 does not load libpolyipc.so.0 from $LIB: '$line'"
}
run_consumer() {
  check_loads_prefix_lib "$1"
  env -u LD_LIBRARY_PATH "$1" || fail "$1 exited with status $?"
}

step "checking the installed files"
[ -f "$LIB/libpolyipc.so.$VERSION" ] && [ ! -L "$LIB/libpolyipc.so.$VERSION" ] \
  || fail "$LIB/libpolyipc.so.$VERSION is missing or not a regular file"
[ "$(readlink "$LIB/libpolyipc.so.0")" = "libpolyipc.so.$VERSION" ] \
  || fail "libpolyipc.so.0 is not a symlink to libpolyipc.so.$VERSION"
[ "$(readlink "$LIB/libpolyipc.so")" = "libpolyipc.so.0" ] \
  || fail "libpolyipc.so is not a symlink to libpolyipc.so.0"
"$READELF" -d "$LIB/libpolyipc.so.$VERSION" | grep -q 'Library soname: \[libpolyipc\.so\.0\]' \
  || fail "installed library has not SONAME libpolyipc.so.0"
if "$READELF" -d "$LIB/libpolyipc.so.$VERSION" | grep -E '\((RPATH|RUNPATH)\)' | grep -qF "$BUILD_DIR"; then
  fail "installed library keeps an rpath into the build tree"
fi
[ -f "$INC/polyipc.h" ] || fail "$INC/polyipc.h is missing"
[ -f "$LIB/pkgconfig/polyipc.pc" ] || fail "$LIB/pkgconfig/polyipc.pc is missing"
for f in polyipcConfig.cmake polyipcConfigVersion.cmake polyipcTargets.cmake; do
  [ -f "$LIB/cmake/polyipc/$f" ] || fail "$LIB/cmake/polyipc/$f is missing"
done
leaked=$(find "$PREFIX" -name '*polyipc_core*' | head -n 5)
[ -z "$leaked" ] || fail "the static core library was installed: $leaked"
# The package files must not point back into the source or build tree (the
# prefix itself lives in the build tree, so its own path is taken out first).
if find "$LIB/pkgconfig" "$LIB/cmake/polyipc" "$INC/polyipc.h" -type f -exec cat {} + | awk \
    -v p="$PREFIX" -v b="$BUILD_DIR" -v s="$SOURCE_DIR" '
    { line = $0; out = ""
      while ((i = index(line, p)) > 0) { out = out substr(line, 1, i - 1); line = substr(line, i + length(p)) }
      out = out line
      if (index(out, b) || index(out, s)) { print; found = 1 } }
    END { exit !found }' >"$TMP/leaks"; then
  fail "installed package files refer to the source or build tree: $(cat "$TMP/leaks")"
fi
if cat "$LIB"/cmake/polyipc/*.cmake | grep -v '^[[:space:]]*#' \
    | grep -E 'polyipc_core|Boost|nlohmann|Threads|GTest' >"$TMP/leaks"; then
  fail "the exported CMake package drags private dependencies: $(cat "$TMP/leaks")"
fi
if [ "$CLI" != 0 ]; then
  [ -x "$BIN/polyipc" ] || fail "the CLI $BIN/polyipc is missing"
  if [ "$CLI" = 2 ] && "$READELF" -d "$BIN/polyipc" | grep -q 'Shared library: \[libpolyipc\.so\.0\]'; then
    # It links the shared library: it must resolve to the one of the prefix.
    check_loads_prefix_lib "$BIN/polyipc"
    env -u LD_LIBRARY_PATH "$BIN/polyipc" --help >/dev/null 2>&1 \
      || fail "installed CLI: '$BIN/polyipc --help' failed"
  fi
fi


# ---- consumer 1: plain cc + pkg-config ------------------------------------
step "building the consumer with $CC + pkg-config"
PKG_CONFIG_PATH=$LIB/pkgconfig
export PKG_CONFIG_PATH
pcdir=$("$PKG_CONFIG" --variable=pcfiledir polyipc) || fail "pkg-config does not find polyipc"
[ "$pcdir" = "$LIB/pkgconfig" ] || fail "pkg-config found polyipc in $pcdir, not in the prefix"
pcversion=$("$PKG_CONFIG" --modversion polyipc)
[ "$pcversion" = "$VERSION" ] || fail "pkg-config says version $pcversion, expected $VERSION"
"$PKG_CONFIG" --exists "polyipc >= $VERSION" || fail "pkg-config: polyipc >= $VERSION not satisfied"
flags=$("$PKG_CONFIG" --cflags --libs polyipc)
echo "pkg-config --cflags --libs polyipc: $flags"
# shellcheck disable=SC2086  # the flags are meant to be split
"$CC" -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -o "$TMP/consumer-pkgconfig" \
  "$CONSUMER_DIR/consumer.c" $flags -Wl,-rpath,"$LIB" \
  || fail "building the consumer with pkg-config flags failed"
run_consumer "$TMP/consumer-pkgconfig"

# ---- consumer 2: CMake find_package -------------------------------------------
step "building the consumer with find_package(polyipc)"
set -- -S "$CONSUMER_DIR" -B "$TMP/consumer-build" -G "$GENERATOR" \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_C_COMPILER="$CC" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
  -DPOLYIPC_EXPECTED_VERSION="$VERSION" -DPOLYIPC_EXPECTED_DIR="$LIB/cmake/polyipc"
[ -n "$MAKE_PROGRAM" ] && set -- "$@" -DCMAKE_MAKE_PROGRAM="$MAKE_PROGRAM"
env -u CMAKE_PREFIX_PATH "$CMAKE" "$@" || fail "configuring the CMake consumer failed"
"$CMAKE" --build "$TMP/consumer-build" || fail "building the CMake consumer failed"
run_consumer "$TMP/consumer-build/consumer"

echo "install_test: OK"
