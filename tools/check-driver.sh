#!/usr/bin/env bash
# Checks the package that tools/build-driver.sh wrote: the PE properties of rsmailslot.sys
# (tools/pecheck), its Authenticode signature (osslsigncode, against the test certificate),
# and that our PE checksum agrees with osslsigncode's.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=target/package
for f in rsmailslot.sys rsmailslot.pdb rsmailslot.inf rsmailslot.cer; do
    [ -s "$pkg/$f" ] || { echo "check-driver: $pkg/$f is missing" >&2; exit 1; }
done
cargo run -q --locked -p pecheck -- check "$pkg/rsmailslot.sys" driver/allowed-imports.txt --signed

verify=$(osslsigncode verify -CAfile cert/rsmailslot-test.crt -in "$pkg/rsmailslot.sys" 2>&1) || {
    echo "$verify" >&2
    echo "check-driver: the signature does not verify" >&2
    exit 1
}
grep -q "^Signature verification: ok" <<<"$verify" || { echo "$verify" >&2; exit 1; }
theirs=$(sed -n 's/^PE checksum *: *\([0-9A-Fa-f]*\).*/\1/p' <<<"$verify" | head -n 1 | tr 'A-F' 'a-f')
ours=$(cargo run -q --locked -p pecheck -- checksum "$pkg/rsmailslot.sys" | sed 's/^0x//')
if [ "$(printf '%08x' "0x$theirs")" != "$ours" ]; then
    echo "check-driver: PE checksum: osslsigncode says $theirs, pecheck computes $ours" >&2
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
if osslsigncode verify -CAfile cert/rsmailslot-test.crt -in "$tampered" >/dev/null 2>&1; then
    echo "check-driver: osslsigncode accepted a tampered image" >&2
    exit 1
fi
echo "check-driver: signature ok, checksum 0x$ours agrees with osslsigncode"
