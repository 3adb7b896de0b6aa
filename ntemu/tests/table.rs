//! The conformance table against the real rsmailslot.sys: every row, once as a standard user
//! and once as an elevated administrator, under each kernel32 the public sources describe
//! (ReactOS's CreateMailslotW asks for WRITE_DAC, Wine's does not), and with the device owned
//! by SYSTEM and by Administrators, and once from a 32-bit process (WoW64), whose
//! FILE_MAILSLOT_SET_INFORMATION holds a 4-byte pointer. There is no list of known divergences for our own driver:
//! every row passes or the test fails.

use ntemu::kernel32::Variant;
use ntemu::se::{Sid, Token};
use ntemu::system::Emulated;
use ntemu::{Config, Machine};
use usermode_test::cli::Options;
use usermode_test::report::{Status, Summary};

mod common;

fn run_table(label: &str, owner: Sid, token: Token, variant: Variant) {
    run_table_as(label, owner, token, variant, false);
}

fn run_table_as(label: &str, owner: Sid, token: Token, variant: Variant, wow64: bool) {
    let mut config = Config::new(common::image());
    config.device_owner = owner;
    let m = Machine::new(config).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    let sys = Emulated::with_width(m, token, variant, wow64);
    let args = ["--namespace", "rsmailslot", "--known", "none"].map(String::from);
    let opts = Options::parse(args).expect("options");
    let (_, results) = usermode_test::run::execute(&opts, &sys).expect("the table ran");
    let summary = Summary::of(&results);
    println!("table [{label}]: {}", summary.closing_line());
    let bad: Vec<String> = results
        .iter()
        .filter(|r| r.status != Status::Pass)
        .map(|r| format!("{:?} {}: {}", r.status, r.info.id, r.notes.join("; ")))
        .collect();
    assert!(
        bad.is_empty(),
        "[{label}] rows that did not pass:\n{}",
        bad.join("\n")
    );
    assert!(summary.passed > 0);
    drop(sys);
    m.unload();
    m.shutdown();
}

#[test]
fn standard_user_reactos_kernel32() {
    run_table(
        "standard user, ReactOS kernel32",
        Sid::local_system(),
        Token::standard_user(1001),
        Variant::ReactOs,
    );
}

#[test]
fn standard_user_wine_kernel32() {
    run_table(
        "standard user, Wine kernel32",
        Sid::local_system(),
        Token::standard_user(1001),
        Variant::Wine,
    );
}

#[test]
fn administrator_reactos_kernel32() {
    run_table(
        "administrator, ReactOS kernel32",
        Sid::local_system(),
        Token::elevated_administrator(),
        Variant::ReactOs,
    );
}

#[test]
fn administrator_wine_kernel32_device_owned_by_administrators() {
    run_table(
        "administrator, Wine kernel32, device owned by Administrators",
        Sid::administrators(),
        Token::elevated_administrator(),
        Variant::Wine,
    );
}

#[test]
fn standard_user_32_bit_process() {
    run_table_as(
        "standard user, 32-bit process, ReactOS kernel32",
        Sid::local_system(),
        Token::standard_user(1001),
        Variant::ReactOs,
        true,
    );
}
