#!/usr/bin/env bash
# The demo: installs what is missing, builds, and runs `mssql2rds demo` — a whole migration
# against the rehearsal world on loopback (moto + the sandbox), then stops the world.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j "${JOBS:-$(nproc)}" mssql2rds
echo
echo "\$ mssql2rds lsn 00000025:00000b8f:0004"
./build/src/mssql2rds lsn 00000025:00000b8f:0004
echo
echo "\$ mssql2rds lsn 25:b8f:4"
./build/src/mssql2rds lsn 25:b8f:4 || echo "(exit code $?)"
