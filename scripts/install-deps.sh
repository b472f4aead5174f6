#!/usr/bin/env bash
# Installs every Debian package the project needs to build, test and run the demo, and makes
# sure moto (the rehearsal world's AWS emulator, which Debian does not package) is there.
# Idempotent: installs only what is missing; uses sudo when not root.
# Environment: MOTO_VENV (default /opt/moto-5.2.1): where moto is installed when it is missing.
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
  # moto's CRC32C: without this module moto reports a CRC32 under that name (sys/moto_locator.hpp);
  # python3-venv: for installing moto where it is missing (below)
  python3-crc32c python3-venv
  # upload: zlib for the strict S3 test server's CRC32; /usr/bin/time for bench/upload_bench.sh
  zlib1g-dev time
  # the cutover report's end-to-end test opens the HTML in headless chromium (tests/cli/report_itest.cpp)
  chromium
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

# moto, found as the world and the tests find it (src/sys/moto_locator.hpp): MOTO_SERVER, then
# moto_server on PATH, then python3 -m moto.server with a python3 on PATH that has moto. On
# the development machines it is pyenv Python 3.11.7's moto 5.2.1 (moto_server via pyenv's
# shims). Elsewhere it is installed into a virtual environment with pip, when PyPI is reachable.
moto_version=5.2.1
moto_found() {
  if [ -n "${MOTO_SERVER:-}" ]; then echo "MOTO_SERVER=$MOTO_SERVER"; return 0; fi
  if command -v moto_server >/dev/null 2>&1; then command -v moto_server; return 0; fi
  local py
  for py in $(type -ap python3); do
    if "$py" -c "import importlib.util as u, sys; sys.exit(0 if u.find_spec('moto.server') else 1)" 2>/dev/null; then
      echo "$py -m moto.server"
      return 0
    fi
  done
  return 1
}
if found=$(moto_found); then
  echo "install-deps: moto: $found"
else
  venv=${MOTO_VENV:-/opt/moto-$moto_version}
  echo "install-deps: moto not found (MOTO_SERVER unset, no moto_server on PATH, no python3 on PATH with moto); installing moto[server]==$moto_version into $venv"
  if "${sudo_cmd[@]}" python3 -m venv "$venv" &&
     "${sudo_cmd[@]}" "$venv/bin/pip" install --disable-pip-version-check --quiet --retries 1 --timeout 15 \
       "moto[server]==$moto_version" &&
     "${sudo_cmd[@]}" ln -sf "$venv/bin/moto_server" /usr/local/bin/moto_server; then
    echo "install-deps: moto: /usr/local/bin/moto_server -> $venv/bin/moto_server"
  else
    "${sudo_cmd[@]}" rm -rf "$venv"
    cat >&2 <<MSG
install-deps: error: moto $moto_version could not be installed with pip (see above; Debian has no moto package).
  On a machine that reaches PyPI, run (as root):
    python3 -m venv $venv && $venv/bin/pip install 'moto[server]==$moto_version' && ln -s $venv/bin/moto_server /usr/local/bin/moto_server
  or point MOTO_SERVER at an existing moto_server (or a command such as 'python3.11 -m moto.server').
MSG
    exit 1
  fi
fi
