#!/usr/bin/env bash
# Runs the conformance harness for real: usermode-test.exe, cross-built for Windows, under
# Wine 8 against Wine's own mailslots (\\.\mailslot\). Rows Wine is known to get wrong
# (usermode-test/src/known.rs) must fail, and fail only there; every other row must pass.
# Then the benchmark mode runs in a short form and its table is checked.
set -euo pipefail
cd "$(dirname "$0")/.."

. tools/lib.sh
need_packages wine wine64

exe=target/package/usermode-test.exe
# The Rust example is built beside the harness; build both when either is missing.
[ -f "$exe" ] && [ -f target/harness/x86_64-win7-windows-gnu/release/examples/mailslot_demo.exe ] || tools/build-harness.sh
out=target/wine-tests
mkdir -p "$out"
export WINEPREFIX="${WINEPREFIX:-$PWD/target/wineprefix}" WINEDEBUG=-all
unset DISPLAY

# Windows console output ends lines with CRLF where the C runtime does; strip it either way.
run() { timeout 900 wine "$exe" "$@" 2>"$out/harness.stderr" | tr -d '\r'; }

echo "== the rows (--list)"
rows=$(run --list | tail -n 1)
echo "$rows"

echo "== the table under Wine, against \\\\.\\mailslot\\"
set +e
table=$(run --namespace native --json "$out/wine-native.json")
status=$?
set -e
echo "$table"
closing=$(tail -n 1 <<<"$table")
if [ "$status" -ne 0 ] || ! grep -Eq '^[0-9]+ passed, 0 failed, 0 skipped, [0-9]+ known divergences, [0-9]+ observed$' <<<"$closing"; then
    echo "harness under Wine: expected no failure, got: $closing (exit $status)" >&2
    cat "$out/harness.stderr" >&2
    exit 1
fi
# The JSON file is what Deploy-VM.ps1 brings back: it must parse and agree with the table.
python3 - "$out/wine-native.json" "$closing" <<'PY'
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
