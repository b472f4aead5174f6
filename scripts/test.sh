#!/usr/bin/env bash
# Builds everything and runs every test: the README's test command, and what CI runs.
#   1. installs what a fresh Debian machine lacks (scripts/install-deps.sh)
#   2. release build with warnings as errors; the integration tests (and the unit tests with
#      SKIP_SANITIZE=1)
#   3. ASan+UBSan build of the unit tests; runs them (each kind of test is compiled once: CI's
#      time budget)
#   4. clang libFuzzer targets for the parsers and the sandbox's T-SQL engine, a short run each
# Environment: JOBS (default: nproc), FUZZ_SECONDS (default 30), SKIP_SANITIZE=1, SKIP_FUZZ=1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${JOBS:-$(nproc)}
fuzz_seconds=${FUZZ_SECONDS:-30}

started=$(date +%s)
# Each step with the time since the start: where CI's time budget goes.
step() { printf '\n== %s (+%ds)\n' "$*" "$(( $(date +%s) - started ))"; }

step "dependencies"
bash scripts/install-deps.sh

step "build (warnings are errors)"
unit_in_release=OFF
[ "${SKIP_SANITIZE:-0}" = 1 ] && unit_in_release=ON
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMSSQL2RDS_WERROR=ON \
  -DMSSQL2RDS_UNIT_TESTS="$unit_in_release" -DMSSQL2RDS_INTEGRATION_TESTS=ON >/dev/null
ninja -C build -j "$jobs"

step "tests"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 900

if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
  step "unit tests under ASan + UBSan"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMSSQL2RDS_WERROR=ON -DMSSQL2RDS_SANITIZE=ON \
    -DMSSQL2RDS_UNIT_TESTS=ON -DMSSQL2RDS_INTEGRATION_TESTS=OFF >/dev/null
  targets=$(ninja -C build-asan -t targets all | sed -n 's/^\([a-z_]*_unit_tests\): .*/\1/p' | sort -u)
  # shellcheck disable=SC2086
  ninja -C build-asan -j "$jobs" $targets
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -L unit --output-on-failure -j "$jobs" --timeout 900
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  step "fuzzing the parsers (${fuzz_seconds}s each)"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMSSQL2RDS_FUZZ=ON -DMSSQL2RDS_SANDBOX=OFF >/dev/null
  ninja -C build-fuzz -j "$jobs" lsn_fuzz config_fuzz tsql_fuzz
  for f in lsn config tsql; do
    work=$(mktemp -d)
    cp -r "fuzz/corpus/$f/." "$work/"
    dict=()
    [ -f "fuzz/$f.dict" ] && dict=(-dict="fuzz/$f.dict")
    # -timeout: a batch is bounded by its own budget (fuzz/tsql_fuzz.cpp); 10 s means a hang.
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "build-fuzz/fuzz/${f}_fuzz" "${dict[@]}" -timeout=10 -rss_limit_mb=4096 -max_total_time="$fuzz_seconds" \
      -print_final_stats=0 "$work" 2>&1 | tail -n 2
    rm -rf "$work"
  done
fi

step "all tests passed"
