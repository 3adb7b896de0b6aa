//! Bad input from user mode against the real rsmailslot.sys: kernel-range, straddling,
//! unmapped and misaligned pointers, and every length boundary of the buffers the driver
//! reads or writes. Each is answered with one precise status, leaves the mailslot as it was,
//! and never stops the machine. The I/O manager's own checks (probes of status blocks and
//! buffered I/O buffers, minimum lengths) are the emulator's; the driver's are the caller
//! pointers it handles itself: the FSCTL_MAILSLOT_PEEK output buffer (METHOD_NEITHER) and the
//! ReadTimeout pointer inside FileMailslotSetInformation.

use ntemu::io::info::{nt_fs_control_file, nt_query_information_file, nt_set_information_file};
use ntemu::io::rw::{nt_read_file, nt_write_file, Caller};
use ntemu::kernel32::Variant;
use ntemu::mem::{POOL_BASE, USER_PROBE_ADDRESS};
use ntemu::process::UserMem;
use ntemu::se::Token;
use ntemu::system::Emulated;
use ntemu::{Config, Machine};
use usermode_test::system::{Api, Handle};

mod common;

const SUCCESS: i32 = 0;
const BUFFER_OVERFLOW: i32 = 0x8000_0005_u32 as i32;
const DATATYPE_MISALIGNMENT: i32 = 0x8000_0002_u32 as i32;
const ACCESS_VIOLATION: i32 = 0xC000_0005_u32 as i32;
const INFO_LENGTH_MISMATCH: i32 = 0xC000_0004_u32 as i32;
const BUFFER_TOO_SMALL: i32 = 0xC000_0023_u32 as i32;
const INVALID_PARAMETER: i32 = 0xC000_000D_u32 as i32;
const FSCTL_MAILSLOT_PEEK: u32 = 0x000C_4003;
const FILE_MAILSLOT_QUERY_INFORMATION: u32 = 26;
const FILE_MAILSLOT_SET_INFORMATION: u32 = 27;
const GENERIC_WRITE: u32 = 0x4000_0000;

/// An address in user space that nothing maps (a block mapped, then unmapped; user space is
/// never reused).
fn unmapped() -> usize {
    unmapped_from(UserMem::new)
}

/// The same, from the allocator `new` (a 32-bit process's memory below 4 GiB, say).
fn unmapped_from(new: fn(usize) -> UserMem) -> usize {
    let m = new(4096);
    let a = m.addr;
    drop(m);
    a
}

/// A kernel-range address: the emulated pool.
const KERNEL: usize = POOL_BASE + 0x10_0000;

struct Setup {
    m: &'static Machine,
    sys: Emulated,
}

impl Setup {
    fn new() -> Setup {
        Self::of_width(false)
    }

    /// A 32-bit process (WoW64) when `wow64`.
    fn of_width(wow64: bool) -> Setup {
        let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
        assert_eq!(m.start(), 0, "DriverEntry");
        let sys = Emulated::with_width(m, Token::standard_user(1001), Variant::Wine, wow64);
        Setup { m, sys }
    }

    fn api(&self) -> Api<'_> {
        Api(&self.sys)
    }

    fn caller(&self) -> Caller<'_> {
        self.sys.k32.caller()
    }

    /// A server (max message 100, timeout 0) holding "hello", and a client.
    fn slot(&self, name: &str) -> (Handle<'_>, Handle<'_>) {
        let api = self.api();
        let path = format!(r"\\.\RsMailslot\bad\{name}");
        let server = api
            .create_mailslot(Some(&path), 100, 0)
            .expect("CreateMailslotW");
        let client = api
            .open(&path, GENERIC_WRITE, 3, false)
            .expect("CreateFileW");
        assert_eq!(api.write(client.raw(), b"hello"), Ok(5));
        (server, client)
    }

    fn count(&self, server: &Handle<'_>) -> u32 {
        self.api()
            .info(server.raw())
            .expect("GetMailslotInfo")
            .count
    }

    fn finish(self) {
        drop(self.sys);
        self.m.unload();
        self.m.shutdown();
    }
}

fn read(c: Caller<'_>, h: u64, iosb: usize, buffer: usize, length: u32) -> i32 {
    nt_read_file(c, h, 0, iosb, buffer, length, 0, 0)
}

