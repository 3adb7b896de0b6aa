//! A mailslot's own security descriptor: the one its creator passed (`CreateMailslotW`'s
//! `lpSecurityAttributes`, captured by the I/O manager into the create's access state), kept
//! with the slot and checked on every client open with the requester's subject context
//! (`SeAccessCheck`, outside the engine's lock).

use super::*;
use alloc::boxed::Box;
use msfs::MAX_SECURITY_BYTES;

/// A copy of the descriptor the creator passed, or `None` when it passed none.
/// STATUS_INVALID_SECURITY_DESCR for one longer than a slot keeps,
/// STATUS_INSUFFICIENT_RESOURCES when the copy cannot be allocated.
///
/// # Safety
/// PASSIVE_LEVEL; `security_context` is the create's (or 0).
pub(super) unsafe fn creator_descriptor(
    security_context: u64,
) -> Result<Option<Box<[u8]>>, NtStatus> {
    let sc = security_context as *const IO_SECURITY_CONTEXT;
    if sc.is_null() {
        return Ok(None);
    }
    // SAFETY: the I/O manager's security context and access state for this create.
    let sd = unsafe {
        let state = (*sc).AccessState;
        if state.is_null() {
            return Ok(None);
        }
        (*state).SecurityDescriptor
    };
    if sd.is_null() {
        return Ok(None);
    }
    let base = sd.cast::<u8>();
    let len = msfs_io::descriptor::self_relative_length(
        &mut |at, out| {
            // SAFETY: the I/O manager captured this descriptor and validated it as it did
            // (SeCaptureSecurityDescriptor: self-relative, every part's offset and size within
            // its block), so its 20-byte header and the 8-byte head of each part its offsets
            // name lie inside the block; it is read at PASSIVE_LEVEL (it may be paged).
            unsafe { core::ptr::copy_nonoverlapping(base.add(at), out.as_mut_ptr(), out.len()) };
            true
        },
        MAX_SECURITY_BYTES,
    )?;
    let mut copy = Vec::new();
    copy.try_reserve_exact(len)
        .map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
    // SAFETY: `len` bytes of that descriptor, read at PASSIVE_LEVEL (it may be paged).
    copy.extend_from_slice(unsafe { core::slice::from_raw_parts(sd.cast::<u8>(), len) });
    Ok(Some(copy.into_boxed_slice()))
}

/// A buffer for [`msfs::Msfs::lookup`] to copy a slot's descriptor into, made before the lock.
pub(super) fn descriptor_buffer() -> Result<Box<[u8]>, NtStatus> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(MAX_SECURITY_BYTES)
        .map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
    buf.resize(MAX_SECURITY_BYTES, 0);
    Ok(buf.into_boxed_slice())
}

/// The access `descriptor` grants the requester of this create, as SeAccessCheck decides it:
/// the rights still wanted (RemainingDesiredAccess, MAXIMUM_ALLOWED resolved to what the
/// descriptor grants) with those granted before. The check runs as for a user-mode caller
/// when the requestor is user mode or the I/O manager asked for it (SL_FORCE_ACCESS_CHECK).
/// STATUS_ACCESS_DENIED (or SeAccessCheck's status) when a wanted right is refused.
///
/// # Safety
/// PASSIVE_LEVEL; `security_context` is the create's; `irp` its IRP.
pub(super) unsafe fn check_access(
    descriptor: &[u8],
    security_context: u64,
    irp: *mut IRP,
    stack_flags: u8,
) -> Result<u32, NtStatus> {
    let sc = security_context as *const IO_SECURITY_CONTEXT;
    if sc.is_null() {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let mode = if stack_flags & SL_FORCE_ACCESS_CHECK != 0 || requestor_is_user(irp) {
        USER_MODE
    } else {
        KERNEL_MODE
    };
    let mut granted = 0u32;
    let mut status: NTSTATUS = 0;
    // SAFETY: the create's access state and subject context; the descriptor is our copy,
    // valid (it was the I/O manager's) and alive for the call; PASSIVE_LEVEL.
    let ok = unsafe {
        let state = (*sc).AccessState;
        if state.is_null() {
            return Err(NtStatus::ACCESS_DENIED);
        }
        SeAccessCheck(
            descriptor.as_ptr().cast_mut().cast(),
            &mut (*state).SubjectSecurityContext,
            0,
            (*state).RemainingDesiredAccess,
            (*state).PreviouslyGrantedAccess,
            null_mut(),
            IoGetFileObjectGenericMapping(),
            mode,
            &mut granted,
            &mut status,
        )
    };
    if ok == 0 {
        return Err(if status < 0 {
            NtStatus(status)
        } else {
            NtStatus::ACCESS_DENIED
        });
    }
    Ok(granted)
}
