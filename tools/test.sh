#!/usr/bin/env bash
# The project's test command: everything that can be checked on this machine, from a fresh
# Debian machine with the rustup toolchain. It installs what it needs.
#
#   tools/test.sh            # full run (what CI runs)
#   FUZZ_SECONDS=60 tools/test.sh   # longer fuzzing per target
set -euo pipefail
cd "$(dirname "$0")/.."

. tools/lib.sh
# Debian's Unicode data, to check the generated case-folding table is current; Wireshark's
# tshark, the decoder the Remote Mailslot Protocol codec is checked against (msmail/tests).
need_packages unicode-data tshark
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy

echo "== format"
cargo fmt --all -- --check

echo "== clippy (deny warnings; the engine also denies unwrap, indexing and unchecked arithmetic)"
cargo clippy --workspace --exclude rsmailslot --all-targets --features msfs/audit --locked -- -D warnings
# The driver on the host: its unit tests (ABI layouts, names, INF); its kernel code is linted
# for the Windows target below.
cargo clippy -p rsmailslot --tests --locked -- -D warnings
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
    cargo clippy -p msfs-io --tests --locked -- -D warnings
# The engine as the driver will link it: without the test-only audit feature.
cargo clippy -p msfs --lib --locked -- -D warnings

echo "== driver: build and sign the package (the main job)"
tools/build-driver.sh

echo "== driver: clippy for the Windows target (Debian's clippy, matching the driver's rustc)"
RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/driver-clippy \
    /usr/bin/cargo-clippy clippy --release --locked -p rsmailslot \
    -Zbuild-std=core,alloc --target x86_64-pc-windows-msvc -- -D warnings

echo "== harness: clippy for its Windows targets, 64- and 32-bit (its rows and benchmark only build there)"
for target in x86_64-win7-windows-gnu i686-win7-windows-gnu; do
    RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/harness-clippy \
        /usr/bin/cargo-clippy clippy --release --locked -p usermode-test --lib --bins --examples \
        -Zbuild-std=std,panic_abort --target "$target" -- -D warnings
done
echo "== relay: clippy for Windows (its mailslot sink and receiver only build there)"
RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/harness-clippy \
    /usr/bin/cargo-clippy clippy --release --locked -p rsmailslot-relay --lib --bins \
    -Zbuild-std=std,panic_abort --target x86_64-win7-windows-gnu -- -D warnings

echo "== driver: PE, import and signature checks, with the installed osslsigncode and Debian 12's own"
tools/check-driver.sh
OSSLSIGNCODE=$(tools/osslsigncode-debian12.sh) tools/check-driver.sh

echo "== driver: the exception-guarded copy, run under Wine, and its unwind data in the image"
tools/test-guarded-copy.sh

echo "== harness: usermode-test.exe under Wine against Wine's mailslots, and --bench"
harness_log=$(mktemp)
tools/test-harness.sh | tee "$harness_log"
harness=$(tail -n 1 "$harness_log")
rm -f "$harness_log"

echo "== remote mailslots: Linux's rsmailslot-send through rsmailslot-relay.exe into a Wine mailslot"
relay_log=$(mktemp)
tools/test-relay-wine.sh | tee "$relay_log"
relay_line=$(tail -n 1 "$relay_log")
echo "== remote mailslots against Samba's nmbd, in network namespaces of the test's own"
tools/test-relay-nmbd.sh | tee "$relay_log"
nmbd_line=$(tail -n 1 "$relay_log")
rm -f "$relay_log"

echo "== the emulated kernel's layouts and status mapping, from mingw-w64's DDK headers and Wine"
tools/layout-probe.sh

echo "== case-folding table matches Unicode's CaseFolding.txt"
python3 tools/gen-casefold.py --check msfs/src/fold_table.rs

echo "== fuzz smoke run"
tools/fuzz.sh "${FUZZ_SECONDS:-10}"

echo "== benchmarks still run (figures: BENCHMARKS.md)"
cargo bench --locked -p msfs --bench engine -- --test >/dev/null
cargo bench --locked -p msfs --bench report -- --quick
cargo bench --locked -p rsmailslot-relay --bench judge -- --quick
echo "== figures of the real rsmailslot.sys under the emulated kernel (BENCHMARKS.md)"
cargo bench --locked -p ntemu --bench figures

echo "== tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --exclude ntemu --locked 2>&1 | tee "$log"
test "${PIPESTATUS[0]}" -eq 0
echo "== the signed rsmailslot.sys under the emulated kernel: the table as each user, stress, faults, self-checks"
emu_log=$(mktemp)
trap 'rm -f "$log" "$emu_log"' EXIT
RSMAILSLOT_SYS="$PWD/target/package/rsmailslot.sys" cargo test --locked -p ntemu -- --nocapture 2>&1 | tee "$emu_log"
test "${PIPESTATUS[0]}" -eq 0
cat "$emu_log" >> "$log"
echo "== model check of the pending-read protocol (loom)"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
    cargo test --locked --release -p msfs-io --test loom 2>&1 | tee -a "$log"
test "${PIPESTATUS[0]}" -eq 0
echo "$harness"
echo "$relay_line"
echo "$nmbd_line"
# What the real binary went through, from the ntemu tests' own lines.
awk '/^table \[/ { split($0, a, ": "); split(a[2], b, " "); rows += b[1]; runs++ }
     /^stress round/ { stress++ }
     /^faults: [0-9]+ allocations/ { alloc = $2 }
     /^faults: DriverEntry/ { entry = $8 + $12 }
     /^instrument: .* caught/ { caught++ }
     END { printf "rsmailslot.sys under ntemu: %d table rows passed over %d users/kernel32s, %d stress rounds, %d allocation and %d DriverEntry failures injected, %d kernel breakages caught\n", rows, runs, stress, alloc, entry, caught }' "$emu_log"
# One closing line over every test binary (the last cargo lines are doc-test runs with none).
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, i; exit (p == 0 || f != 0) }' "$log"