#[test]
fn reads_with_bad_pointers_and_every_length_consume_nothing() {
    let s = Setup::new();
    let (server, _client) = s.slot("read");
    let (h, c) = (server.raw(), s.caller());
    let iosb = UserMem::new(16);
    let buf = UserMem::new(64);
    for (what, iosb_at, buf_at, expected) in [
        (
            "a kernel-range status block",
            KERNEL,
            buf.addr,
            ACCESS_VIOLATION,
        ),
        (
            "a misaligned status block",
            iosb.addr + 1,
            buf.addr,
            DATATYPE_MISALIGNMENT,
        ),
        ("a kernel-range buffer", iosb.addr, KERNEL, ACCESS_VIOLATION),
        (
            "a buffer across MmUserProbeAddress",
            iosb.addr,
            USER_PROBE_ADDRESS - 8,
            ACCESS_VIOLATION,
        ),
    ] {
        assert_eq!(
            read(c, h, iosb_at, buf_at, 64),
            expected,
            "NtReadFile with {what}"
        );
        assert_eq!(
            s.count(&server),
            1,
            "NtReadFile with {what} consumed the message"
        );
    }
    // Every length below the message's: STATUS_BUFFER_TOO_SMALL, the message stays.
    for len in 0..5 {
        assert_eq!(
            read(c, h, iosb.addr, buf.addr, len),
            BUFFER_TOO_SMALL,
            "a {len}-byte read"
        );
        assert_eq!(
            s.count(&server),
            1,
            "a {len}-byte read consumed the message"
        );
    }
    assert_eq!(read(c, h, iosb.addr, buf.addr, 5), SUCCESS);
    assert_eq!((iosb.u64_at(8), buf.read(0, 5)), (5, b"hello".to_vec()));
    drop((server, _client));
    s.finish();
}

#[test]
fn writes_with_bad_pointers_and_every_length_queue_nothing_wrong() {
    let s = Setup::new();
    let (server, client) = s.slot("write");
    let (h, c) = (client.raw(), s.caller());
    let iosb = UserMem::new(16);
    let data = UserMem::with(&[0x5A; 128]);
    let write = |buffer: usize, len: u32| nt_write_file(c, h, 0, iosb.addr, buffer, len, 0, 0);
    for (what, at, expected) in [
        ("a kernel-range buffer", KERNEL, ACCESS_VIOLATION),
        (
            "a buffer across MmUserProbeAddress",
            USER_PROBE_ADDRESS - 8,
            ACCESS_VIOLATION,
        ),
        ("an unmapped buffer", unmapped(), ACCESS_VIOLATION),
    ] {
        assert_eq!(write(at, 16), expected, "NtWriteFile from {what}");
        assert_eq!(
            s.count(&server),
            1,
            "NtWriteFile from {what} queued a message"
        );
    }
    assert_eq!(
        nt_write_file(c, h, 0, KERNEL, data.addr, 16, 0, 0),
        ACCESS_VIOLATION,
        "NtWriteFile with a kernel-range status block"
    );
    // The maximum message size (100) is the boundary: 0, 99 and 100 bytes queue, 101 does not.
    for (len, expected) in [
        (0, SUCCESS),
        (99, SUCCESS),
        (100, SUCCESS),
        (101, INVALID_PARAMETER),
        (128, INVALID_PARAMETER),
    ] {
        let before = s.count(&server);
        assert_eq!(write(data.addr, len), expected, "a {len}-byte write");
        let queued = u32::from(expected == SUCCESS);
        assert_eq!(s.count(&server), before + queued, "a {len}-byte write");
    }
    drop((server, client));
    s.finish();
}

#[test]
fn peek_checks_its_caller_buffer_and_every_length() {
    let s = Setup::new();
    let (server, _client) = s.slot("peek");
    let (h, c) = (server.raw(), s.caller());
    let iosb = UserMem::new(16);
    let out = UserMem::new(64);
    let peek = |output: usize, len: u32| {
        iosb.write(0, &[0xEE; 16]);
        nt_fs_control_file(c, h, 0, iosb.addr, FSCTL_MAILSLOT_PEEK, 0, 0, output, len)
    };
    for (what, at) in [
        ("a kernel-range buffer", KERNEL),
        ("a buffer across MmUserProbeAddress", USER_PROBE_ADDRESS - 8),
        ("an unmapped buffer", unmapped()),
        ("a null buffer", 0),
    ] {
        assert_eq!(peek(at, 64), ACCESS_VIOLATION, "a peek into {what}");
    }
    // A misaligned buffer is the caller's business: the driver writes it byte by byte.
    assert_eq!(
        peek(out.addr + 1, 40),
        SUCCESS,
        "a peek into a misaligned buffer"
    );
    assert_eq!(out.read(1 + 12, 5), b"hello");
    // Below the 12-byte header: too small. Up to header + message: the header and as much of
    // the message as fits, with STATUS_BUFFER_OVERFLOW. Beyond: the whole message.
    for len in 0..=40u32 {
        out.write(0, &[0; 64]);
        let status = peek(out.addr, len);
        let (expected, information) = match len {
            0..=11 => (BUFFER_TOO_SMALL, None),
            12..=16 => (BUFFER_OVERFLOW, Some(u64::from(len))),
            _ => (SUCCESS, Some(17)),
        };
        assert_eq!(status, expected, "a peek into {len} bytes");
        if let Some(info) = information {
            assert_eq!(
                iosb.u64_at(8),
                info,
                "Information of a peek into {len} bytes"
            );
            let header = out.read(0, 12);
            assert_eq!(
                &header[8..12],
                &5u32.to_le_bytes(),
                "MessageLength, {len} bytes"
            );
            let shown = (len as usize - 12).min(5);
            assert_eq!(out.read(12, shown), &b"hello"[..shown]);
        }
    }
    assert_eq!(s.count(&server), 1, "a peek consumed the message");
    drop((server, _client));
    s.finish();
}

