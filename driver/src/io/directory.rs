//! `IRP_MJ_DIRECTORY_CONTROL`: listing the namespace's root.

use super::*;

/// `IRP_MJ_DIRECTORY_CONTROL` / `IRP_MN_QUERY_DIRECTORY` on the root.
///
/// # Safety
/// The IRP is ours; `file` its file object; `file_name` is null or the UNICODE_STRING the I/O
/// manager captured.
pub(super) unsafe fn query_directory(
    engine: &Engine,
    irp: *mut IRP,
    file: *mut FILE_OBJECT,
    length: u32,
    file_name: u64,
    query: DirQuery<'_>,
) -> Reply {
    // SAFETY: per the contract.
    let (handle, out) = match unsafe { handle_and_buffer(file, irp, length) } {
        Ok(pair) => pair,
        Err(s) => return Reply::error(s),
    };
    let name = file_name as *const UNICODE_STRING;
    // SAFETY: the pattern string the I/O manager passed: captured into non-paged pool for a
    // user-mode caller, but a kernel-mode caller's own (paged) memory. Either way it is copied
    // into non-paged memory here, before the lock.
    let pattern = unsafe {
        if name.is_null() {
            None
        } else {
            let s = &*name;
            let buffer = s.Buffer.cast::<u8>();
            match msfs_io::region(
                buffer as u64,
                usize::from(s.Length),
                msfs_io::REGION_PATTERN,
            ) {
                Ok(Region::Empty) => None,
                Ok(Region::Bytes(len)) => {
                    let mut copy = Vec::new();
                    if copy.try_reserve_exact(len).is_err() {
                        return Reply::error(NtStatus::INSUFFICIENT_RESOURCES);
                    }
                    copy.extend_from_slice(core::slice::from_raw_parts(buffer, len));
                    Some(copy)
                }
                Err(status) => return Reply::error(status),
            }
        }
    };
    let query = DirQuery {
        pattern: pattern.as_deref(),
        ..query
    };
    // SAFETY: the handle is read and updated under the lock.
    let reply = engine.with(|m| m.query_directory(unsafe { &mut *handle }, &query, out));
    Reply::new(reply.status, reply.information)
}
