#!/usr/bin/env bash
# Upload throughput and peak memory of the upload engine against `aws s3 cp` (AWS CLI v2,
# default settings) and against the server's own ceiling, all to the same strict S3 test
# server (bench/s3_test_server --discard) in the same run; then streaming: a paced writer
# (a BACKUP in progress) and the engine uploading the file as it grows.
#
#   bench/upload_bench.sh [BUILD_DIR]        (default: build-upload; needs a Release build of
#                                             the targets s3_test_server upload_bench paced_writer)
# Environment:
#   SIZES="1 8"        file sizes in GiB
#   DATA_DIR=/tmp/m2r-bench   where the random files go (needs ~2 x the largest size free)
#   CEILING_STREAMS=8  parallel curl PUTs for the ceiling
#   SWEEP=1            also sweep the engine's connections and part sizes on 1 GiB
#   ONLY_ENGINE=1      skip the ceiling and aws s3 cp (engine and streaming figures only)
#   STREAM_RATE_MBPS   the paced writer's rate (default: the engine's measured rate for that size,
#                      the hardest case: neither side can hide behind the other)
#   REPEAT=1           runs of each tool per size, interleaved (aws, CRC32C only, CRC32C + MD5, ...);
#                      the summary gives each tool's median MB/s and CPU seconds per GiB
#   SKIP_STREAMING=1   skip the streaming figures
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-upload}
bin=$build/bench
data=${DATA_DIR:-/tmp/m2r-bench}
sizes=${SIZES:-"1 8"}
streams=${CEILING_STREAMS:-8}
aws_cli=/usr/bin/aws  # AWS CLI v2; the `aws` first on PATH may be v1

for tool in "$bin/s3_test_server" "$bin/upload_bench" "$bin/paced_writer" "$aws_cli" /usr/bin/time curl; do
  [ -x "$tool" ] || command -v "$tool" >/dev/null || { echo "missing: $tool (build the bench targets / run scripts/install-deps.sh)" >&2; exit 1; }
done
mkdir -p "$data"

# The test server's keys (test values, not secrets), for every client.
export AWS_ACCESS_KEY_ID=AKIDSTRICTS3TEST AWS_SECRET_ACCESS_KEY=strict-s3-test-secret
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
unset AWS_PROFILE AWS_ENDPOINT_URL

"$bin/s3_test_server" --discard >"$data/server.out" 2>"$data/server.err" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$data/server.out" ] && break; sleep 0.05; done
port=$(awk '/^port/ {print $2}' "$data/server.out")
endpoint=http://127.0.0.1:$port
echo "server: $endpoint (discard mode); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

