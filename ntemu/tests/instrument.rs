//! The instrument proves itself: each switch breaks one kernel behaviour, a child process runs
//! an ordinary workload against the real driver under it, and the emulator must stop the
//! child with the bugcheck that behaviour leads to, naming a driver function. A check that
//! cannot see its own kernel break would pass a broken driver just as quietly.

use std::process::{Command, Output};
use std::sync::atomic::Ordering;

use ntemu::kernel32::Variant;
use ntemu::se::Token;
use ntemu::system::Emulated;
use ntemu::{Config, Machine};
use usermode_test::system::Api;

mod common;

const SWITCH: &str = "NTEMU_BREAK";
const GENERIC_WRITE: u32 = 0x4000_0000;

/// Each switch, and the stop codes its breakage may surface as (the first check to see it).
const SWITCHES: &[(&str, &[&str])] = &[
    // The context is freed by the first call: the second touches freed special pool, or
    // completes the IRP again.
    ("cancel_routine_twice", &["0x000000D5", "0x00000044"]),
    // KeCancelTimer claims the timer but leaves it set: the context holding it is freed.
    (
        "timer_left_queued",
        &["0x000000C4 DRIVER_VERIFIER_DETECTED_VIOLATION (0x15"],
    ),
    // Frees are dropped: unload finds the driver's allocations still live.
    (
        "drop_frees",
        &["0x000000C4 DRIVER_VERIFIER_DETECTED_VIOLATION (0x62"],
    ),
    // Dispatch at DISPATCH_LEVEL: the first PASSIVE_LEVEL-only call or paged touch stops it.
    ("dispatch_at_dispatch_level", &["0x0000000A", "0x000000D1"]),
    // System buffers in paged pool: the driver answers GetMailslotInfo into the request's
    // system buffer under its spin lock.
    ("paged_system_buffers", &["0x000000D1"]),
];

fn apply(m: &Machine, switch: &str) {
    let flag = match switch {
        "cancel_routine_twice" => &m.faults.cancel_routine_twice,
        "timer_left_queued" => &m.ke.broken.timer_left_queued,
        "drop_frees" => &m.pool.drop_frees,
        "dispatch_at_dispatch_level" => &m.faults.dispatch_at_dispatch_level,
        "paged_system_buffers" => &m.faults.paged_system_buffers,
        "none" => return,
        other => panic!("no switch {other}"),
    };
    flag.store(true, Ordering::SeqCst);
}

/// What the child runs: a plain workload that meets every switched behaviour (a write and a
/// read, a query, a timed read completed by a write, a cancelled read), then unload.
#[test]
#[ignore = "run by each_broken_behaviour_is_caught in a child process"]
fn child_workload() {
    let switch = std::env::var(SWITCH).expect("run by each_broken_behaviour_is_caught");
    let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
    apply(m, &switch);
    assert_eq!(m.start(), 0, "DriverEntry");
    let sys = Emulated::new(m, Token::standard_user(1001), Variant::ReactOs);
    let api = Api(&sys);
    let name = r"\\.\RsMailslot\instrument";
    let server = api
        .create_mailslot(Some(name), 0, 5000)
        .expect("CreateMailslotW");
    let client = api
        .open(name, GENERIC_WRITE, 3, false)
        .expect("CreateFileW");
    assert_eq!(api.write(client.raw(), b"one"), Ok(3));
    assert_eq!(
        api.read(server.raw(), 64).map_err(|e| e.0),
        Ok(b"one".to_vec())
    );
    assert_eq!(api.info(server.raw()).map(|i| i.count), Ok(0));
    let mut timed = api.read_overlapped(server.raw(), 64);
    assert_eq!(timed.started(), Err(997));
    assert_eq!(api.write(client.raw(), b"two"), Ok(3));
    assert_eq!(timed.wait(5000), Some(Ok(b"two".to_vec())));
    let mut cancelled = api.read_overlapped(server.raw(), 64);
    assert_eq!(cancelled.cancel(), Ok(()));
    assert_eq!(cancelled.wait(5000), Some(Err(995)));
    drop((timed, cancelled, client, server));
    drop(sys);
    m.quiesce();
    m.unload();
    m.shutdown();
    println!("child: no stop under {switch}");
}

/// Runs `child_workload` in a child process with `switch` thrown.
fn child(switch: &str) -> Output {
    let exe = std::env::current_exe().expect("the test binary");
    Command::new(exe)
        .args([
            "child_workload",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SWITCH, switch)
        .output()
        .expect("running the child")
}

#[test]
fn each_broken_behaviour_is_caught() {
    for &(switch, codes) in SWITCHES {
        let out = child(switch);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stop = stderr.lines().find(|l| l.starts_with("*** STOP "));
        let Some(stop) = stop else {
            panic!(
                "{switch}: the emulator did not stop the driver (exit {:?})\n{}\n{stderr}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout)
            );
        };
        assert_eq!(
            out.status.code(),
            Some(ntemu::bugcheck::EXIT_STATUS),
            "{switch}: {stop}"
        );
        assert!(
            codes
                .iter()
                .any(|c| stop.starts_with(&format!("*** STOP {c}"))),
            "{switch}: stopped with {stop}, expected one of {codes:?}\n{stderr}"
        );
        assert!(
            stderr.contains("rsmailslot.sys!"),
            "{switch}: the report names no driver function\n{stderr}"
        );
        println!("instrument: {switch} caught: {stop}");
    }
}

/// Without a switch the same workload runs clean: the stops above are the switches' doing.
#[test]
fn the_workload_runs_clean_unbroken() {
    let out = child("none");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("child: no stop under none"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
