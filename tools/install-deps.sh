#!/usr/bin/env bash
# Installs the Debian packages scimd needs: `run` what building and running the daemon needs
# (tools/run), `test` (the default) that and everything testing, fuzzing and benchmarking
# need (tools/test, CI). Idempotent: packages already present are skipped. Runs as root (CI)
# or via sudo.
set -euo pipefail
MODE="${1:-test}"
case "$MODE" in run | test) ;; *) echo "usage: install-deps.sh [run|test]" >&2; exit 2 ;; esac

RUN_PACKAGES=(
    # build
    build-essential cmake pkg-config
    # libraries the daemon links
    libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev libssl-dev
    libcurl4-openssl-dev
    # single sign-on (shared/SSO.md): JOSE, XML signatures
    libcjose-dev libxmlsec1-dev libxml2-dev zlib1g-dev
    # tools/run makes the operator key with openssl; outbound HTTPS (SSO discovery, metadata,
    # webhooks) checks certificates against the system store
    openssl ca-certificates
)
TEST_PACKAGES=(
    # checks and fuzzing
    clang clang-format llvm libclang-rt-dev cppcheck
    # tests
    libcmocka-dev python3 python3-pytest python3-requests sqlite3 openssl git
    # the PostgreSQL backend's tests start a throwaway cluster (initdb, pg_ctl)
    postgresql
    # the install test checks the systemd unit with systemd-analyze verify
    systemd
    # SSO tests: local test OP (JOSE) and signed SAML responses
    python3-jwcrypto python3-cryptography python3-lxml xmlsec1 python3-lasso
    # console browser tests: playwright-core (npm, tests/browser) drives Debian's chromium;
    # npm comes with some nodejs builds and is Debian's own package otherwise (see below)
    nodejs chromium
    # benchmarks: wrk drives the load; nginx serves the same bytes from memory beside scimd
    wrk nginx-light
)
PACKAGES=("${RUN_PACKAGES[@]}")
[ "$MODE" = run ] || PACKAGES+=("${TEST_PACKAGES[@]}")

# The local OpenID Provider of the SSO tests (oidc-provider, pinned by package-lock.json); node
# and npm come with the machine image.
idp_dir="$(dirname "$0")/../tests/idp/oidc"
if [ "$MODE" = test ] && [ ! -d "$idp_dir/node_modules/oidc-provider" ] && command -v npm >/dev/null; then
    echo "install-deps: npm ci in tests/idp/oidc"
    (cd "$idp_dir" && npm ci --no-audit --no-fund --silent)
fi

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ "$MODE" = run ] || command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps ($MODE): all ${#PACKAGES[@]} packages present"
    exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Packages with a service (nginx, postgresql) must not start one: the benchmarks and tests run
# their own on free ports. policy-rc.d is Debian's switch for that (exit 101: do not start).
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    made_policy=1
fi
rc=0
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" || rc=$?
[ -z "$made_policy" ] || $SUDO rm -f "$policy"
exit "$rc"
