#!/usr/bin/env bash
# A longer libFuzzer run of the sandbox's T-SQL engine (fuzz/tsql_fuzz.cpp) than CI's.
#
#   bench/fuzz_sandbox.sh [MINUTES] [BUILD_DIR]     (default: 10 minutes, build-fuzz)
# Environment:
#   JOBS=1          parallel fuzzing processes (libFuzzer -jobs/-workers)
#   CORPUS=DIR      a corpus to keep and grow between runs (default: a temporary copy of
#                   fuzz/corpus/tsql, removed at the end)
#   ARTIFACTS=DIR   where crashes, timeouts and leaks are written (default: fuzz-artifacts/)
# A finding ends the run with libFuzzer's report and a non-zero exit; reproduce it with
#   build-fuzz/fuzz/tsql_fuzz fuzz-artifacts/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
build=${2:-build-fuzz}
jobs=${JOBS:-1}
artifacts=${ARTIFACTS:-fuzz-artifacts}

if [ ! -x "$build/fuzz/tsql_fuzz" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMSSQL2RDS_FUZZ=ON -DMSSQL2RDS_SANDBOX=OFF >/dev/null
fi
ninja -C "$build" tsql_fuzz

corpus=${CORPUS:-}
cleanup=""
if [ -z "$corpus" ]; then
  corpus=$(mktemp -d)
  cleanup=$corpus
fi
trap '[ -n "$cleanup" ] && rm -rf "$cleanup"' EXIT
mkdir -p "$corpus" "$artifacts"
cp -rn fuzz/corpus/tsql/. "$corpus/"

parallel=()
[ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")  # each job logs to fuzz-N.log
echo "fuzzing the T-SQL engine for $minutes min ($jobs job(s)); corpus $corpus, findings in $artifacts/"
# A UBSan report is a finding too (the fuzz build's UBSan recovers by default).
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} "$build/fuzz/tsql_fuzz" -dict=fuzz/tsql.dict -timeout=10 -rss_limit_mb=4096 \
  -max_total_time=$((minutes * 60)) "${parallel[@]}" \
  -artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus"
