#!/usr/bin/env bash
# Remote mailslots against a real peer: Samba's nmbd (Debian's samba), in two network
# namespaces this script creates and removes, joined by a veth pair (10.138.0.1, nmbd's;
# 10.138.0.2, ours); no packet leaves them.
#  - nmbd's browser traffic (\MAILSLOT\BROWSE: host announcements, elections, announcement
#    requests) reaches rsmailslot-relay, which parses and delivers it: at least one host
#    announcement for NMBDPEER, and every datagram accounted for;
#  - a host announcement of ours, sent by rsmailslot-send to the workgroup's master browser
#    name, is accepted by nmbd once it is the local master browser: our server appears in its
#    browse list (browse.dat).
# Needs root (network namespaces, port 138).
set -euo pipefail
cd "$(dirname "$0")/.."

. tools/lib.sh
need_packages samba iproute2
cargo build --release --locked -q -p rsmailslot-relay --bins
bin=$PWD/target/release
work=$(mktemp -d)
ns_a=rsmail-nmbd-$$
ns_b=rsmail-relay-$$
cleanup() {
    kill "${nmbd_pid:-}" "${relay_pid:-}" 2>/dev/null || true
    wait 2>/dev/null || true
    ip netns del "$ns_a" 2>/dev/null || true
    ip netns del "$ns_b" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add rsmail0 netns "$ns_a" type veth peer name rsmail1 netns "$ns_b"
ip -n "$ns_a" link set lo up
ip -n "$ns_a" addr add 10.138.0.1/24 dev rsmail0
ip -n "$ns_a" link set rsmail0 up
ip -n "$ns_b" link set lo up
ip -n "$ns_b" addr add 10.138.0.2/24 dev rsmail1
ip -n "$ns_b" link set rsmail1 up

mkdir -p "$work/state"
cat >"$work/smb.conf" <<CONF
[global]
workgroup = RSTESTGRP
netbios name = NMBDPEER
interfaces = 10.138.0.1/24
bind interfaces only = yes
local master = yes
preferred master = yes
os level = 255
domain master = no
remote announce = 10.138.0.2/RSTESTGRP
dns proxy = no
lock directory = $work/state
state directory = $work/state
cache directory = $work/state
pid directory = $work/state
private dir = $work/state
ncalrpc dir = $work/state
log file = $work/nmbd.log
log level = 3
CONF
cat >"$work/policy.toml" <<'POLICY'
listen = "0.0.0.0:138"
[allow]
sources = ["10.138.0.0/24"]
mailslots = ["BROWSE"]
[sink]
kind = "stdout"
POLICY

ip netns exec "$ns_b" "$bin/rsmailslot-relay" --config "$work/policy.toml" --verbose --stats-every 1 \
    >"$work/relay.out" 2>"$work/relay.err" &
relay_pid=$!
ip netns exec "$ns_a" nmbd -F --no-process-group -s "$work/smb.conf" >"$work/nmbd.out" 2>&1 &
nmbd_pid=$!

# wait_for SECONDS FILE PATTERN
wait_for() {
    for _ in $(seq "$1"); do
        grep -q "$3" "$2" 2>/dev/null && return 0
        sleep 1
    done
    echo "test-relay-nmbd: no '$3' in $2 after $1 s" >&2
    tail -n 30 "$work/nmbd.log" "$work/relay.err" >&2 || true
    return 1
}
wait_for 120 "$work/nmbd.log" "is now a local master browser"

# A host announcement [MS-BRWS 2.2.1]: opcode 1, update count, periodicity (ms), the server's
# name in 16 bytes, OS version 6.1, server type (workstation and server), browser version
# 15.1, signature 0xAA55, a comment.
announcement=$(python3 -c "
import struct
name = b'RSPEER'.ljust(16, b'\0')
print((bytes([1, 0]) + struct.pack('<I', 720000) + name + bytes([6, 1]) + struct.pack('<I', 3)
       + bytes([15, 1, 0x55, 0xAA]) + b'rsmailslot test peer\0').hex())")
ip netns exec "$ns_b" "$bin/rsmailslot-send" --to 10.138.0.1 --from RSPEER --group --suffix 1d \
    --hex "$announcement" '\\RSTESTGRP\mailslot\BROWSE'
wait_for 120 "$work/state/browse.dat" '"RSPEER"'
sleep 2
kill "$nmbd_pid" "$relay_pid"
wait "$nmbd_pid" "$relay_pid" 2>/dev/null || true
nmbd_pid=
relay_pid=

python3 - "$work/relay.out" "$work/relay.err" "$work/state/browse.dat" <<'CHECK'
import json, sys
delivered = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
counters = [json.loads(l) for l in open(sys.argv[2]) if l.startswith('{"received"')][-1]
assert delivered, "nothing of nmbd's reached the relay"
assert all(m["mailslot"] == "\\MAILSLOT\\BROWSE" and m["source"] == "NMBDPEER<00>" for m in delivered), delivered
announcements = [bytes.fromhex(m["data_hex"]) for m in delivered if m["data_hex"].startswith("01")]
assert any(a[6:22].rstrip(b"\0") == b"NMBDPEER" for a in announcements), "no host announcement for NMBDPEER"
# Every datagram the relay received is accounted for (the last counters may precede a
# final few deliveries by less than a second).
assert counters["received"] == counters["delivered"] + sum(counters["refused"].values()), counters
assert counters["delivered"] <= len(delivered), (counters, len(delivered))
opcodes = sorted({m["data_hex"][:2] for m in delivered})
listed = open(sys.argv[3]).read()
assert '"RSPEER"' in listed and "rsmailslot test peer" in listed, listed
print(f"nmbd: {len(delivered)} browser datagrams of Samba's nmbd delivered by the relay "
      f"({len(announcements)} host announcements; opcodes {', '.join(opcodes)}), "
      f"and our host announcement accepted into nmbd's browse list")
CHECK
