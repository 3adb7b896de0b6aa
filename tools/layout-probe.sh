#!/usr/bin/env bash
# Prints the Windows x64 layouts and status mappings the emulated kernel relies on, from an
# independent source: ntemu/probe/layout.c compiled against mingw-w64's DDK headers and run
# under Wine (whose ntdll supplies RtlNtStatusToDosError). ntemu/tests/layout.rs compares its
# output, target/layout-probe.txt, with ntemu's own constants.
set -euo pipefail
cd "$(dirname "$0")/.."

. tools/lib.sh
need_packages gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev wine wine64

out=target/wine-tests
mkdir -p "$out"
x86_64-w64-mingw32-gcc -O0 -Wall -Werror -I/usr/share/mingw-w64/include/ddk \
    -o "$out/layout.exe" ntemu/probe/layout.c -lntdll
export WINEPREFIX="${WINEPREFIX:-$PWD/target/wineprefix}" WINEDEBUG=-all
timeout 300 wine "$out/layout.exe" 2>/dev/null | tr -d '\r' > target/layout-probe.txt.new
mv target/layout-probe.txt.new target/layout-probe.txt
echo "layout probe: $(wc -l < target/layout-probe.txt) lines in target/layout-probe.txt"
