//! DriverEntry's contract with the loader: the registry path the driver hands to
//! WdfVersionBind (and keeps for WdfVersionUnbind) is the whole one it was given, however long
//! the service's name, and the copy it keeps is freed at unload.

use ntemu::kernel32::Variant;
use ntemu::se::Token;
use ntemu::system::Emulated;
use ntemu::{Config, Machine};
use usermode_test::system::Api;

mod common;

#[test]
fn a_registry_path_longer_than_max_path_reaches_the_framework_whole() {
    let mut config = Config::new(common::image());
    config.registry_path = format!(
        r"\Registry\Machine\System\CurrentControlSet\Services\{}",
        "RsMailslot".repeat(30)
    );
    assert!(config.registry_path.len() > 300);
    let m = Machine::new(config).expect("loading rsmailslot.sys");
    // WdfVersionBind stops the machine if the path differs from DriverEntry's.
    assert_eq!(m.start(), 0, "DriverEntry");
    let sys = Emulated::new(m, Token::standard_user(1001), Variant::Wine);
    let api = Api(&sys);
    drop(
        api.create_mailslot(Some(r"\\.\RsMailslot\entry"), 0, 0)
            .expect("CreateMailslotW"),
    );
    drop(sys);
    m.quiesce();
    // Unload stops the machine if the copy of the path (or anything else) is left in pool.
    m.unload();
    m.shutdown();
}
