//! The first thing to know: the signed image loads, binds, creates its device and carries a
//! message, as a standard user and as an administrator.

use ntemu::kernel32::Variant;
use ntemu::se::Token;
use ntemu::system::Emulated;
use ntemu::{Config, Machine};
use usermode_test::system::Api;

mod common;

#[test]
fn boots_and_carries_a_message() {
    let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
    assert!(m.image.relocations_applied > 0, "the image was relocated");
    assert_eq!(m.start(), 0, "DriverEntry");
    let tokens = [Token::standard_user(1001), Token::elevated_administrator()];
    for (token, variant) in tokens
        .iter()
        .flat_map(|t| [Variant::ReactOs, Variant::Wine].map(|v| (t.clone(), v)))
    {
        let sys = Emulated::new(m, token, variant);
        let api = Api(&sys);
        let name = r"\\.\RsMailslot\smoke\one";
        let server = api
            .create_mailslot(Some(name), 0, 0)
            .expect("CreateMailslotW");
        let client = api.open(name, 0x4000_0000, 3, false).expect("CreateFileW");
        assert_eq!(api.write(client.raw(), b"hello"), Ok(5));
        assert_eq!(
            api.read(server.raw(), 64).map_err(|e| e.0),
            Ok(b"hello".to_vec())
        );
        drop(client);
        drop(server);
    }
    m.unload();
    m.shutdown();
}
