#!/usr/bin/env bash
# The project's main job: builds rsmailslot.sys for x86_64 Windows from Linux, signs it with
# a test certificate, and writes the package folder target/package/:
#   rsmailslot.sys   the driver, Authenticode-signed (SHA-256) with the test certificate
#   rsmailslot.pdb   its symbols
#   rsmailslot.inf   the INF, DriverVer stamped with today's UTC date, the crate version and a
#                    build number
#   rsmailslot.cat   the catalog the INF names (tools/catgen), signed with the test certificate
#   rsmailslot.cer   the test certificate (DER), to trust on a test-signing machine
#   usermode-test.exe  the conformance harness (tools/build-harness.sh), run on the VM
#   usermode-test-x86.exe  the same harness built for 32-bit Windows, run under WoW64
#
# Needs root (or sudo) once, to install Debian's rustc-web, rust-web-src, rust-web-clippy,
# lld-14, osslsigncode and openssl. The test certificate and key are made once in cert/ (ignored by
# git) and reused, so every build is signed by the same certificate a VM already trusts.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)

. tools/lib.sh
need_packages rustc-web rust-web-src rust-web-clippy lld-14 osslsigncode openssl

target=x86_64-pc-windows-msvc
target_dir=$root/target/driver
out=$root/target/package
# A failed build must not leave an older package behind for check-driver.sh to pass.
rm -rf "$out"
first_build=no
[ -d "$target_dir/$target/release" ] || first_build=yes
echo "== building rsmailslot.sys ($target, Debian rustc $(/usr/bin/rustc --version | cut -d' ' -f2), -Zbuild-std)"
# Debian's rustc ships the library sources build-std needs; RUSTC_BOOTSTRAP enables -Z flags
# on this stable toolchain. A target dir of its own keeps these artifacts apart from the
# host toolchain's. Line tables put every function (closures and private helpers too) into
# the .pdb, so a bugcheck report names the driver's frames (the instructions do not change).
RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc CARGO_TARGET_DIR=$target_dir \
    cargo build --release --locked -p rsmailslot \
    -Zbuild-std=core,alloc --target $target \
    --config "target.$target.linker=\"lld-link-14\"" \
    --config 'profile.release.debug="line-tables-only"'


mkdir -p "$out"
built=$target_dir/$target/release
cp "$built/rsmailslot.dll" "$out/rsmailslot.unsigned.sys"
cp "$built/rsmailslot.pdb" "$out/rsmailslot.pdb"
# lld-link does not write the PE checksum, which drivers need.
cargo run -q --locked -p pecheck -- fix-checksum "$out/rsmailslot.unsigned.sys" >/dev/null

cert=$root/cert
if [ ! -f "$cert/rsmailslot-test.key" ] || [ ! -f "$cert/rsmailslot-test.crt" ]; then
    echo "== creating the test certificate in cert/"
    mkdir -p "$cert"
    openssl req -x509 -newkey rsa:3072 -sha256 -days 3650 -nodes \
        -subj "/CN=rsmailslot test signing" \
        -addext "keyUsage=critical,digitalSignature" \
        -addext "extendedKeyUsage=codeSigning" \
        -keyout "$cert/rsmailslot-test.key" -out "$cert/rsmailslot-test.crt" 2>/dev/null
fi
openssl x509 -in "$cert/rsmailslot-test.crt" -outform der -out "$out/rsmailslot.cer"

echo "== signing"
osslsigncode sign -certs "$cert/rsmailslot-test.crt" -key "$cert/rsmailslot-test.key" \
    -h sha256 -n "rsmailslot" -in "$out/rsmailslot.unsigned.sys" -out "$out/rsmailslot.sys" >/dev/null
rm "$out/rsmailslot.unsigned.sys"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' driver/Cargo.toml | head -n 1)
# DriverVer: today's UTC date and the crate version with a build number, the half-seconds since
# UTC midnight (0..43199, within the 16 bits a field holds), so each build outranks the last.
now=$(date -u +%s)
build=$(( (now % 86400) / 2 ))
sed "s|^DriverVer .*|DriverVer   = $(date -u -d "@$now" +%m/%d/%Y),$version.$build|" inf/rsmailslot.inf > "$out/rsmailslot.inf"

# The catalog the INF names, as Inf2Cat would write it: the .sys's PE image hash and the
# .inf's hash, for OSAttr 2:10.0 (every Windows 10 and 11; the INF's decoration narrows it to
# build 19041 and later), signed with the test certificate (tools/catgen).
echo "== catalog"
cargo run -q --locked --release -p catgen -- --sys "$out/rsmailslot.sys" --inf "$out/rsmailslot.inf" \
    --cert "$cert/rsmailslot-test.crt" --key "$cert/rsmailslot-test.key" --time "$now" --os 2:10.0 \
    --out "$out/rsmailslot.cat"

# The harness travels with the package: Deploy-VM.ps1 runs it against both namespaces.
tools/build-harness.sh "$out"

elapsed=$(( $(date +%s) - started ))
size=$(stat -c %s "$out/rsmailslot.sys")
echo "== package: $out"
ls -l "$out" | tail -n +2
if [ "$first_build" = yes ]; then
    echo "first build: ${elapsed}s; rsmailslot.sys: $size bytes"
else
    echo "build: ${elapsed}s; rsmailslot.sys: $size bytes"
fi
