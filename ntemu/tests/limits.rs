//! Bounded resources against the real rsmailslot.sys: a slot holds at most
//! `msfs::MAX_PENDING_READS` waiting reads; the next ReadFile fails at once with
//! ERROR_NO_SYSTEM_RESOURCES and pins nothing, while other slots and users go on, and closing
//! the server gives every byte back.

use ntemu::kernel32::Variant;
use ntemu::se::Token;
use ntemu::system::Emulated;
use ntemu::{Config, Machine};
use usermode_test::system::Api;

mod common;

const ERROR_IO_PENDING: u32 = 997;
const ERROR_NO_SYSTEM_RESOURCES: u32 = 1450;
const ERROR_OPERATION_ABORTED: u32 = 995;
const MAILSLOT_WAIT_FOREVER: u32 = u32::MAX;

#[test]
fn waiting_reads_per_slot_are_bounded() {
    let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    let reader = Emulated::new(m, Token::standard_user(1001), Variant::ReactOs);
    let other = Emulated::new(m, Token::standard_user(1002), Variant::ReactOs);
    let (api, other_api) = (Api(&reader), Api(&other));
    // The engine keeps its tables' room once grown: two slots made and closed first, so the
    // baseline holds that room and the end can be compared with it.
    for warm in ["a", "b"].map(|n| format!(r"\\.\RsMailslot\limits\warm-{n}")) {
        let s = api
            .create_mailslot(Some(&warm), 0, 0)
            .expect("CreateMailslotW");
        drop(s);
    }
    m.quiesce();
    let baseline = m.pool.usage();
    let name = r"\\.\RsMailslot\limits\busy";
    let server = api
        .create_mailslot(Some(name), 0, MAILSLOT_WAIT_FOREVER)
        .expect("CreateMailslotW");
    let mut waiting = Vec::new();
    for i in 0..msfs::MAX_PENDING_READS {
        let r = api.read_overlapped(server.raw(), 64);
        assert_eq!(r.started(), Err(ERROR_IO_PENDING), "read {i}");
        waiting.push(r);
    }
    let held = m.pool.usage();
    // The one past the bound fails at once and holds nothing.
    let refused = api.read_overlapped(server.raw(), 64);
    assert_eq!(refused.started(), Err(ERROR_NO_SYSTEM_RESOURCES));
    assert!(!refused.is_pending());
    drop(refused);
    assert_eq!(m.pool.usage().driver_bytes, held.driver_bytes);

    // Another user's slot is untouched by it.
    let mine = r"\\.\RsMailslot\limits\other";
    let other_server = other_api
        .create_mailslot(Some(mine), 0, 0)
        .expect("the other user's CreateMailslotW");
    let other_client = other_api
        .open(mine, 0x4000_0000, 3, false)
        .expect("the other user's CreateFileW");
    assert_eq!(other_api.write(other_client.raw(), b"still here"), Ok(10));
    assert_eq!(
        other_api.read(other_server.raw(), 64).map_err(|e| e.0),
        Ok(b"still here".to_vec())
    );

    // A write still reaches the oldest waiting read; then there is room for one more.
    let client = api.open(name, 0x4000_0000, 3, false).expect("CreateFileW");
    assert_eq!(api.write(client.raw(), b"first"), Ok(5));
    assert_eq!(waiting[0].wait(5000), Some(Ok(b"first".to_vec())));
    let again = api.read_overlapped(server.raw(), 64);
    assert_eq!(again.started(), Err(ERROR_IO_PENDING));
    waiting.push(again);

    // Closing the server ends every waiting read and returns the driver's pool.
    drop(client);
    drop(server);
    for (i, r) in waiting.iter_mut().enumerate().skip(1) {
        assert_eq!(r.wait(5000), Some(Err(ERROR_OPERATION_ABORTED)), "read {i}");
    }
    drop(waiting);
    drop((other_client, other_server));
    m.quiesce();
    assert_eq!(m.pool.usage().driver_bytes, baseline.driver_bytes);
    drop((reader, other));
    m.unload();
    m.shutdown();
}
