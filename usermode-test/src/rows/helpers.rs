//! Constants and the helpers rows are written with: they read like the steps of a row.

pub(super) use std::time::{Duration, Instant};

pub(super) use msfs::NtStatus;

pub(super) use crate::bytes;
pub(super) use crate::codes;
pub(super) use crate::ctx::{Ctx, Stop};
pub(super) use crate::system::{
    self, Api, Handle, NtCreated, NtIo, NtName, NO_MESSAGE, STATUS_PENDING,
};

pub(super) const GENERIC_READ: u32 = 0x8000_0000;
pub(super) const GENERIC_WRITE: u32 = 0x4000_0000;
pub(super) const SYNCHRONIZE: u32 = 0x0010_0000;
pub(super) const FILE_LIST_DIRECTORY: u32 = 0x0001;
pub(super) const FILE_SHARE_READ: u32 = 1;
pub(super) const FILE_SHARE_WRITE: u32 = 2;
pub(super) const FILE_SHARE_DELETE: u32 = 4;
pub(super) const SHARE_RW: u32 = FILE_SHARE_READ | FILE_SHARE_WRITE;
pub(super) const FILE_SYNCHRONOUS_IO_NONALERT: u32 = 0x0020;
pub(super) const MAILSLOT_WAIT_FOREVER: u32 = 0xFFFF_FFFF;
pub(super) const FILE_CREATED: usize = 2;
pub(super) const FILE_MAILSLOT_QUERY_INFORMATION: i32 = 26;
pub(super) const FILE_MAILSLOT_SET_INFORMATION: i32 = 27;
pub(super) const FILE_STANDARD_INFORMATION: i32 = 5;
pub(super) const FILE_DIRECTORY_INFORMATION: i32 = 1;
pub(super) const FILE_FS_DEVICE_INFORMATION: i32 = 4;
pub(super) const FSCTL_MAILSLOT_PEEK: u32 = 0x000C_4003;
pub(super) const FILE_DEVICE_MAILSLOT: u32 = 0x0000_000C;
pub(super) const WAIT_TIMEOUT: u32 = 258;

pub(super) const ERROR_FILE_NOT_FOUND: u32 = 2;
pub(super) const ERROR_PATH_NOT_FOUND: u32 = 3;
pub(super) const ERROR_ACCESS_DENIED: u32 = 5;
pub(super) const ERROR_INVALID_HANDLE: u32 = 6;
pub(super) const ERROR_SHARING_VIOLATION: u32 = 32;
pub(super) const ERROR_INVALID_PARAMETER: u32 = 87;
pub(super) const ERROR_SEM_TIMEOUT: u32 = 121;
pub(super) const ERROR_INSUFFICIENT_BUFFER: u32 = 122;
pub(super) const ERROR_INVALID_NAME: u32 = 123;
pub(super) const ERROR_ALREADY_EXISTS: u32 = 183;
pub(super) const ERROR_OPERATION_ABORTED: u32 = 995;
pub(super) const ERROR_IO_PENDING: u32 = 997;

// ---- helpers that read like the steps ----------------------------------------------------

/// A Win32 outcome as the report prints it: `ok` or the error's name and number.
pub(super) fn w32<T>(r: &Result<T, u32>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => codes::win32(*e),
    }
}

/// The Win32 outcome an NTSTATUS of our driver becomes.
pub(super) fn w32_of(api: Api<'_>, status: NtStatus) -> String {
    if status.is_success() {
        "ok".into()
    } else {
        codes::win32(api.dos_error(status.0))
    }
}

pub(super) fn st(status: i32) -> String {
    codes::status(status)
}

pub(super) fn st_of(status: NtStatus) -> String {
    codes::status(status.0)
}

/// A server for a fresh name: (relative name, handle).
pub(super) fn server<'a>(
    c: &mut Ctx<'a>,
    max: u32,
    timeout: u32,
) -> Result<(String, Handle<'a>), Stop> {
    let rel = c.fresh();
    let h = server_at(c, &rel, max, timeout)?;
    Ok((rel, h))
}

/// A server for a given relative name.
pub(super) fn server_at<'a>(
    c: &mut Ctx<'a>,
    rel: &str,
    max: u32,
    timeout: u32,
) -> Result<Handle<'a>, Stop> {
    let api = c.api;
    let path = c.win32(rel);
    c.need(
        &format!("CreateMailslotW({rel})"),
        api.create_mailslot(Some(&path), max, timeout)
            .map_err(codes::win32),
    )
}

