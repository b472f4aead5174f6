# Shared by freetds_odbc.sh and tedious.sh (sourced, not run): build and start one sandbox
# instance on a free loopback port, stop it on exit.
#
# After start_sandbox: SANDBOX_PORT, SANDBOX_PID, SANDBOX_DATA (its data directory),
# SANDBOX_PASSWORD (the sa password, from $MSSQL2RDS_SANDBOX_SA_PASSWORD or a fixed test value).

conformance_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SANDBOX_BUILD=${SANDBOX_BUILD:-$conformance_repo/build}
SANDBOX_PASSWORD=${MSSQL2RDS_SANDBOX_SA_PASSWORD:-Sandbox!Passw0rd}
export MSSQL2RDS_SANDBOX_SA_PASSWORD=$SANDBOX_PASSWORD

build_sandbox() {
  if [ ! -f "$SANDBOX_BUILD/build.ninja" ]; then
    cmake -S "$conformance_repo" -B "$SANDBOX_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  ninja -C "$SANDBOX_BUILD" -j"${JOBS:-2}" mssql2rds-sandbox >/dev/null
}

stop_sandbox() {
  if [ -n "${SANDBOX_PID:-}" ] && kill -0 "$SANDBOX_PID" 2>/dev/null; then
    kill -TERM "$SANDBOX_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SANDBOX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SANDBOX_PID" 2>/dev/null || true
  fi
  SANDBOX_PID=
}

# start_sandbox DATA_DIR: a fresh SQL Server 2019 instance; port 0 lets the server pick.
start_sandbox() {
  SANDBOX_DATA=$1
  rm -rf "$SANDBOX_DATA"
  mkdir -p "$SANDBOX_DATA"
  "$SANDBOX_BUILD/sandbox/mssql2rds-sandbox" serve \
      --instance "name=src,port=0,kind=sqlserver,version=2019,data=$SANDBOX_DATA/db" \
      >"$SANDBOX_DATA/serve.out" 2>"$SANDBOX_DATA/serve.err" &
  SANDBOX_PID=$!
  SANDBOX_PORT=
  for _ in $(seq 100); do
    SANDBOX_PORT=$(sed -n 's/^ready name=src port=\([0-9]*\)$/\1/p' "$SANDBOX_DATA/serve.out")
    [ -n "$SANDBOX_PORT" ] && return 0
    kill -0 "$SANDBOX_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "the sandbox did not start; see $SANDBOX_DATA/serve.err" >&2
  cat "$SANDBOX_DATA/serve.err" >&2
  return 1
}

# sandbox_alive: false once the server has died (a crash), so a run can say so and restart it.
sandbox_alive() { kill -0 "$SANDBOX_PID" 2>/dev/null; }
