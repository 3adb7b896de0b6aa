//! A kernel-mode caller's buffers are its own, and may be paged: the driver must copy what it
//! needs from them before it takes its spin lock. Force IRQL checking makes the paged pages
//! unreachable while the driver is at DISPATCH_LEVEL, so a touch under the lock stops the run.

use ntemu::io::info::nt_query_directory_file;
use ntemu::io::rw::Caller;
use ntemu::io::Mode;
use ntemu::kernel32::Variant;
use ntemu::mem;
use ntemu::pool::Owner;
use ntemu::se::Token;
use ntemu::system::Emulated;
use ntemu::{Config, Machine};
use usermode_test::system::{Api, NtName, FILE_OPEN};

mod common;

#[test]
fn a_kernel_callers_paged_directory_pattern_is_copied_before_the_lock() {
    let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    let sys = Emulated::new(m, Token::elevated_administrator(), Variant::Wine);
    let api = Api(&sys);
    let _server = api
        .create_mailslot(Some(r"\\.\RsMailslot\kernel\listed"), 0, 0)
        .expect("CreateMailslotW");
    // FILE_LIST_DIRECTORY | SYNCHRONIZE, all sharing, FILE_SYNCHRONOUS_IO_NONALERT.
    let root = api
        .nt_open(
            &NtName::path(r"\Device\RsMailslot\"),
            0x0010_0001,
            7,
            FILE_OPEN,
            0x20,
        )
        .handle
        .expect("opening the root");
    // The pattern, a UNICODE_STRING and its text, in paged pool as a driver above ours would
    // pass it; the output and status block in non-paged pool.
    let text: Vec<u8> = "*LISTED"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let paged = m
        .pool
        .allocate(
            16 + text.len(),
            u32::from_le_bytes(*b"Test"),
            Owner::System,
            true,
            0,
            true,
        )
        .expect("paged pool");
    let mut head = [0u8; 16];
    head[..2].copy_from_slice(&(text.len() as u16).to_le_bytes());
    head[2..4].copy_from_slice(&(text.len() as u16).to_le_bytes());
    head[8..].copy_from_slice(&((paged + 16) as u64).to_le_bytes());
    assert!(mem::copy_out(paged, &head) && mem::copy_out(paged + 16, &text));
    let block = |len| {
        m.pool
            .allocate(
                len,
                u32::from_le_bytes(*b"Test"),
                Owner::System,
                false,
                0,
                true,
            )
            .expect("pool")
    };
    let (out, iosb) = (block(4096), block(16));
    let kernel = Caller {
        process: sys.process(),
        mode: Mode::Kernel,
    };
    // FileDirectoryInformation, restart scan, the pattern.
    let status = nt_query_directory_file(
        kernel,
        root.raw(),
        0,
        iosb,
        out,
        4096,
        1,
        false,
        paged,
        true,
    );
    assert_eq!(status, 0, "NtQueryDirectoryFile from kernel mode");
    let mut name = vec![0u8; 2 * "kernel\\listed".len()];
    // FILE_DIRECTORY_INFORMATION: FileNameLength at 0x3C, FileName at 0x40.
    assert!(mem::copy_in(out + 0x40, &mut name));
    let name: Vec<u16> = name
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    assert!(String::from_utf16_lossy(&name).eq_ignore_ascii_case("kernel\\listed"));
    drop(root);
    drop(_server);
    drop(sys);
    m.quiesce();
    m.unload();
    m.shutdown();
}
