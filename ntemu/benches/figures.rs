//! Figures from the real rsmailslot.sys under the emulated kernel, for BENCHMARKS.md:
//! instructions of the driver's own code per operation (counted by single-stepping, so the
//! same on every run and every machine), and what the driver does while it holds its spin
//! lock, by message size. `cargo bench -p ntemu --bench figures` prints the tables;
//! `RSMAILSLOT_SYS` names another image.

use std::path::PathBuf;
use std::time::Duration;

use ntemu::count::{count, Counts};
use ntemu::cpu::Role;
use ntemu::kernel32::Variant;
use ntemu::se::Token;
use ntemu::system::Emulated;
use ntemu::{Config, Machine};
use usermode_test::system::Api;

const GENERIC_WRITE: u32 = 0x4000_0000;

fn image() -> PathBuf {
    std::env::var_os("RSMAILSLOT_SYS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/package/rsmailslot.sys")
        })
}

fn row(what: &str, c: Counts) {
    println!(
        "| {what} | {} | {} | {} | {} |",
        c.driver, c.driver_locked, c.copied, c.copied_locked
    );
}

fn main() {
    let m = Machine::new(Config::new(image())).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    let sys = Emulated::new(m, Token::standard_user(1001), Variant::ReactOs);
    let api = Api(&sys);
    m.attach(Role::User);
    let name = r"\\.\RsMailslot\figures";
    // Warm the engine's tables so every figure is a steady-state one.
    drop(
        api.create_mailslot(Some(name), 0, 0)
            .expect("CreateMailslotW"),
    );

    println!("Driver instructions per operation (rsmailslot.sys under ntemu, single-stepped)\n");
    println!("| operation | driver instructions | of them under the spin lock | bytes copied for the driver | of them under the lock |");
    println!("|---|---|---|---|---|");
    // MAILSLOT_WAIT_FOREVER, so a read of the empty slot pends.
    let (server, c) = count(|| {
        api.create_mailslot(Some(name), 0, u32::MAX)
            .expect("CreateMailslotW")
    });
    row("CreateMailslotW (server create)", c);
    let (client, c) = count(|| {
        api.open(name, GENERIC_WRITE, 3, false)
            .expect("CreateFileW")
    });
    row("CreateFileW (client open)", c);
    for size in [64usize, 65536] {
        let msg = vec![0x42u8; size];
        let (_, c) = count(|| assert_eq!(api.write(client.raw(), &msg), Ok(size as u32)));
        row(&format!("WriteFile, {size} B"), c);
        let (_, c) = count(|| assert_eq!(api.read(server.raw(), size).map(|m| m.len()), Ok(size)));
        row(&format!("ReadFile, {size} B"), c);
    }
    let (mut pending, c) = count(|| {
        let r = api.read_overlapped(server.raw(), 64);
        assert_eq!(r.started(), Err(997));
        r
    });
    row("ReadFile that pends (64 B buffer)", c);
    let (_, c) = count(|| assert_eq!(api.write(client.raw(), &[7; 64]), Ok(64)));
    row("WriteFile completing that pending read", c);
    assert_eq!(pending.wait(5000).map(|r| r.map(|m| m.len())), Some(Ok(64)));
    drop(pending);
    let (_, c) = count(|| drop(client));
    row("CloseHandle (client)", c);
    let (_, c) = count(|| drop(server));
    row("CloseHandle (server: cleanup and close)", c);

    println!("\nThe engine lock by message size: one write and one read each\n");
    println!("| message | write: driver instructions under the lock | write: bytes copied under it | read: instructions under it | read: bytes copied under it | longest hold seen (wall clock, 200 writes and reads) |");
    println!("|---|---|---|---|---|---|");
    let server = api
        .create_mailslot(Some(name), 0, 0)
        .expect("CreateMailslotW");
    let client = api
        .open(name, GENERIC_WRITE, 3, false)
        .expect("CreateFileW");
    for size in [0usize, 64, 424, 4096, 65536] {
        let msg = vec![0x42u8; size];
        let (_, w) = count(|| api.write(client.raw(), &msg));
        let (_, r) = count(|| api.read(server.raw(), size.max(1)));
        ntemu::io::locktime::take();
        for _ in 0..200 {
            let _ = api.write(client.raw(), &msg);
            let _ = api.read(server.raw(), size.max(1));
        }
        let longest = ntemu::io::locktime::take()
            .values()
            .map(|h| h.longest)
            .max()
            .unwrap_or(Duration::ZERO);
        println!(
            "| {size} B | {} | {} | {} | {} | {:.1} µs |",
            w.driver_locked,
            w.copied_locked,
            r.driver_locked,
            r.copied_locked,
            longest.as_secs_f64() * 1e6
        );
    }
    drop((client, server));
    drop(sys);
    m.quiesce();
    m.unload();
    m.shutdown();
}
