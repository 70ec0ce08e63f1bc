#!/usr/bin/env bash
# Installs every Debian package that building, running and testing scimd needs.
# Idempotent: packages already present are skipped by apt. Runs as root (CI) or via sudo.
set -euo pipefail

PACKAGES=(
    # build
    build-essential cmake pkg-config clang clang-format llvm libclang-rt-dev cppcheck
    # libraries the daemon links
    libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev libssl-dev
    libcurl4-openssl-dev
    # tests
    libcmocka-dev python3 python3-pytest python3-requests sqlite3 openssl git
    # console browser tests: playwright-core (npm, tests/browser) drives Debian's chromium;
    # npm comes with some nodejs builds and is Debian's own package otherwise (see below)
    nodejs chromium
    # benchmarks
    wrk
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
