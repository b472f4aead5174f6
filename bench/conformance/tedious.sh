#!/usr/bin/env bash
# tedious's own integration tests (test/integration), unmodified, against a sandbox instance.
#
#   bench/conformance/tedious.sh [TEDIOUS_DIR]      (or $TEDIOUS_DIR; NODE=path of node >= 22)
#
# TEDIOUS_DIR is a checkout of github.com/tediousjs/tedious with its dependencies installed
# (`npm ci` in it; see README.md). This script builds only the sandbox (SANDBOX_BUILD, default
# build/), starts one instance on a free loopback port, points the suite at it (a config
# resolved in place of test/config.ts by tedious_config_hook.js, and ~/.tedious/
# test-connection.json in a private HOME), and runs each test file in its own mocha process:
# each test has mocha's 10 s timeout (the suite's own setting) and each file FILE_TIMEOUT
# seconds (default 600), so a hang is a failure and never blocks the run. ONLY (an extended
# regular expression) runs only the files whose path matches it. When the sandbox
# dies, the file is marked as having crashed it and a fresh instance is started.
#
# Output: `passed N of M`; per-test results in $OUT_DIR/results.tsv (default
# /tmp/m2r-conformance/tedious): status <TAB> file <TAB> test title <TAB> reason, where status
# is pass, fail, skip (the test skipped itself) or notrun (a hook failed, the file hung or the
# server crashed); only pass counts as passed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/sandbox_lib.sh"

tedious=${1:-${TEDIOUS_DIR:-}}
[ -n "$tedious" ] && [ -d "$tedious/test/integration" ] || {
  echo "usage: $0 TEDIOUS_DIR   (a checkout of tediousjs/tedious; see bench/conformance/README.md)" >&2; exit 2; }
tedious=$(cd "$tedious" && pwd)
[ -x "$tedious/node_modules/.bin/mocha" ] || {
  echo "$tedious has no node_modules: run 'npm ci' in it first" >&2; exit 2; }
# tedious needs Node.js 22 or later (package.json "engines"; it uses Promise.withResolvers):
# NODE=/path/to/node picks one that is not first on PATH.
if [ -n "${NODE:-}" ]; then PATH="$(dirname "$NODE"):$PATH"; fi
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 22 ] || { echo "tedious needs Node.js >= 22 (found $(node --version 2>/dev/null)); set NODE=" >&2; exit 2; }
out=${OUT_DIR:-/tmp/m2r-conformance/tedious}
file_timeout=${FILE_TIMEOUT:-600}
rm -rf "$out"; mkdir -p "$out/home/.tedious"

build_sandbox || { echo "cannot build the sandbox" >&2; exit 1; }
trap stop_sandbox EXIT

write_config() {
  cat >"$out/config.js" <<JS
exports.__esModule = true;
exports.default = {
  server: '127.0.0.1',
  authentication: { type: 'default', options: { userName: 'sa', password: $(node -e 'console.log(JSON.stringify(process.argv[1]))' "$SANDBOX_PASSWORD") } },
  options: { port: $SANDBOX_PORT, database: 'master', encrypt: false, trustServerCertificate: true }
};
JS
  node -e 'const c = require(process.argv[1]).default; console.log(JSON.stringify({ config: c }))' "$out/config.js" \
    >"$out/home/.tedious/test-connection.json"
}

start_sandbox "$out/sandbox" || exit 1
write_config

cd "$tedious"
mocha=(node_modules/.bin/mocha --require test/setup.js --require "$here/tedious_config_hook.js"
       --reporter "$here/tedious_reporter.js" --exit --forbid-only)
export CONFORMANCE_TEDIOUS_CONFIG=$out/config.js

# The tests there are: a dry run lists every test without running it.
mapfile -t files < <(find test/integration -name '*.ts' -o -name '*.js' | sort | grep -E -- "${ONLY:-.}")
: >"$out/expected.tsv"
for f in "${files[@]}"; do
  CONFORMANCE_RESULTS="$out/list.tmp" HOME="$out/home" "${mocha[@]}" --dry-run "$f" >/dev/null 2>&1
  [ -f "$out/list.tmp" ] && sed "s|^[a-z]*\t|$f\t|" "$out/list.tmp" | cut -f1,2 >>"$out/expected.tsv"
  rm -f "$out/list.tmp"
done

: >"$out/ran.tsv"
for f in "${files[@]}"; do
  log="$out/logs/$(echo "$f" | tr '/' '_').log"; mkdir -p "$out/logs"
  CONFORMANCE_RESULTS="$out/one.tmp" HOME="$out/home" \
    timeout -k 10 "$file_timeout" "${mocha[@]}" "$f" >"$log" 2>&1
  rc=$?
  [ -f "$out/one.tmp" ] && awk -v f="$f" 'BEGIN{FS=OFS="\t"} {print $1, f, $2, $3}' "$out/one.tmp" >>"$out/ran.tsv"
  rm -f "$out/one.tmp"
  reason=
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && reason="the file hung: killed after ${file_timeout}s"
  if ! sandbox_alive; then
    reason="the sandbox crashed during this file (see $out/logs/sandbox-crash-*.err)"
    cp "$SANDBOX_DATA/serve.err" "$out/logs/sandbox-crash-$(basename "$f").err"
    start_sandbox "$out/sandbox" || exit 1
    write_config
  fi
  [ -n "$reason" ] && printf 'file\t%s\t\t%s\n' "$f" "$reason" >>"$out/ran.tsv"
done

# Every listed test gets its own result; one that never reported is notrun with the reason
# of its file (a failed hook, a hang, a crash).
awk 'BEGIN{FS=OFS="\t"}
  FILENAME==ARGV[1] { if ($1=="file") filereason[$2]=$4; else if ($1=="hook") hook[$2]=$3 " (hook: " $4 ")"; else { st[$2 FS $3]=$1; why[$2 FS $3]=$4 } next }
  { key=$1 FS $2
    if (key in st) print st[key], $1, $2, why[key]
    else print "notrun", $1, $2, ($1 in filereason ? filereason[$1] : ($1 in hook ? hook[$1] : "did not report")) }' \
  "$out/ran.tsv" "$out/expected.tsv" >"$out/results.tsv"
total=$(wc -l <"$out/results.tsv")
passed=$(grep -c '^pass' "$out/results.tsv")
echo "passed $passed of $total"
echo "per-test results: $out/results.tsv"
