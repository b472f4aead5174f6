#!/usr/bin/env bash
# FreeTDS's own ODBC unit tests (src/odbc/unittests, the TESTS of its Makefile.am), unmodified,
# against a sandbox instance.
#
#   bench/conformance/freetds_odbc.sh [FREETDS_DIR]      (or $FREETDS_DIR)
#
# FREETDS_DIR is a FreeTDS checkout already built with its ODBC driver (unixODBC) and with the
# test programs of src/odbc/unittests built (see README.md). This script builds only the
# sandbox (SANDBOX_BUILD, default build/), starts one instance on a free loopback port, writes
# the connection files the tests read (FREETDS_DIR/PWD: SRV/UID/PWD/DB; a freetds.conf named
# by $FREETDSCONF with the server `sandbox` at that port, TDS 7.4), then runs each test program
# from src/odbc/unittests (where they look for the driver) with TEST_TIMEOUT seconds each
# (default 60), so a hang is a failure and never blocks the run. ONLY (an extended regular
# expression matching whole names) runs only those tests. When the sandbox dies, the
# test is marked as having crashed it and a fresh instance is started.
#
# Output: `passed N of M`; per-test results in $OUT_DIR/results.tsv (default
# /tmp/m2r-conformance/freetds): status <TAB> test <TAB> reason (pass, fail, skip = exit 77,
# hang, crash); the last lines of each test's output in $OUT_DIR/logs/TEST.log.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/sandbox_lib.sh"

freetds=${1:-${FREETDS_DIR:-}}
[ -n "$freetds" ] && [ -f "$freetds/src/odbc/unittests/Makefile.am" ] || {
  echo "usage: $0 FREETDS_DIR   (a built FreeTDS checkout; see bench/conformance/README.md)" >&2; exit 2; }
freetds=$(cd "$freetds" && pwd)
tests_dir=$freetds/src/odbc/unittests
ls "$freetds"/src/odbc/.libs/libtdsodbc.so >/dev/null 2>&1 && [ -x "$tests_dir/t0001" ] || {
  echo "$freetds has no built ODBC driver or test programs (src/odbc/.libs/libtdsodbc.so, src/odbc/unittests/t0001)" >&2; exit 2; }
out=${OUT_DIR:-/tmp/m2r-conformance/freetds}
test_timeout=${TEST_TIMEOUT:-60}
database=${FREETDS_TEST_DB:-freetds_tests}
rm -rf "$out"; mkdir -p "$out/logs"

build_sandbox || { echo "cannot build the sandbox" >&2; exit 1; }
trap stop_sandbox EXIT

write_connection_files() {
  printf '[global]\n\ttds version = 7.4\n\tencryption = off\n[sandbox]\n\thost = 127.0.0.1\n\tport = %s\n\ttds version = 7.4\n\tencryption = off\n' \
    "$SANDBOX_PORT" >"$out/freetds.conf"
  printf 'SRV=sandbox\nUID=sa\nPWD=%s\nDB=%s\n' "$SANDBOX_PASSWORD" "$database" >"$freetds/PWD"
  # The tests create their own tables in that database (the sandbox's tempdb is not one a
  # login can open); FreeTDS's own tsql creates it.
  printf 'CREATE DATABASE [%s]\ngo\nexit\n' "$database" |
    FREETDSCONF=$out/freetds.conf timeout 30 "$freetds/src/apps/tsql" -S sandbox -U sa -P "$SANDBOX_PASSWORD" >"$out/create_db.log" 2>&1
}
start_sandbox "$out/sandbox" || exit 1
write_connection_files
export FREETDSCONF=$out/freetds.conf
unset TDSVER TDSHOST TDSPORT TDSDUMP

# The suite is the TESTS list of the Makefile.am, in its order.
mapfile -t tests < <(sed -n '/^TESTS[[:space:]]*=/,/^[[:space:]]*$/p' "$tests_dir/Makefile.am" |
  grep -o '[A-Za-z0-9_]*\$(EXEEXT)' | sed 's/\$(EXEEXT)//' | grep -E -x -- "${ONLY:-.*}")

: >"$out/results.tsv"
cd "$tests_dir"
for t in "${tests[@]}"; do
  if [ ! -x "./$t" ]; then printf 'fail\t%s\tnot built\n' "$t" >>"$out/results.tsv"; continue; fi
  timeout -k 5 "$test_timeout" "./$t" >"$out/logs/$t.log" 2>&1 </dev/null
  rc=$?
  case $rc in
    0) status=pass reason= ;;
    77) status=skip reason="the test skipped itself" ;;
    124|137) status=fail reason="hang: killed after ${test_timeout}s" ;;
    *) status=fail reason="exit $rc: $(grep -v '^[[:space:]]*$' "$out/logs/$t.log" | tail -n 3 | tr '\t\n' '  ' | cut -c1-300)" ;;
  esac
  if ! sandbox_alive; then
    status=fail reason="the sandbox crashed (see logs/sandbox-crash-$t.err); $reason"
    cp "$SANDBOX_DATA/serve.err" "$out/logs/sandbox-crash-$t.err"
    start_sandbox "$out/sandbox" || exit 1
    write_connection_files
  fi
  printf '%s\t%s\t%s\n' "$status" "$t" "$reason" >>"$out/results.tsv"
done
rm -f "$tests_dir/odbc.ini"
total=$(wc -l <"$out/results.tsv")
passed=$(grep -c '^pass' "$out/results.tsv")
echo "passed $passed of $total"
echo "per-test results: $out/results.tsv"
