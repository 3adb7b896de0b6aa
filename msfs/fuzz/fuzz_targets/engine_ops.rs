//! Whole scenarios: the engine against the reference model, as in the property test, but
//! steered by coverage.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (budget, ops) = match data.split_first() {
        Some((b, rest)) => (u64::from(*b) * 8, rest),
        None => return,
    };
    if let Err(difference) = msfs_model::run_bytes(ops, budget) {
        panic!("{difference}");
    }
});
