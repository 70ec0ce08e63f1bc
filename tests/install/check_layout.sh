#!/usr/bin/env bash
# CTest install/layout: `cmake --install` into a staging directory lays out a real installation
# (docs/deploy.md "Installing"): the binary, scimd(8), an example scimd.conf naming every
# setting, the systemd unit (verified by systemd-analyze where it exists), the docs.
# usage: check_layout.sh BUILD_DIR PREFIX SYSCONFDIR MANDIR DOCDIR
set -euo pipefail
build=$1 prefix=$2 sysconf=$3 mandir=$4 docdir=$5
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
fail() { echo "install/layout: $*" >&2; exit 1; }

DESTDIR="$stage" cmake --install "$build" >/dev/null
root="$stage$prefix"
bin="$root/bin/scimd"
[ -x "$bin" ] || fail "no executable $prefix/bin/scimd"
man="$root/$mandir/man8/scimd.8"
conf="$stage$sysconf/scimd/scimd.conf"
unit="$root/lib/systemd/system/scimd.service"
for f in "$man" "$conf" "$unit" "$root/$docdir/README.md" "$root/$docdir/deploy.md" \
    "$root/$docdir/configuration.md" "$root/$docdir/openapi.json"; do
    [ -s "$f" ] || fail "missing ${f#"$stage"}"
done

# Every setting of `scimd serve --help` is in the manual page and in the example file.
keys=$("$bin" serve --help | sed -n 's/^  --\([a-z-]*\) .*/\1/p')
[ "$(echo "$keys" | wc -l)" -gt 20 ] || fail "scimd serve --help lists too few settings"
for k in $keys; do
    grep -q -- "\\\\-\\\\-${k//-/\\\\-}" "$man" || fail "scimd.8 lacks --$k"
    [ "$k" = config-file ] || grep -q "^#${k//-/_} = " "$conf" || fail "scimd.conf lacks ${k//-/_}"
done
head -1 "$man" | grep -q '^\.TH SCIMD 8 ' || fail "scimd.8 has no .TH line"
if command -v groff >/dev/null; then
    groff -man -Tutf8 -ww -z "$man" 2>&1 | grep . && fail "groff warns about scimd.8"
fi

# The example configuration is a valid configuration file.
data=$(mktemp -d "$stage/data.XXXXXX")
"$bin" tenant list --config-file "$conf" --data-dir "$data" >/dev/null ||
    fail "scimd refuses its own example scimd.conf"

# The unit starts the installed binary with the installed configuration.
grep -q "^ExecStart=$prefix/bin/scimd serve --config-file $sysconf/scimd/scimd.conf$" "$unit" ||
    fail "the unit's ExecStart does not name the installed files"
for opt in DynamicUser=yes StateDirectory=scimd NoNewPrivileges=yes ProtectSystem=strict \
    'ExecReload=/bin/kill -HUP $MAINPID' \
    "EnvironmentFile=-$sysconf/scimd/scimd.env"; do
    grep -qx -- "$opt" "$unit" || fail "the unit lacks $opt"
done
if command -v systemd-analyze >/dev/null; then
    out=$(systemd-analyze verify --root="$stage" "$unit" 2>&1) || true
    echo "$out" | grep -v -e "^$" -e "Failed to .*bus" -e "System has not been booted" \
        -e "running in chroot" | grep -i -e "error" -e "unknown" -e "invalid" &&
        fail "systemd-analyze verify: $out"
fi
echo "install/layout: $(find "$stage" -type f | wc -l) files laid out and checked"
