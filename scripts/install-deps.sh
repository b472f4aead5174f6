#!/usr/bin/env bash
# Installs every Debian package the project needs to build, test and run the demo.
# Idempotent: installs only what is missing; uses sudo when not root.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build ccache pkg-config clang libclang-rt-dev
  # libraries
  libfmt-dev nlohmann-json3-dev libexpected-dev libcli11-dev libtomlplusplus-dev libpugixml-dev
  libcurl4-openssl-dev libssl-dev libsqlite3-dev unixodbc unixodbc-dev tdsodbc freetds-bin freetds-dev
  libcpp-httplib-dev libgtest-dev libgmock-dev googletest
  # the rehearsal world's independent judges and helpers
  awscli python3 curl procps
  # upload: zlib for the strict S3 test server's CRC32; /usr/bin/time for bench/upload_bench.sh
  zlib1g-dev time
)
# Node (for the tedious conformance test): the machine's own Node may come with npm built in
# (nodesource); Debian's split packages are installed only when no npm is present.
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(nodejs npm); fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: all ${#PACKAGES[@]} packages present"
fi

# Node's tedious, the TDS conformance test's independent client (tests/sandbox/conformance):
# pinned by package-lock.json, installed only when missing.
conformance_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/sandbox/conformance"
if [ -f "$conformance_dir/package-lock.json" ] && [ ! -d "$conformance_dir/node_modules/tedious" ]; then
  echo "install-deps: npm ci in tests/sandbox/conformance"
  (cd "$conformance_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
