#!/usr/bin/env bash
# Runs the conformance harness for real: usermode-test.exe, cross-built for Windows, under
# Wine 8 against Wine's own mailslots (\\.\mailslot\). Rows Wine is known to get wrong
# (usermode-test/src/known.rs) must fail, and fail only there; every other row must pass. The
# 32-bit build (usermode-test-x86.exe) runs the same table and must close with the same line.
# Then the benchmark mode runs in a short form and its table is checked.
set -euo pipefail
cd "$(dirname "$0")/.."

. tools/lib.sh
need_packages wine wine64
# Wine runs the 32-bit harness with its 32-bit loader, from Debian's i386 architecture.
if ! dpkg -s wine32:i386 >/dev/null 2>&1; then
    echo "== installing wine32:i386 (adds the i386 architecture)"
    as_root dpkg --add-architecture i386
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wine32:i386 >/dev/null
fi

exe=target/package/usermode-test.exe
exe32=target/package/usermode-test-x86.exe
# The Rust example is built beside the harness; build all when any is missing.
[ -f "$exe" ] && [ -f "$exe32" ] && [ -f target/harness/x86_64-win7-windows-gnu/release/examples/mailslot_demo.exe ] || tools/build-harness.sh
out=target/wine-tests
mkdir -p "$out"
if [ -z "${WINEPREFIX:-}" ]; then
    export WINEPREFIX=$PWD/target/wineprefix
    # A prefix made before wine32 was installed has no 32-bit half and cannot start either
    # harness: ours is remade.
    [ -f "$WINEPREFIX/drive_c/windows/syswow64/kernel32.dll" ] || rm -rf "$WINEPREFIX"
fi
export WINEDEBUG=-all
unset DISPLAY

# Windows console output ends lines with CRLF where the C runtime does; strip it either way.
run() { timeout 900 wine "${exe}" "$@" 2>"$out/harness.stderr" | tr -d '\r'; }

echo "== the rows (--list)"
rows=$(run --list | tail -n 1)
echo "$rows"

# table EXE JSON: runs the table with EXE against Wine's mailslots; every row passes, is a
# known divergence or is observed, and the JSON report agrees with the closing line, which is
# left in $closing.
table() {
    local exe=$1 json=$2 text status
    set +e
    text=$(run --namespace native --json "$json")
    status=$?
    set -e
    echo "$text"
    closing=$(tail -n 1 <<<"$text")
    if [ "$status" -ne 0 ] || ! grep -Eq '^[0-9]+ passed, 0 failed, 0 skipped, [0-9]+ known divergences, [0-9]+ observed$' <<<"$closing"; then
        echo "harness under Wine ($exe): expected no failure, got: $closing (exit $status)" >&2
        cat "$out/harness.stderr" >&2
        exit 1
    fi
    # The JSON file is what Deploy-VM.ps1 brings back: it must parse and agree with the table.
    python3 - "$json" "$closing" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
s = doc["summary"]
line = f'{s["passed"]} passed, {s["failed"]} failed, {s["skipped"]} skipped, {s["knownDivergences"]} known divergences, {s["observed"]} observed'
assert line == sys.argv[2], (line, sys.argv[2])
assert doc["namespace"] == "native" and doc["host"].startswith("Wine"), doc["host"]
assert len(doc["rows"]) == s["passed"] + s["failed"] + s["skipped"] + s["knownDivergences"] + s["observed"]
for r in doc["rows"]:
    assert r["status"] in ("pass", "known-divergence", "observed"), r
    assert (r["status"] == "known-divergence") == (r["divergence"] is not None), r
print(f'json: {len(doc["rows"])} rows agree with the table')
PY
}

echo "== the table under Wine, against \\\\.\\mailslot\\"
table "$exe" "$out/wine-native.json"
echo "== the 32-bit harness (usermode-test-x86.exe) under Wine's 32-bit loader"
closing64=$closing
table "$exe32" "$out/wine-native-x86.json"
if [ "$closing" != "$closing64" ]; then
    echo "the 32-bit harness disagrees with the 64-bit one under Wine: $closing vs $closing64" >&2
    exit 1
fi
python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))["host"]; assert h.endswith("a 32-bit process"), h' \
    "$out/wine-native-x86.json"

echo "== the benchmark mode, short (--bench --messages 200)"
bench=$(run --bench --messages 200 --json "$out/wine-bench.json")
echo "$bench"
# Six cases: 64, 424 and 65536 bytes, one and four writers, each with 200 messages.
test "$(grep -Ec '^ +(64|424|65536) +(1|4) +200 ' <<<"$bench")" -eq 6
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["cases"]) == 6' "$out/wine-bench.json"

echo "== the README's usage examples (C and Rust), run against Wine's mailslots"
want=$'read 5 bytes: hello\nread 4 bytes: from\nread 10 bytes: a mailslot\nempty'
x86_64-w64-mingw32-gcc -municode -O2 -Wall -Werror -o "$out/mailslot-demo.exe" examples/mailslot-demo.c
for demo in "$out/mailslot-demo.exe" target/harness/x86_64-win7-windows-gnu/release/examples/mailslot_demo.exe; do
    got=$(timeout 60 wine "$demo" '\\.\mailslot\' | tr -d '\r')
    if [ "$got" != "$want" ]; then
        printf '%s printed:\n%s\nexpected:\n%s\n' "$demo" "$got" "$want" >&2
        exit 1
    fi
    echo "$(basename "$demo"): as expected"
done

echo "harness: $closing"