now() { date +%s.%N; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# Runs a command under /usr/bin/time; sets $wall (s), $rss (MiB) and $cpu (user + system s).
# CPU seconds per GiB do not depend on what else the machine runs; wall time does.
timed() {
  local out=$data/time.out user sys
  /usr/bin/time -f "%e %M %U %S" -o "$out" "$@" >"$data/cmd.out" 2>"$data/cmd.err" || { cat "$data/cmd.err" >&2; return 1; }
  read -r wall rss_kib user sys <"$out"
  rss=$(awk -v k="$rss_kib" 'BEGIN { printf "%.0f", k / 1024 }')
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
}

ceiling() {  # many parallel signed curl PUTs of the whole file, UNSIGNED-PAYLOAD, to a discarding server
  local file=$1 bytes=$2 t0 t1 pids=()
  t0=$(now)
  for i in $(seq "$streams"); do
    curl -sS -o /dev/null --fail --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
      -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$file" "$endpoint/bench/ceiling-$i" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  t1=$(now)
  ceiling_mbps=$(mbps $((bytes * streams)) "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
}

ours() {  # file key [extra args]; sets ours_wall ours_rss ours_json
  local file=$1 key=$2
  shift 2
  timed "$bin/upload_bench" --endpoint "$endpoint" --bucket bench --key "$key" --file "$file" "$@"
  ours_wall=$wall ours_rss=$rss ours_json=$(cat "$data/cmd.out")
}

# The server's ceiling is a property of the server, measured once with the 1 GiB file.
ceiling_file=$data/random-1g.bin
[ "$(stat -c %s "$ceiling_file" 2>/dev/null || echo 0)" = $((1 << 30)) ] || head -c 1G /dev/urandom >"$ceiling_file"
cat "$ceiling_file" >/dev/null
ceiling_mbps=0
[ "${ONLY_ENGINE:-0}" = 1 ] || ceiling "$ceiling_file" $((1 << 30))

rows=$data/rows.txt  # size tool seconds MB/s rss_mib cpu_s, one line per run, for the summary
: >"$rows"
row() {  # size tool bytes: prints the run's line and records it
  local per_gib
  per_gib=$(awk -v c="$cpu" -v b="$3" 'BEGIN { printf "%.2f", c / (b / 1073741824) }')
  printf '%-6s %-28s %9s %9s %7s MiB %12s %10s\n' "$1" "$2" "$wall" "$(mbps "$3" "$wall")" "$rss" "$cpu" "$per_gib"
  printf '%s|%s|%s|%s|%s|%s\n' "$1" "$2" "$wall" "$(mbps "$3" "$wall")" "$rss" "$per_gib" >>"$rows"
}

printf '\n%-6s %-28s %9s %9s %10s %12s %10s\n' size tool seconds MB/s "peak RSS" "CPU s (u+s)" "CPU s/GiB"
printf '%-6s %-28s %9s %9s %10s\n' - "ceiling ($streams curl PUTs)" - "$ceiling_mbps" -
for size in $sizes; do
  file=$data/random-${size}g.bin
  bytes=$((size * 1024 * 1024 * 1024))
  if [ "$(stat -c %s "$file" 2>/dev/null || echo 0)" != "$bytes" ]; then
    head -c "${size}G" /dev/urandom >"$file"
  fi
  cat "$file" >/dev/null  # page cache warm for every tool alike

  for run in $(seq "${REPEAT:-1}"); do
    aws_wall=0
    if [ "${ONLY_ENGINE:-0}" != 1 ]; then
      timed "$aws_cli" s3 cp "$file" "s3://bench/aws-${size}g" --endpoint-url "$endpoint" --no-progress
      aws_wall=$wall
      row "${size}G" "aws s3 cp (defaults)" "$bytes"
    fi

    # The default: CRC32C per part (verified by the server), the composite checked at the end.
    ours "$file" "ours-${size}g"
    row "${size}G" "engine, CRC32C only" "$bytes"
    echo "       engine: $ours_json"
    if [ "${ONLY_ENGINE:-0}" != 1 ]; then
      echo "       => $(ratio "$aws_wall" "$ours_wall")x aws s3 cp; $(ratio "$(mbps "$bytes" "$ours_wall")" "$ceiling_mbps" | awk '{ printf "%.0f", $1 * 100 }')% of the ceiling; peak RSS $ours_rss MiB"
    fi
    eval "engine_mbps_$size=$(mbps "$bytes" "$ours_wall") engine_wall_$size=$ours_wall"

    # The same, each part's Content-MD5 computed (in SIMD lanes) and sent as well.
    ours "$file" "ours-md5-${size}g" --content-md5
    row "${size}G" "engine, CRC32C + Content-MD5" "$bytes"
    echo "       engine: $ours_json"

    # Parts too large for a buffer each (64 MiB x 16 connections > the 192 MiB budget), as a
    # backup over ~117 GiB gets them: read from the file as they are sent.
    ours "$file" "ours-streamed-parts-${size}g" --part-size-mib 64
    row "${size}G" "engine, parts read as sent" "$bytes"
    echo "       engine: $ours_json"
  done
done

echo; echo "summary: median over ${REPEAT:-1} run(s) per tool (MB/s, CPU s/GiB), largest peak RSS"
printf '%-6s %-28s %9s %10s %10s\n' size tool MB/s "CPU s/GiB" "peak RSS"
awk -F'|' '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { k = $1 "|" $2; if (!(k in seen)) { seen[k] = 1; order[++count] = k }
    mb[k] = mb[k] " " $4; cpu[k] = cpu[k] " " $6; if ($5 + 0 > rss[k] + 0) rss[k] = $5 }
  END { for (i = 1; i <= count; i++) { k = order[i]; split(k, p, "|")
          printf "%-6s %-28s %9.1f %10.2f %6s MiB\n", p[1], p[2], median(mb[k]), median(cpu[k]), rss[k] } }' "$rows"

if [ "${SWEEP:-0}" = 1 ]; then
  file=$data/random-1g.bin
  [ -f "$file" ] || head -c 1G /dev/urandom >"$file"
  echo; echo "sweep on 1 GiB (connections x part size): seconds / peak RSS"
  for combo in 8:1 8:4 8:8 8:16 16:8 16:12 12:16; do
    parts=${combo%%:*} c=${combo##*:}
    {
      ours "$file" sweep --connections "$c" --part-size-mib "$parts" || true
      printf '  %2d MiB parts, %2d connections: %6ss %5s MB/s %4s MiB\n' "$parts" "$c" "$ours_wall" \
        "$(mbps $((1 << 30)) "$ours_wall")" "$ours_rss"
    }
  done
fi

[ "${SKIP_STREAMING:-0}" = 1 ] || { echo; echo "streaming: a paced writer (the backup) and the engine following its file"; }
for size in $sizes; do
  [ "${SKIP_STREAMING:-0}" = 1 ] && break
  src=$data/random-${size}g.bin
  dst=$data/streaming-${size}g.bak
  bytes=$((size * 1024 * 1024 * 1024))
  eval "rate=\${STREAM_RATE_MBPS:-\$engine_mbps_$size}"
  eval "upload_alone=\$engine_wall_$size"
  rm -f "$dst" "$dst.done"
  writer_alone=$("$bin/paced_writer" "$src" "$dst" "$rate")
  rm -f "$dst" "$dst.done"
  t0=$(now)
  "$bin/paced_writer" "$src" "$dst" "$rate" >"$data/writer.out" &
  writer_pid=$!
  ours "$dst" "streamed-${size}g" --streaming --expected-size "$bytes"
  wait $writer_pid
  t1=$(now)
  both=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  longer=$(awk -v a="$writer_alone" -v b="$upload_alone" 'BEGIN { print (a > b) ? a : b }')
  printf '%-6s writer alone %ss at %s MB/s; upload alone %ss; both, streaming: %ss => %s x the longer; peak RSS %s MiB\n' \
    "${size}G" "$writer_alone" "$rate" "$upload_alone" "$both" "$(ratio "$both" "$longer")" "$ours_rss"
  echo "       engine: $ours_json"
  rm -f "$dst" "$dst.done"
done
echo; echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