#[test]
fn mailslot_information_lengths_and_pointers() {
    let s = Setup::new();
    let (server, _client) = s.slot("info");
    let (h, c) = (server.raw(), s.caller());
    let iosb = UserMem::new(16);
    let buf = UserMem::new(64);
    let query = |at: usize, len: u32| {
        nt_query_information_file(c, h, iosb.addr, at, len, FILE_MAILSLOT_QUERY_INFORMATION)
    };
    for len in 0..24 {
        assert_eq!(
            query(buf.addr, len),
            INFO_LENGTH_MISMATCH,
            "a {len}-byte query"
        );
    }
    assert_eq!(query(buf.addr, 24), SUCCESS);
    assert_eq!(query(buf.addr, 64), SUCCESS);
    assert_eq!(query(KERNEL, 24), ACCESS_VIOLATION);
    assert_eq!(query(buf.addr + 2, 24), DATATYPE_MISALIGNMENT);
    // FileMailslotSetInformation carries a pointer to the caller's LARGE_INTEGER, which the
    // driver reads itself.
    let timeout = UserMem::with(&(-10_000i64 * 30).to_le_bytes());
    let block = UserMem::new(16);
    let set = |pointer: usize, len: u32| {
        block.write(0, &(pointer as u64).to_le_bytes());
        nt_set_information_file(
            c,
            h,
            iosb.addr,
            block.addr,
            len,
            FILE_MAILSLOT_SET_INFORMATION,
        )
    };
    let stored = || s.api().info(h).expect("GetMailslotInfo").timeout;
    for len in 0..8 {
        assert_eq!(
            set(timeout.addr, len),
            INFO_LENGTH_MISMATCH,
            "a {len}-byte set"
        );
    }
    // A null pointer is a malformed request (msfs::wire::SetInformation); the others point
    // where the caller may not or cannot read.
    for (what, pointer, expected) in [
        ("null", 0, INVALID_PARAMETER),
        ("kernel-range", KERNEL, ACCESS_VIOLATION),
        (
            "across MmUserProbeAddress",
            USER_PROBE_ADDRESS - 4,
            ACCESS_VIOLATION,
        ),
        ("unmapped", unmapped(), ACCESS_VIOLATION),
    ] {
        assert_eq!(set(pointer, 8), expected, "a {what} ReadTimeout pointer");
        assert_eq!(
            stored(),
            0,
            "a {what} ReadTimeout pointer changed the timeout"
        );
    }
    let odd = UserMem::new(16);
    odd.write(3, &(-10_000i64 * 45).to_le_bytes());
    assert_eq!(set(odd.addr + 3, 8), SUCCESS, "a misaligned ReadTimeout");
    assert_eq!(stored(), 45);
    assert_eq!(set(timeout.addr, 16), SUCCESS, "a longer input buffer");
    assert_eq!(stored(), 30);
    drop((server, _client));
    s.finish();
}

/// A 32-bit process's FILE_MAILSLOT_SET_INFORMATION is a 4-byte pointer: the driver reads
/// those 4 bytes (IoIs32bitProcess), never 8, and checks what they point to as it does a
/// 64-bit caller's pointer.
#[test]
fn a_32_bit_process_sets_the_timeout_through_a_4_byte_pointer() {
    let s = Setup::of_width(true);
    let (server, _client) = s.slot("info32");
    let (h, c) = (server.raw(), s.caller());
    let iosb = UserMem::new(16);
    let timeout = UserMem::below_4g(8);
    timeout.write(0, &(-10_000i64 * 30).to_le_bytes());
    let low_unmapped = unmapped_from(UserMem::below_4g);
    // The upper half of an 8-byte block: bytes a 32-bit caller's structure does not hold.
    let block = UserMem::new(16);
    let set = |pointer: usize, len: u32| {
        let pointer = u32::try_from(pointer).expect("below 4 GiB");
        block.write(0, &pointer.to_le_bytes());
        block.write(4, &0xFFFF_FFFFu32.to_le_bytes());
        nt_set_information_file(
            c,
            h,
            iosb.addr,
            block.addr,
            len,
            FILE_MAILSLOT_SET_INFORMATION,
        )
    };
    let stored = || s.api().info(h).expect("GetMailslotInfo").timeout;
    for len in 0..4 {
        assert_eq!(
            set(timeout.addr, len),
            INFO_LENGTH_MISMATCH,
            "a {len}-byte set"
        );
    }
    for (what, pointer, expected) in [
        ("null", 0, INVALID_PARAMETER),
        ("unmapped", low_unmapped, ACCESS_VIOLATION),
    ] {
        assert_eq!(set(pointer, 4), expected, "a {what} ReadTimeout pointer");
        assert_eq!(stored(), 0, "a {what} pointer changed the timeout");
    }
    assert_eq!(set(timeout.addr, 4), SUCCESS, "a 4-byte structure");
    assert_eq!(stored(), 30);
    timeout.write(0, &(-10_000i64 * 45).to_le_bytes());
    assert_eq!(
        set(timeout.addr, 8),
        SUCCESS,
        "8 bytes, the upper 4 not a pointer's"
    );
    assert_eq!(stored(), 45);
    drop((server, _client));
    s.finish();
}
