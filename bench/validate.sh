#!/usr/bin/env bash
# Validation throughput (rows/s, MB/s) against `SELECT *` of the same table on both sides
# through the same driver (FreeTDS over TDS to the sandbox), as a ratio. Usage:
#   bench/validate.sh [ROWS] [BODY_CHARS] [CHUNK_ROWS]
# Prints one JSON line per run (bench/README.md "Validation").
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$here/build}"
ninja -C "$build" -j2 validate_bench >/dev/null
rows="${1:-20000}"
body="${2:-500}"
chunk="${3:-5000}"
"$build/bench/validate_bench" "$rows" "$body" "$chunk"
