#!/usr/bin/env bash
# Builds the cargo-fuzz targets of the engine and runs each for a bounded time.
#
#   tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Default: every target for 10 seconds, the smoke run of the test command. Give more seconds
# for a real campaign (the corpus is kept in msfs/fuzz/corpus/<target> between runs). The
# stable toolchain builds the sanitizer flags cargo-fuzz needs when RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(names patterns info_buffers directory engine_ops msmail_packets)
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked --quiet
fi
export RUSTC_BOOTSTRAP=1
cd msfs/fuzz
echo "== building fuzz targets"
cargo fuzz build -O
for t in "${targets[@]}"; do
    echo "== fuzzing $t for ${seconds}s"
    mkdir -p "corpus/$t"
    # -timeout bounds one input; a crash, leak or timeout exits non-zero and stops the script.
    # Committed seeds (msfs/fuzz/seeds/<target>), when a target has them, start its search
    # from real packets; new finds go to the first directory, the corpus.
    seeds=()
    if [ -d "seeds/$t" ]; then seeds=("seeds/$t"); fi
    cargo fuzz run -O "$t" "corpus/$t" "${seeds[@]}" -- -max_total_time="$seconds" -timeout=10 -print_final_stats=0 2>&1 \
        | grep -E "^Done|ERROR|panicked|SUMMARY|Test unit written" || true
    test "${PIPESTATUS[0]}" -eq 0
done
