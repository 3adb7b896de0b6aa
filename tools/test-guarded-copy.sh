#!/usr/bin/env bash
# Checks the driver's structured-exception-guarded copy (driver/src/asm/guarded_copy.s) for
# real: the same assembly, linked into a user-mode program with mingw-w64, runs under Wine,
# whose x64 exception dispatcher walks the same unwind data and scope table the kernel's does.
set -euo pipefail
cd "$(dirname "$0")/.."

. tools/lib.sh
need_packages gcc-mingw-w64-x86-64 wine wine64

out=target/wine-tests
mkdir -p "$out"
x86_64-w64-mingw32-gcc -O2 -Wall -Werror -o "$out/guarded_copy.exe" \
    driver/wine-tests/guarded_copy.c driver/src/asm/guarded_copy.s
export WINEPREFIX="${WINEPREFIX:-$PWD/target/wineprefix}" WINEDEBUG=-all
# The program prints CRLF line ends (Windows text mode).
result=$(timeout 300 wine "$out/guarded_copy.exe" 2>/dev/null | tr -d '\r') || {
    echo "$result"
    echo "guarded copy test failed under Wine" >&2
    exit 1
}
echo "$result"
grep -q '^guarded copy: 0 failures$' <<<"$result"

# The same routine inside rsmailslot.sys: exactly one function with an exception handler,
# whose scope table has one record starting at a `rep movsb` and whose handler slot points at
# the import thunk of ntoskrnl's __C_specific_handler.
sys=target/package/rsmailslot.sys
if [ -f "$sys" ]; then
    x86_64-w64-mingw32-objdump -x -d "$sys" > "$out/rsmailslot.dump"
    python3 - "$out/rsmailslot.dump" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
entries = re.findall(r"Flags: UNW_FLAG_EHANDLER.*?Handler: ([0-9a-f]+)\.\n\s*User data:\n\s*000: ((?:[0-9a-f]{2} ?)+)\n\s*010: ((?:[0-9a-f]{2} ?)+)", text, re.S)
assert len(entries) == 1, f"expected one function with a handler, found {len(entries)}"
handler, row0, row1 = entries[0]
data = bytes.fromhex((row0 + row1).replace(" ", ""))
count, begin, end, filt, target = (int.from_bytes(data[i:i + 4], "little") for i in range(0, 20, 4))
assert count == 1 and filt == 1 and begin < end < target, (count, begin, end, filt, target)
base = int(re.search(r"ImageBase\s+([0-9a-f]+)", text).group(1), 16)
def insn(addr):
    m = re.search(r"^\s*%x:\s+((?:[0-9a-f]{2} )+)\s*(.*)$" % addr, text, re.M)
    assert m, f"no instruction at {addr:#x}"
    return m.group(1).split(), m.group(2)
code, asm = insn(base + begin)
assert code[:2] == ["f3", "a4"], f"scope does not start at rep movsb: {code} {asm}"
code, asm = insn(int(handler, 16))
assert asm.startswith("jmp") and "__imp___C_specific_handler" in asm or code[:2] == ["ff", "25"], (code, asm)
print(f"rsmailslot.sys: guarded copy scope {begin:#x}..{end:#x} -> {target:#x}, handler thunk {handler}")
PY
fi
