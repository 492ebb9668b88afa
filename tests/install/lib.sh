# Shared by install_test.sh and package_test.sh (sourced; POSIX sh).
# NAME=VALUE arguments become ARG_NAME; fail/step report under $TEST_NAME;
# make_tmp leaves a fresh directory in $TMP, removed on exit.

parse_args() {
  for arg in "$@"; do
    case "$arg" in
      *=*) eval "ARG_${arg%%=*}=\${arg#*=}" ;;
      *) echo "$TEST_NAME: bad argument '$arg'" >&2; exit 2 ;;
    esac
  done
}

fail() { echo "$TEST_NAME: FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }

require_tools() {
  for tool in "$@"; do
    [ -n "$tool" ] && command -v "$tool" >/dev/null 2>&1 || fail "required tool '$tool' not found"
  done
}

make_tmp() {  # $1: the directory it goes in
  mkdir -p "$1"
  TMP=$(mktemp -d "$1/$TEST_NAME.XXXXXX")
  trap 'rm -rf "$TMP"' EXIT
  trap 'exit 130' INT TERM HUP
}
