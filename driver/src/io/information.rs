//! `IRP_MJ_QUERY_INFORMATION` and `IRP_MJ_SET_INFORMATION`.

use super::*;
use msfs::PointerWidth;

/// `IRP_MJ_QUERY_INFORMATION`, answered into the system buffer under the lock.
///
/// # Safety
/// The IRP is ours; `file` its file object.
pub(super) unsafe fn query_information(
    engine: &Engine,
    irp: *mut IRP,
    file: *mut FILE_OBJECT,
    length: u32,
    class: u32,
) -> Reply {
    // SAFETY: per the contract.
    match unsafe { handle_and_buffer(file, irp, length) } {
        // SAFETY: the handle is read under the lock.
        Ok((h, out)) => engine.with(|m| info::query_information(m, unsafe { &*h }, class, out)),
        Err(s) => Reply::error(s),
    }
}

/// `IRP_MJ_SET_INFORMATION`: FileMailslotSetInformation, whose ReadTimeout is a pointer into
/// the caller's memory, captured under the requestor's mode.
///
/// # Safety
/// PASSIVE_LEVEL; the IRP is ours; `file` its file object.
pub(super) unsafe fn set_information(
    engine: &Engine,
    irp: *mut IRP,
    file: *mut FILE_OBJECT,
    length: u32,
    class: u32,
) -> Reply {
    // SAFETY: per the contract.
    let (handle, input) = match unsafe { handle_and_buffer(file, irp, length) } {
        Ok(pair) => pair,
        Err(s) => return Reply::error(s),
    };
    let user = requestor_is_user(irp);
    let width = if user && caller_is_32bit(irp) {
        PointerWidth::Bits32
    } else {
        PointerWidth::Bits64
    };
    let address = match info::set_information(class, input, width) {
        Ok(a) => a,
        Err(s) => return Reply::error(s),
    };
    let value = if user {
        match capture_user_i64(address) {
            Ok(v) => v,
            Err(s) => return Reply::error(s),
        }
    } else {
        // SAFETY: a kernel-mode caller's own pointer to its LARGE_INTEGER, trusted as the
        // I/O manager trusts kernel callers.
        unsafe { (address as *const i64).read_unaligned() }
    };
    // SAFETY: the handle is read under the lock.
    engine
        .with(|m| m.set_read_timeout(unsafe { &*handle }, value))
        .map(|()| 0)
        .into()
}

/// Whether a user-mode request comes from a 32-bit process (asked only for IRPs the I/O manager
/// built for a user-mode requestor, as `IoIs32bitProcess` requires; kernel callers are 64-bit).
fn caller_is_32bit(irp: *mut IRP) -> bool {
    // SAFETY: `irp` is the I/O manager's IRP for a user-mode requestor, in its dispatch.
    unsafe { IoIs32bitProcess(irp) != 0 }
}

/// Reads a user-mode caller's 8 bytes without trusting the pointer: a range check, then
/// `MmCopyMemory` into non-paged pool (it fails instead of faulting).
pub(super) fn capture_user_i64(address: u64) -> Result<i64, NtStatus> {
    if !msfs_io::user_range_ok(address, 8, user_probe_address()) {
        return Err(NtStatus::ACCESS_VIOLATION);
    }
    let bounce = pool_new([0u8; 8]).ok_or(NtStatus::INSUFFICIENT_RESOURCES)?;
    let mut copied = 0usize;
    // SAFETY: the target is our non-paged block of 8 bytes; the source is a user address
    // checked above, which MmCopyMemory reads safely at PASSIVE_LEVEL.
    let status = unsafe {
        MmCopyMemory(
            bounce.as_ptr().cast(),
            address,
            8,
            MM_COPY_MEMORY_VIRTUAL,
            &mut copied,
        )
    };
    // SAFETY: our block, read then freed.
    let bytes = unsafe { bounce.as_ptr().read() };
    // SAFETY: as above.
    unsafe { pool_free(bounce) };
    if status < 0 || copied != 8 {
        return Err(NtStatus::ACCESS_VIOLATION);
    }
    Ok(info::read_timeout_value(bytes))
}