/// A client with write access, sharing read and write (what every Windows version accepts).
pub(super) fn client<'a>(c: &mut Ctx<'a>, rel: &str) -> Result<Handle<'a>, Stop> {
    let api = c.api;
    let path = c.win32(rel);
    c.need(
        "CreateFileW (client)",
        api.open(&path, GENERIC_WRITE, SHARE_RW, false)
            .map_err(codes::win32),
    )
}

/// A client with read and write access (reading still fails: only the server reads).
pub(super) fn rw_client<'a>(c: &mut Ctx<'a>, rel: &str) -> Result<Handle<'a>, Stop> {
    let api = c.api;
    let path = c.win32(rel);
    c.need(
        "CreateFileW (read/write client)",
        api.open(&path, GENERIC_READ | GENERIC_WRITE, SHARE_RW, false)
            .map_err(codes::win32),
    )
}

/// A read that must succeed: the message.
pub(super) fn take(
    c: &mut Ctx<'_>,
    what: &str,
    h: &Handle<'_>,
    len: usize,
) -> Result<Vec<u8>, Stop> {
    let api = c.api;
    c.need(
        what,
        api.read(h.raw(), len).map_err(|(e, _)| codes::win32(e)),
    )
}

/// Checks a call left its status block as it was (it failed before the I/O began).
pub(super) fn expect_untouched(c: &mut Ctx<'_>, io: &dyn NtIo) {
    let iosb = io.iosb();
    c.check("IOSB untouched", iosb.untouched(), iosb.describe());
}

pub(super) fn put(c: &mut Ctx<'_>, h: &Handle<'_>, data: &[u8]) -> Result<(), Stop> {
    let api = c.api;
    let n = c.need("WriteFile", api.write(h.raw(), data).map_err(codes::win32))?;
    c.eq("bytes written", n as usize, data.len());
    Ok(())
}

pub(super) fn info(c: &mut Ctx<'_>, h: &Handle<'_>) -> Result<system::Info, Stop> {
    let api = c.api;
    c.need("GetMailslotInfo", api.info(h.raw()).map_err(codes::win32))
}

/// Checks (next size, count) as GetMailslotInfo reports them.
pub(super) fn expect_queue(
    c: &mut Ctx<'_>,
    h: &Handle<'_>,
    when: &str,
    next: u32,
    count: u32,
) -> Result<(), Stop> {
    let i = info(c, h)?;
    c.eq(&format!("{when}: NextMessageSize"), i.next, next);
    c.eq(&format!("{when}: MessagesAvailable"), i.count, count);
    Ok(())
}

pub(super) fn read_err(r: &Result<Vec<u8>, (u32, u32)>) -> String {
    match r {
        Ok(d) => format!("ok, {} bytes", d.len()),
        Err((e, _)) => codes::win32(*e),
    }
}

/// The 24-byte FILE_MAILSLOT_QUERY_INFORMATION: (max, quota, next, count, timeout).
pub(super) fn query(c: &mut Ctx<'_>, h: &Handle<'_>) -> Result<(u32, u32, u32, u32, i64), Stop> {
    let api = c.api;
    let (status, iosb, b) = api.nt_query_information(h.raw(), FILE_MAILSLOT_QUERY_INFORMATION, 24);
    if status != 0 {
        c.fail(format!("NtQueryInformationFile(26): got {}", st(status)));
        return Err(Stop);
    }
    c.eq("query IOSB.Information", iosb.information, 24);
    let f = |at| bytes::u32_at(&b, at).unwrap_or(0);
    Ok((f(0), f(4), f(8), f(12), bytes::i64_at(&b, 16).unwrap_or(0)))
}

pub(super) fn nt_server<'a>(
    c: &mut Ctx<'a>,
    access: u32,
    quota: u32,
    max: u32,
    timeout: Option<i64>,
) -> Result<(String, Handle<'a>), Stop> {
    let api = c.api;
    let rel = c.fresh();
    let path = c.nt(&rel);
    let r = api.nt_create_mailslot(&NtName::path(&path), access, 0, quota, max, timeout);
    match r.handle {
        Some(h) => Ok((rel, h)),
        None => {
            c.fail(format!("NtCreateMailslotFile: got {}", st(r.status)));
            Err(Stop)
        }
    }
}

pub(super) fn elapsed_ms(t: Instant) -> u128 {
    t.elapsed().as_millis()
}
