#!/usr/bin/env bash
# The demo: installs what is missing, builds, and runs `mssql2rds demo` — a whole migration
# against the rehearsal world on loopback (moto + the sandbox) under a live workload, then
# stops the world. Extra arguments go to `mssql2rds demo` (e.g. --keep-world, --rate 30).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j "${JOBS:-$(nproc)}" mssql2rds mssql2rds-sandbox
exec ./build/src/mssql2rds demo "$@"
