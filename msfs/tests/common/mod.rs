//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use msfs::{
    Access, Completion, Config, CreateParameters, Handle, Msfs, NtStatus, ReadId, ReadOutcome,
};

pub const BUDGET: u64 = 1 << 20;

pub fn engine() -> Msfs {
    engine_with_budget(BUDGET)
}

/// The hash keys of [`engine`]'s name table.
pub fn engine_keys() -> [u64; 2] {
    [0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210]
}

pub fn engine_with_budget(budget_bytes: u64) -> Msfs {
    Msfs::new(Config {
        budget_bytes,
        hash_keys: engine_keys(),
        owner_limit_bytes: u64::MAX,
    })
}

/// UTF-16LE bytes of a name.
pub fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

pub fn params(max: u32, quota: u32, timeout: Option<i64>) -> CreateParameters {
    CreateParameters {
        mailslot_quota: quota,
        maximum_message_size: max,
        read_timeout: timeout,
    }
}

/// `CreateMailslot(name, max, timeout)`: read access, as kernel32 asks for.
pub fn server(e: &mut Msfs, name: &str, max: u32, timeout: Option<i64>) -> Handle {
    e.create_server(&utf16(name), &params(max, 0, timeout), Access::READ, 0)
        .expect("create_server")
}

pub fn client(e: &mut Msfs, name: &str) -> Handle {
    e.open(&utf16(name), Access::WRITE).expect("open")
}

/// A completion recorded by a write or cleanup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Done {
    Data(Vec<u8>),
    Failed(NtStatus),
}

pub type Log = Vec<(ReadId, Done)>;

pub fn recorder(log: &mut Log) -> impl FnMut(ReadId, Completion<'_>) + '_ {
    move |id, c| {
        log.push((
            id,
            match c {
                Completion::Delivered(d) => Done::Data(d.to_vec()),
                Completion::Failed(s) => Done::Failed(s),
            },
        ))
    }
}

pub fn write(e: &mut Msfs, h: &Handle, data: &[u8]) -> Result<usize, NtStatus> {
    let mut log = Log::new();
    let r = e.write(h, data, recorder(&mut log));
    assert!(log.is_empty(), "unexpected completions {log:?}");
    r
}

pub fn write_log(e: &mut Msfs, h: &Handle, data: &[u8]) -> (Result<usize, NtStatus>, Log) {
    let mut log = Log::new();
    let r = e.write(h, data, recorder(&mut log));
    (r, log)
}

/// A read expected to complete at once with a message.
pub fn read(e: &mut Msfs, h: &Handle, capacity: usize) -> Result<Vec<u8>, NtStatus> {
    match e.read(h, capacity)? {
        ReadOutcome::Message(m) => Ok(m.as_bytes().to_vec()),
        ReadOutcome::Pending { id, wait } => panic!("read pended: {id:?} {wait:?}"),
    }
}

pub fn pend(e: &mut Msfs, h: &Handle, capacity: usize) -> ReadId {
    match e.read(h, capacity) {
        Ok(ReadOutcome::Pending { id, .. }) => id,
        other => panic!("expected a pending read, got {other:?}"),
    }
}

pub fn cleanup(e: &mut Msfs, h: &Handle) -> Log {
    let mut log = Log::new();
    e.cleanup(h, recorder(&mut log));
    log
}

pub fn close(e: &mut Msfs, h: Handle) -> Log {
    let mut log = Log::new();
    e.close(h, recorder(&mut log));
    log
}
