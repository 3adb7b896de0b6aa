#!/usr/bin/env bash
# Remote mailslots between Linux and Windows-under-Wine, on loopback only: rsmailslot-recv.exe
# creates \\.\mailslot\app\events in Wine; rsmailslot-relay.exe, also under Wine, listens on
# 127.0.0.1 and delivers what its policy admits through Wine's own mailslots; the Linux
# rsmailslot-send writes to \\PLANT\mailslot\app\events as a remote Windows peer would. The
# Windows program must read exactly the admitted messages, and the relay's counters must account
# for every datagram. Nothing is sent to any address but 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

. tools/lib.sh
need_packages wine wine64
pkg=target/package
for exe in rsmailslot-relay rsmailslot-recv; do
    [ -f "$pkg/$exe.exe" ] || tools/build-harness.sh
done
cargo build --release --locked -q -p rsmailslot-relay --bin rsmailslot-send
send=target/release/rsmailslot-send
export WINEPREFIX=${WINEPREFIX:-$PWD/target/wineprefix}
export WINEDEBUG=-all
unset DISPLAY
work=$(mktemp -d)
cleanup() {
    kill "${recv_pid:-}" "${relay_pid:-}" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# wait_line FILE PATTERN: waits (at most 60 s: Wine's first start makes its prefix) for a
# line matching PATTERN.
wait_line() {
    for _ in $(seq 600); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "test-relay-wine: no line matching '$2' in $1:" >&2
    cat "$1" >&2
    return 1
}

wine "$pkg/rsmailslot-recv.exe" --count 2 --timeout-ms 30000 'app\events' >"$work/recv.out" 2>"$work/recv.err" &
recv_pid=$!
wait_line "$work/recv.err" ready

cat >"$work/policy.toml" <<'POLICY'
[allow]
sources = ["127.0.0.1"]
mailslots = ["app\\*"]
[sink]
kind = "mailslot"
namespace = "mailslot"
POLICY
wine "$pkg/rsmailslot-relay.exe" --config "$(winepath -w "$work/policy.toml")" \
    --listen 127.0.0.1:0 --verbose --exit-after 4 >"$work/relay.out" 2>"$work/relay.err" &
relay_pid=$!
wait_line "$work/relay.err" "listening on 127.0.0.1:"
addr=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$work/relay.err" | head -n1 | cut -d' ' -f3)

"$send" --to "$addr" --from LINUXBOX --text "hello from Linux" '\\PLANT\mailslot\app\events'
"$send" --to "$addr" --from LINUXBOX --hex 00ff7f '\\*\mailslot\APP\Events'
"$send" --to "$addr" --from LINUXBOX --text refused '\\PLANT\mailslot\other'
"$send" --to "$addr" --from LINUXBOX --text nobody '\\PLANT\mailslot\app\nobody'

wait "$recv_pid" || { echo "test-relay-wine: rsmailslot-recv.exe did not get 2 messages" >&2; cat "$work/recv.out" "$work/recv.err" >&2; exit 1; }
recv_pid=
wait "$relay_pid"
relay_pid=
tr -d '\r' <"$work/recv.out" >"$work/recv.txt"
tr -d '\r' <"$work/relay.err" >"$work/relay.txt"
python3 - "$work/recv.txt" "$work/relay.txt" <<'CHECK'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert [m.get("text") for m in got][:1] == ["hello from Linux"], got
assert [m["data_hex"] for m in got] == [b"hello from Linux".hex(), "00ff7f"], got
counters = [json.loads(l) for l in open(sys.argv[2]) if l.startswith('{"received"')][-1]
assert counters["received"] == 4, counters
assert counters["delivered"] == 2, counters
assert counters["refused"] == {"mailslot-not-allowed": 1, "undeliverable:no-such-mailslot": 1}, counters
print("relay under Wine: 2 of 4 datagrams from Linux delivered into a Wine mailslot and read by a Windows program; 1 refused by the policy, 1 undeliverable")
CHECK
