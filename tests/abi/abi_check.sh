#!/bin/sh
# ABI checks of the built libpolyipc.so (run by ctest, label abi):
#   1. its SONAME is libpolyipc.so.0;
#   2. every defined dynamic symbol starts with polyipc_ (the version node
#      POLYIPC_0 excepted) and carries the POLYIPC_0 version of polyipc.map;
#   3. every function declared POLYIPC_API in polyipc.h is exported.
# Usage: abi_check.sh LIBRARY HEADER NM READELF
set -eu
LIB=$1 HEADER=$2 NM=${3:-nm} READELF=${4:-readelf}

status=0
fail() { echo "abi_check: FAILED: $*" >&2; status=1; }

[ -f "$LIB" ] || { echo "abi_check: no library at $LIB" >&2; exit 1; }
[ -f "$HEADER" ] || { echo "abi_check: no header at $HEADER" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/polyipc-abi.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# ---- 1. SONAME ------------------------------------------------------------
"$READELF" -d "$LIB" >"$TMP/dynamic" || { echo "abi_check: readelf failed on $LIB" >&2; exit 1; }
sonames=$(sed -n 's/.*(SONAME).*Library soname: \[\(.*\)\].*/\1/p' "$TMP/dynamic")
[ "$sonames" = "libpolyipc.so.0" ] || fail "SONAME is '$sonames', expected 'libpolyipc.so.0'"

# ---- 2. exported symbols ------------------------------------------------------
# nm -D prints "VALUE TYPE NAME[@[@]VERSION]" (binutils >= 2.35 appends the version).
"$NM" -D --defined-only "$LIB" >"$TMP/nm" || { echo "abi_check: nm failed on $LIB" >&2; exit 1; }
awk 'NF >= 2 { print $NF }' "$TMP/nm" >"$TMP/defined"
[ -s "$TMP/defined" ] || fail "the library defines no dynamic symbol at all"
# Strip symbol versions, drop the version node itself.
sed 's/@.*//' "$TMP/defined" | grep -vx 'POLYIPC_0' | sort -u >"$TMP/exported" || true
grep -v '^polyipc_' "$TMP/exported" >"$TMP/foreign" || true
if [ -s "$TMP/foreign" ]; then
  fail "symbols outside the polyipc_ namespace are exported ($(wc -l <"$TMP/foreign") of them):"
  sed 's/^/    /' "$TMP/foreign" | head -n 50 >&2
fi
# Every exported polyipc_ symbol must be bound to version POLYIPC_0, i.e. the
# version script capi/polyipc.map is in effect (nm of binutils >= 2.35 prints
# NAME@@VERSION for the default version of a symbol).
"$READELF" -V "$LIB" | grep -q 'Name: POLYIPC_0' \
  || fail "the library defines no version node POLYIPC_0 (is capi/polyipc.map used?)"
grep '^polyipc_' "$TMP/defined" | grep -v '@@POLYIPC_0$' >"$TMP/unversioned" || true
if [ -s "$TMP/unversioned" ]; then
  fail "exported symbols without the default version POLYIPC_0:"
  sed 's/^/    /' "$TMP/unversioned" | head -n 50 >&2
fi

# ---- 3. every POLYIPC_API function of the header is exported -------------------
# Declarations look like:  POLYIPC_API <type> [*]polyipc_name(...
grep -E '^[[:space:]]*POLYIPC_API[[:space:]]' "$HEADER" >"$TMP/decl_lines" || true
sed -n 's/^[[:space:]]*POLYIPC_API[^(]*[^A-Za-z0-9_]\(polyipc_[A-Za-z0-9_]*\)[[:space:]]*(.*/\1/p' \
  "$TMP/decl_lines" | sort >"$TMP/declared_all"
ndecl=$(wc -l <"$TMP/decl_lines")
nparsed=$(wc -l <"$TMP/declared_all")
if [ "$ndecl" -eq 0 ]; then
  fail "no POLYIPC_API declaration found in $HEADER"
elif [ "$ndecl" -ne "$nparsed" ]; then
  fail "parsed $nparsed function names out of $ndecl POLYIPC_API lines of $HEADER (unexpected declaration form)"
fi
dups=$(uniq -d "$TMP/declared_all")
[ -z "$dups" ] || fail "declared more than once in $HEADER: $dups"
sort -u "$TMP/declared_all" >"$TMP/declared"
comm -23 "$TMP/declared" "$TMP/exported" >"$TMP/missing"
if [ -s "$TMP/missing" ]; then
  fail "declared POLYIPC_API in polyipc.h but not exported:"
  sed 's/^/    /' "$TMP/missing" >&2
fi
# Not a failure: exported but undeclared functions widen the ABI by accident.
comm -13 "$TMP/declared" "$TMP/exported" >"$TMP/undeclared"
if [ -s "$TMP/undeclared" ]; then
  echo "abi_check: note: exported but not declared in polyipc.h:" >&2
  sed 's/^/    /' "$TMP/undeclared" >&2
fi

if [ "$status" -eq 0 ]; then
  echo "abi_check: OK: SONAME libpolyipc.so.0, $(wc -l <"$TMP/exported") polyipc_ symbols exported, all $(wc -l <"$TMP/declared") declared functions present"
fi
exit "$status"
