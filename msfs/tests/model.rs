//! Model-based property test: long random sequences of create, open, write, read, expire,
//! cancel, query, set, peek, list, cleanup and close, applied to the engine and to the small
//! reference model in `msfs-model`; every result, every completion of a pending read and the
//! engine's invariants are compared after each step.

use proptest::prelude::*;

fn config() -> ProptestConfig {
    // PROPTEST_CASES raises the count for a long soak; the default keeps `cargo test` quick.
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Small budget, so the driver-wide limit is hit often.
    #[test]
    fn engine_matches_model_with_tight_budget(bytes in proptest::collection::vec(any::<u8>(), 0..6000)) {
        let ops = msfs_model::run_bytes(&bytes, 120).map_err(TestCaseError::fail)?;
        prop_assert!(bytes.len() < 16 || ops > 0);
    }

    /// Ample budget, so quotas, sizes and pending reads decide.
    #[test]
    fn engine_matches_model_with_ample_budget(bytes in proptest::collection::vec(any::<u8>(), 0..6000)) {
        msfs_model::run_bytes(&bytes, 1 << 20).map_err(TestCaseError::fail)?;
    }
}

/// A fixed scenario through the runner, so a broken runner cannot pass silently.
#[test]
fn runner_detects_a_scenario_and_applies_every_op() {
    use msfs_model::{Op, Runner, Timeout};
    let mut r = Runner::new(1 << 20);
    let ops = [
        Op::Create {
            name: 0,
            max: 0,
            quota: 0,
            timeout: Timeout::Forever,
            write_access: false,
        },
        Op::Open {
            name: 1,
            read: false,
            write: true,
        },
        Op::Read {
            handle: 0,
            capacity: 6,
        },
        Op::Read {
            handle: 0,
            capacity: 1,
        },
        Op::Write { handle: 1, len: 5 },
        Op::Query { handle: 1 },
        Op::List {
            pattern: 2,
            class: 0,
            small_buffer: true,
            single: true,
        },
        Op::Cancel { read: 0 },
        Op::Expire { read: 1 },
        Op::Cleanup { handle: 0 },
        Op::Write { handle: 1, len: 1 },
        Op::Close { handle: 0 },
        Op::Close { handle: 0 },
    ];
    for op in ops {
        r.apply(op).unwrap();
    }
    assert_eq!(r.ops_applied, ops.len());
}

/// Random scenarios of the size the property test draws reach every corner the model
/// distinguishes; if the operation mix changes so that one is never reached, this fails.
#[test]
fn random_scenarios_reach_every_interesting_event() {
    use proptest::test_runner::{RngAlgorithm, TestRng};
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[42; 32]);
    let mut total = msfs_model::Stats::default();
    for budget in [120, 1 << 20] {
        for _ in 0..64 {
            let mut bytes = vec![0u8; 6000];
            rng.fill_bytes(&mut bytes);
            let (_, stats) = msfs_model::run_bytes_with_stats(&bytes, budget).unwrap();
            total.add(&stats);
        }
    }
    eprintln!("{total:?}");
    assert_eq!(total.missing(), Vec::<&str>::new(), "{total:?}");
    assert!(
        total.delivered >= 100 && total.budget_exceeded >= 10,
        "{total:?}"
    );
}
