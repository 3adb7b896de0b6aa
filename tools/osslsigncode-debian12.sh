#!/usr/bin/env bash
# Prints the path of Debian 12's own osslsigncode (bookworm/main, 2.5), unpacked into
# target/osslsigncode-debian12/ beside whatever osslsigncode is installed (this machine may
# have a backport), so the checks can be run with both. Downloads the package once.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/lib.sh
dir=$PWD/target/osslsigncode-debian12
bin=$dir/root/usr/bin/osslsigncode
if [ ! -x "$bin" ]; then
    version=$(apt-cache madison osslsigncode | awk -F'|' '$3 ~ /bookworm\/main/ { gsub(/ /, "", $2); print $2; exit }')
    if [ -z "$version" ]; then
        as_root apt-get update -qq >&2
        version=$(apt-cache madison osslsigncode | awk -F'|' '$3 ~ /bookworm\/main/ { gsub(/ /, "", $2); print $2; exit }')
    fi
    [ -n "$version" ] || { echo "osslsigncode-debian12: no osslsigncode in bookworm/main" >&2; exit 1; }
    rm -rf "$dir"
    mkdir -p "$dir"
    # apt-get download writes into the current directory; as root it warns that _apt cannot.
    (cd "$dir" && apt-get download -q "osslsigncode=$version" >/dev/null 2>&1)
    dpkg -x "$dir"/osslsigncode_*.deb "$dir/root"
fi
"$bin" --version >/dev/null 2>&1 || { echo "osslsigncode-debian12: $bin does not run" >&2; exit 1; }
echo "$bin"
