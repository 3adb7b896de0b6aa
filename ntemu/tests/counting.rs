//! The instruction counter behind BENCHMARKS.md's driver figures counts something real, and
//! the same thing every time: the same operation from the same state costs the same driver
//! instructions and copies the same bytes, and the count sees the driver's spin lock.

use ntemu::count::count;
use ntemu::cpu::Role;
use ntemu::kernel32::Variant;
use ntemu::se::Token;
use ntemu::system::Emulated;
use ntemu::{Config, Machine};
use usermode_test::system::Api;

mod common;

#[test]
fn counts_are_deterministic_and_see_the_driver() {
    let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    let sys = Emulated::new(m, Token::standard_user(1001), Variant::Wine);
    let api = Api(&sys);
    m.attach(Role::User);
    let name = r"\\.\RsMailslot\counting";
    let server = api
        .create_mailslot(Some(name), 0, 0)
        .expect("CreateMailslotW");
    let client = api.open(name, 0x4000_0000, 3, false).expect("CreateFileW");
    // A first write and read (uncounted) grow what the engine keeps; then the same operation
    // from the same state twice. Each counted operation single-steps the emulated kernel too
    // (some 10^5 instructions), so the test counts few.
    let msg = [1u8; 64];
    assert_eq!(api.write(client.raw(), &msg), Ok(64));
    assert_eq!(api.read(server.raw(), 64).map(|v| v.len()), Ok(64));
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (_, w) = count(|| assert_eq!(api.write(client.raw(), &msg), Ok(64)));
        let (_, r) = count(|| assert_eq!(api.read(server.raw(), 64).map(|v| v.len()), Ok(64)));
        assert!(w.driver > 50 && r.driver > 50, "{w:?} {r:?}");
        assert!(
            w.kernel > 0 && w.driver_locked > 0 && w.driver_locked < w.driver,
            "{w:?}"
        );
        assert_eq!((w.copied, r.copied), (64, 64), "{w:?} {r:?}");
        seen.push((w.driver, w.driver_locked, r.driver, r.driver_locked));
    }
    assert_eq!(seen[0], seen[1], "the same operation counted differently");
    // Outside `count` nothing is counted and nothing is stepped.
    let (_, idle) = count(|| ());
    assert_eq!((idle.driver, idle.copied), (0, 0));
    drop((client, server));
    drop(sys);
    m.quiesce();
    m.unload();
    m.shutdown();
}
