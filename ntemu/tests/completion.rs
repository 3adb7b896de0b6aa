//! How the driver completes reads: one that waited gets the mailslot priority boost
//! (IO_MAILSLOT_INCREMENT, 2), as MSFS gives its readers; one answered at once gets none.

use ntemu::kernel32::Variant;
use ntemu::se::Token;
use ntemu::system::Emulated;
use ntemu::{Config, Machine};
use usermode_test::system::Api;

mod common;

const IRP_MJ_READ: u8 = 3;

#[test]
fn a_read_that_waited_is_completed_with_the_mailslot_boost() {
    let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    let sys = Emulated::new(m, Token::standard_user(1001), Variant::ReactOs);
    let api = Api(&sys);
    let name = r"\\.\RsMailslot\boost";
    let server = api
        .create_mailslot(Some(name), 0, u32::MAX)
        .expect("CreateMailslotW");
    let client = api.open(name, 0x4000_0000, 3, false).expect("CreateFileW");
    let mut waiting = api.read_overlapped(server.raw(), 16);
    assert_eq!(waiting.started(), Err(997));
    assert_eq!(api.write(client.raw(), b"late"), Ok(4));
    assert_eq!(waiting.wait(5000), Some(Ok(b"late".to_vec())));
    assert_eq!(api.write(client.raw(), b"now"), Ok(3));
    assert_eq!(
        api.read(server.raw(), 16).map_err(|e| e.0),
        Ok(b"now".to_vec())
    );
    let irps = &m.io.irps;
    assert_eq!(
        irps.completions_with_boost(IRP_MJ_READ, true, 2),
        1,
        "the read that waited"
    );
    assert_eq!(
        irps.completions_with_boost(IRP_MJ_READ, false, 0),
        1,
        "the read answered at once"
    );
    drop((waiting, client, server));
    drop(sys);
    m.quiesce();
    m.unload();
    m.shutdown();
}
