#!/usr/bin/env bash
# Remote mailslots between Linux and Windows-under-Wine, on loopback only: rsmailslot-recv.exe
# creates \\.\mailslot\app\events in Wine; rsmailslot-relay.exe, also under Wine, listens on
# 127.0.0.1 and delivers what its policy admits through Wine's own mailslots; the Linux
# rsmailslot-send writes to \\PLANT\mailslot\app\events as a remote Windows peer would. The
# Windows program must read exactly the admitted messages, and the relay's counters must account
# for every datagram. Then the same relay runs as the RsMailslotRelay service (installed,
# started and stopped through Wine's service control manager, uninstalled) and delivers too.
# Nothing is sent to any address but 127.0.0.1.
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
    if [ -n "${service:-}" ]; then
        wine net stop RsMailslotRelay >/dev/null 2>&1 || true
        wine "$pkg/rsmailslot-relay.exe" uninstall >/dev/null 2>&1 || true
    fi
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
CHECK

# The service: a policy of its own on a free port, its log a file.
port=$(python3 -c "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
cat >"$work/service.toml" <<POLICY
listen = "127.0.0.1:$port"
[allow]
sources = ["127.0.0.1"]
mailslots = ["svc\\\\*"]
[sink]
kind = "mailslot"
POLICY
wine "$pkg/rsmailslot-recv.exe" --count 1 --timeout-ms 30000 'svc\in' >"$work/recv2.out" 2>"$work/recv2.err" &
recv_pid=$!
wait_line "$work/recv2.err" ready
service=1
wine "$pkg/rsmailslot-relay.exe" install --config "$(winepath -w "$work/service.toml")" \
    --log "$(winepath -w "$work/service.log")" --verbose --stats-every 1 2>&1 | tr -d '\r'
wine net start RsMailslotRelay >/dev/null 2>&1 || true
wait_line "$work/service.log" "listening on 127.0.0.1:$port"
"$send" --to "127.0.0.1:$port" --from LINUXBOX --text "through the service" '\\PLANT\mailslot\svc\in'
wait "$recv_pid" || { echo "test-relay-wine: the service delivered nothing" >&2; cat "$work/service.log" >&2; exit 1; }
recv_pid=
wine net stop RsMailslotRelay 2>&1 | tr -d '\r'
wine "$pkg/rsmailslot-relay.exe" uninstall
service=
if wine "$pkg/rsmailslot-relay.exe" uninstall 2>/dev/null; then
    echo "test-relay-wine: the service is still installed" >&2
    exit 1
fi
grep -q '"text":"through the service"' "$work/recv2.out"
grep -q 'delivered from=127.0.0.1:[0-9]* mailslot=\\MAILSLOT\\svc\\in length=19' "$work/service.log"
grep -q '"received":1,"delivered":1,' "$work/service.log"
echo "relay under Wine: 2 of 4 datagrams from Linux delivered into a Wine mailslot and read by a Windows program (1 refused by the policy, 1 undeliverable); as the RsMailslotRelay service, installed, started, stopped and removed through Wine's service manager, 1 of 1"
