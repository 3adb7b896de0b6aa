#!/usr/bin/env bash
# Checks the package that tools/build-driver.sh wrote: the PE properties of rsmailslot.sys
# (tools/pecheck), its Authenticode signature (osslsigncode, against the test certificate),
# and that our PE checksum agrees with osslsigncode's.
#
# OSSLSIGNCODE names the osslsigncode to check with (default: the one on PATH); the output is
# read so that Debian 12's own 2.5 and the 2.9 backport both pass (tools/test.sh runs both).
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=target/package
ossl=${OSSLSIGNCODE:-osslsigncode}
for f in rsmailslot.sys rsmailslot.pdb rsmailslot.inf rsmailslot.cat rsmailslot.cer; do
    [ -s "$pkg/$f" ] || { echo "check-driver: $pkg/$f is missing" >&2; exit 1; }
done
cargo run -q --locked -p pecheck -- check "$pkg/rsmailslot.sys" driver/allowed-imports.txt --signed
# The packaged INF's DriverVer: a UTC date and version.major.minor.patch.build, each field of the
# version within 16 bits, so a rebuild outranks the package already installed.
driver_ver=$(sed -n 's/^DriverVer *= *//p' "$pkg/rsmailslot.inf" | tr -d '\r')
if ! grep -Eq '^[01][0-9]/[0-3][0-9]/20[0-9]{2},[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' <<<"$driver_ver" \
    || [ "$(cut -d. -f4 <<<"$driver_ver")" -gt 65535 ]; then
    echo "check-driver: DriverVer '$driver_ver' is not a date and a four-part version" >&2
    exit 1
fi

verify=$("$ossl" verify -CAfile cert/rsmailslot-test.crt -in "$pkg/rsmailslot.sys" 2>&1) || {
    echo "$verify" >&2
    echo "check-driver: the signature does not verify" >&2
    exit 1
}
grep -q "^Signature verification: ok" <<<"$verify" || { echo "$verify" >&2; exit 1; }
# The checksum in the header: "PE checksum : X" (2.9) or "Current PE checksum : X" (2.5, which
# also prints the one it calculates, "Calculated PE checksum: Y", and that must agree too).
version=$("$ossl" --version 2>&1 | head -n 1 | cut -d, -f1)
theirs=$(sed -n 's/^\(Current \)\{0,1\}PE checksum *: *\([0-9A-Fa-f]\{1,8\}\).*/\2/p' <<<"$verify" | head -n 1)
calculated=$(sed -n 's/^Calculated PE checksum *: *\([0-9A-Fa-f]\{1,8\}\).*/\1/p' <<<"$verify" | head -n 1)
ours=$(cargo run -q --locked -p pecheck -- checksum "$pkg/rsmailslot.sys" | sed 's/^0x//')
if [ -z "$theirs" ] || [ "$(printf '%08x' "0x$theirs")" != "$ours" ]; then
    echo "$verify" >&2
    echo "check-driver: PE checksum: $version says '$theirs', pecheck computes $ours" >&2
    exit 1
fi
if [ -n "$calculated" ] && [ "$(printf '%08x' "0x$calculated")" != "$ours" ]; then
    echo "check-driver: PE checksum: $version calculates $calculated, pecheck $ours" >&2
    exit 1
fi
# The certificate shipped is the one that signed the image.
openssl x509 -inform der -in "$pkg/rsmailslot.cer" -noout -fingerprint -sha256 >/dev/null
# The checks can fail: one flipped byte in the code must break the checksum and the signature.
tampered=$(mktemp)
trap 'rm -f "$tampered"' EXIT
cp "$pkg/rsmailslot.sys" "$tampered"
printf '\xcc' | dd of="$tampered" bs=1 seek=$((0x400 + 16)) conv=notrunc status=none
if cargo run -q --locked -p pecheck -- check "$tampered" driver/allowed-imports.txt --signed 2>/dev/null; then
    echo "check-driver: pecheck accepted a tampered image" >&2
    exit 1
fi
if "$ossl" verify -CAfile cert/rsmailslot-test.crt -in "$tampered" >/dev/null 2>&1; then
    echo "check-driver: osslsigncode accepted a tampered image" >&2
    exit 1
fi

# The catalog: its signature and the .sys's PE image hash, checked by osslsigncode; the .inf's
# SHA-256 found in it by openssl's own DER parser. Both must fail for a changed file.
cat_verify() { "$ossl" verify -CAfile cert/rsmailslot-test.crt -catalog "$1" -in "$2" 2>&1; }
if ! cat_out=$(cat_verify "$pkg/rsmailslot.cat" "$pkg/rsmailslot.sys") || ! grep -q "^Signature verification: ok" <<<"$cat_out"; then
    echo "$cat_out" >&2
    echo "check-driver: $version does not verify rsmailslot.sys against rsmailslot.cat" >&2
    exit 1
fi
if cat_verify "$pkg/rsmailslot.cat" "$tampered" >/dev/null; then
    echo "check-driver: $version found a tampered rsmailslot.sys in the catalog" >&2
    exit 1
fi
bad_cat=$(mktemp)
trap 'rm -f "$tampered" "$bad_cat"' EXIT
cp "$pkg/rsmailslot.cat" "$bad_cat"
# One byte of the signature value, the catalog's last bytes.
size=$(stat -c %s "$bad_cat")
printf '\x5a' | dd of="$bad_cat" bs=1 seek=$((size - 8)) conv=notrunc status=none
if cat_verify "$bad_cat" "$pkg/rsmailslot.sys" >/dev/null; then
    echo "check-driver: $version accepted a catalog whose signature was changed" >&2
    exit 1
fi
listed() { openssl asn1parse -inform DER -in "$pkg/rsmailslot.cat" | grep -ci "OCTET STRING *\[HEX DUMP\]:$1\$" || true; }
inf_hash=$(sha256sum "$pkg/rsmailslot.inf" | cut -d' ' -f1)
# The member's tag and the digest in its indirect data.
if [ "$(listed "$inf_hash")" -ne 2 ]; then
    echo "check-driver: rsmailslot.inf's SHA-256 $inf_hash is not in rsmailslot.cat" >&2
    exit 1
fi
changed_hash=$( (cat "$pkg/rsmailslot.inf"; echo) | sha256sum | cut -d' ' -f1)
if [ "$(listed "$changed_hash")" -ne 0 ]; then
    echo "check-driver: a changed rsmailslot.inf is in rsmailslot.cat" >&2
    exit 1
fi
echo "check-driver: signature ok, checksum 0x$ours agrees with $version; rsmailslot.cat lists the .sys ($version) and the .inf (openssl) and is refused when either changes"
