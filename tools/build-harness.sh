#!/usr/bin/env bash
# Cross-builds the conformance harness (and the remote-mailslot relay's three programs) for
# Windows and copies them to the folder given (default target/package): usermode-test.exe for x86_64 and usermode-test-x86.exe for i686, the 32-bit
# build a 64-bit Windows runs under WoW64 (where FILE_MAILSLOT_SET_INFORMATION holds a 4-byte
# pointer the driver must read as one). Both use the win7 targets of Debian's rustc-web, which
# run on Windows 10/11 and under Wine 8.
#
# Needs root (or sudo) once, to install Debian's rustc-web, rust-web-src and mingw-w64's gcc for
# both targets (the linkers).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-$root/target/package}

. tools/lib.sh
need_packages rustc-web rust-web-src gcc-mingw-w64-x86-64 gcc-mingw-w64-i686

mkdir -p "$out"
# build TARGET GCC_PREFIX PACKAGED_NAME
build() {
    local target=$1 gcc=$2 name=$3
    echo "== building $name ($target, Debian rustc $(/usr/bin/rustc --version | cut -d' ' -f2), -Zbuild-std)"
    # The -gnu targets' prebuilt std imports ProcessPrng, which Wine 8 lacks; building std for
    # the win7 target avoids it. A target dir of its own keeps these artifacts apart.
    RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc CARGO_TARGET_DIR=$root/target/harness \
        cargo build --release --locked -p usermode-test --bins --examples \
        -Zbuild-std=std,panic_abort --target "$target" \
        --config "target.$target.linker=\"$gcc-gcc\""
    # Symbols stay in target/harness; the copy that travels is stripped.
    "$gcc-strip" -o "$out/$name" "$root/target/harness/$target/release/usermode-test.exe"
    echo "== $out/$name: $(stat -c %s "$out/$name") bytes"
}
build x86_64-win7-windows-gnu x86_64-w64-mingw32 usermode-test.exe
build i686-win7-windows-gnu i686-w64-mingw32 usermode-test-x86.exe

# The remote-mailslot relay, its sender and its receiver (issue 16), 64-bit, into the package
# beside the harness.
echo "== building rsmailslot-relay.exe, rsmailslot-send.exe, rsmailslot-recv.exe (x86_64-win7-windows-gnu)"
RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc CARGO_TARGET_DIR=$root/target/harness \
    cargo build --release --locked -p rsmailslot-relay --bins \
    -Zbuild-std=std,panic_abort --target x86_64-win7-windows-gnu \
    --config 'target.x86_64-win7-windows-gnu.linker="x86_64-w64-mingw32-gcc"'
for bin in rsmailslot-relay rsmailslot-send rsmailslot-recv; do
    x86_64-w64-mingw32-strip -o "$out/$bin.exe" "$root/target/harness/x86_64-win7-windows-gnu/release/$bin.exe"
    echo "== $out/$bin.exe: $(stat -c %s "$out/$bin.exe") bytes"
done
