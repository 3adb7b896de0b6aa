#!/usr/bin/env bash
# Cross-builds the conformance harness usermode-test.exe for x86_64 Windows (the win7 target
# of Debian's rustc-web, which runs on Windows 10/11 and under Wine 8; see
# shared/toolchain.md) and copies it to the folder given (default target/package).
#
# Needs root (or sudo) once, to install Debian's rustc-web, rust-web-src and mingw-w64's gcc
# (the linker).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-$root/target/package}

. tools/lib.sh
need_packages rustc-web rust-web-src gcc-mingw-w64-x86-64

target=x86_64-win7-windows-gnu
echo "== building usermode-test.exe ($target, Debian rustc $(/usr/bin/rustc --version | cut -d' ' -f2), -Zbuild-std)"
# The -gnu target's prebuilt std imports ProcessPrng, which Wine 8 lacks; building std for the
# win7 target avoids it. A target dir of its own keeps these artifacts apart.
RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc CARGO_TARGET_DIR=$root/target/harness \
    cargo build --release --locked -p usermode-test --bins --examples \
    -Zbuild-std=std,panic_abort --target $target \
    --config "target.$target.linker=\"x86_64-w64-mingw32-gcc\""
mkdir -p "$out"
# Symbols stay in target/harness; the copy that travels is stripped.
x86_64-w64-mingw32-strip -o "$out/usermode-test.exe" "$root/target/harness/$target/release/usermode-test.exe"
echo "== $out/usermode-test.exe: $(stat -c %s "$out/usermode-test.exe") bytes"
