#!/usr/bin/env bash
# Cutover downtime against the database's size, in one run: `mssql2rds demo` on the sample
# database at its default size and at FACTOR times it (issue 13: the downtime must not grow
# with the size, goal <= 1.3x), with the same workload and the same CDC time. Prints one JSON
# line per demo and a last line with the ratios (bench/README.md "Cutover downtime").
#   bench/cutover_downtime.sh [BASE_MIB] [FACTOR]
# Environment: BUILD_DIR (default build), RATE (workload transactions/s, default 10),
# REPLICATE_SECONDS (default 20), REPEAT (default 1; each size REPEAT times, interleaved).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$here/build}"
base="${1:-8}"
factor="${2:-10}"
rate="${RATE:-10}"
replicate="${REPLICATE_SECONDS:-20}"
repeat="${REPEAT:-1}"
ninja -C "$build" -j2 mssql2rds mssql2rds-sandbox >/dev/null
work=$(mktemp -d /tmp/m2r-cutover-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

run_one() {
  local size=$1 dir="$work/demo-$1-$2"
  local line
  line=$("$build/src/mssql2rds" --json demo --dir "$dir" --size-mib "$size" --rate "$rate" \
    --replicate-seconds "$replicate" --sandbox "$build/sandbox/mssql2rds-sandbox" | tail -n 1)
  # The report's downtime split (written by cutover next to the journal).
  local report
  report=$(ls "$dir"/*.report.json 2>/dev/null | head -n 1 || true)
  python3 - "$size" "$line" "$report" <<'EOF'
import json, sys
size, line, report = int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
out = {"size_mib": size, "ok": line.get("ok"), "downtime_s": line.get("downtime_s"), "drain_s": line.get("drain_s"),
       "tables": line.get("tables_matching"), "workload_transactions": line.get("workload_transactions"),
       "total_s": line.get("total_s")}
if report:
    r = json.load(open(report))
    out["downtime_split"] = r.get("downtime", {})
print(json.dumps(out))
EOF
}

results="$work/results.jsonl"
for i in $(seq 1 "$repeat"); do
  run_one "$base" "$i" | tee -a "$results"
  run_one "$((base * factor))" "$i" | tee -a "$results"
done
python3 - "$results" "$base" "$((base * factor))" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
small, big = int(sys.argv[2]), int(sys.argv[3])
med = lambda size, key: statistics.median(r[key] for r in rows if r["size_mib"] == size and r.get(key) is not None)
print(json.dumps({"downtime_small_s": med(small, "downtime_s"), "downtime_big_s": med(big, "downtime_s"),
                  "ratio_big_over_small": round(med(big, "downtime_s") / med(small, "downtime_s"), 2),
                  "goal": "<= 1.3"}))
EOF
