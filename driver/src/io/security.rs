//! A mailslot's own security descriptor: the one its creator passed (`CreateMailslotW`'s
//! `lpSecurityAttributes`, captured by the I/O manager into the create's access state), kept
//! with the slot and checked on every client open with the requester's subject context
//! (`SeAccessCheck`, outside the engine's lock).

use super::*;
use alloc::boxed::Box;
use msfs::MAX_SECURITY_BYTES;

/// The access state of the create whose `IO_SECURITY_CONTEXT` is at `security_context`, if
/// it has one.
///
/// # Safety
/// `security_context` is the create's (or 0), in its dispatch.
pub(super) unsafe fn access_state(security_context: u64) -> Option<*mut ACCESS_STATE_HEAD> {
    let sc = security_context as *const IO_SECURITY_CONTEXT;
    if sc.is_null() {
        return None;
    }
    // SAFETY: the I/O manager's security context for this create.
    let state = unsafe { (*sc).AccessState };
    (!state.is_null()).then_some(state)
}

/// A copy of the descriptor the creator passed, or `None` when it passed none.
/// STATUS_INVALID_SECURITY_DESCR for one longer than a slot keeps,
/// STATUS_INSUFFICIENT_RESOURCES when the copy cannot be allocated.
///
/// # Safety
/// PASSIVE_LEVEL; `security_context` is the create's (or 0).
pub(super) unsafe fn creator_descriptor(
    security_context: u64,
) -> Result<Option<Box<[u8]>>, NtStatus> {
    // SAFETY: per the contract.
    let Some(state) = (unsafe { access_state(security_context) }) else {
        return Ok(None);
    };
    // SAFETY: the I/O manager's access state for this create.
    let sd = unsafe { (*state).SecurityDescriptor };
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

/// A buffer of `len` bytes (at most MAX_SECURITY_BYTES) for the engine to copy a slot's
/// descriptor into, made before the lock.
pub(super) fn descriptor_buffer(len: usize) -> Result<Box<[u8]>, NtStatus> {
    let len = len.min(MAX_SECURITY_BYTES);
    let mut buf = Vec::new();
    buf.try_reserve_exact(len)
        .map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
    buf.resize(len, 0);
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
    // SAFETY: per the contract.
    let Some(state) = (unsafe { access_state(security_context) }) else {
        return Err(NtStatus::ACCESS_DENIED);
    };
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
    // The handle the object manager makes gets what the access state says was granted: what
    // the descriptor granted (MAXIMUM_ALLOWED resolved), nothing left to ask for.
    // SAFETY: the create's access state, ours to update during its dispatch.
    unsafe {
        (*state).PreviouslyGrantedAccess |= granted;
        (*state).RemainingDesiredAccess &= !(granted | MAXIMUM_ALLOWED);
    }
    Ok(granted)
}

/// `POOL_TYPE` PagedPool: a merged descriptor lives only until it is copied, at PASSIVE_LEVEL.
const PAGED_POOL: u32 = 1;
/// `ACCESS_MASK` MAXIMUM_ALLOWED.
const MAXIMUM_ALLOWED: u32 = 0x0200_0000;
/// How often a change that lost a race with another is made again from the winner's result
/// before the caller gets STATUS_RETRY; each loss means another change succeeded.
const SET_ATTEMPTS: usize = 8;

/// `IRP_MJ_SET_SECURITY` (SetSecurityInfo, NtSetSecurityObject): the parts of `modification`
/// (the I/O manager's captured descriptor) that `information` names replace the slot's,
/// merged by the kernel (SeSetSecurityDescriptorInfo: generic rights mapped, the new owner
/// checked against the requester) outside the lock, then installed only if the slot's
/// descriptor is still the one the merge started from. A slot without a descriptor starts from
/// [`msfs_io::descriptor::OPEN_TO_ALL`], and only its server may give it one
/// ([`msfs::Msfs::security_for_update`]). The I/O manager has already checked that the handle
/// holds the access the parts need (WRITE_DAC, WRITE_OWNER, ACCESS_SYSTEM_SECURITY).
///
/// # Safety
/// PASSIVE_LEVEL; `file` is the request's file object; `modification` the request's
/// descriptor.
pub(super) unsafe fn set_security(
    engine: &Engine,
    file: *mut FILE_OBJECT,
    information: u32,
    modification: u64,
) -> Reply {
    // SAFETY: per the contract.
    let handle = match unsafe { handle_of(file) } {
        Ok(h) => h,
        Err(s) => return Reply::error(s),
    };
    if modification == 0 {
        return Reply::error(NtStatus::INVALID_SECURITY_DESCR);
    }
    let mut current = match descriptor_buffer(MAX_SECURITY_BYTES) {
        Ok(b) => b,
        Err(s) => return Reply::error(s),
    };
    for _ in 0..SET_ATTEMPTS {
        // SAFETY: the handle is read under the lock.
        let base = match engine.with(|m| m.security_for_update(unsafe { &*handle }, &mut current)) {
            Ok(b) => b,
            Err(s) => return Reply::error(s),
        };
        if base.len.is_none() {
            let open = &msfs_io::descriptor::OPEN_TO_ALL;
            if let Some(d) = current.get_mut(..open.len()) {
                d.copy_from_slice(open);
            }
        }
        // SAFETY: PASSIVE_LEVEL; `current` holds a self-relative descriptor (the slot's, or
        // the open default); `modification` is the I/O manager's.
        let merged = match unsafe { merge(&mut current, information, modification) } {
            Ok(m) => m,
            Err(s) => return Reply::error(s),
        };
        // SAFETY: the handle is read under the lock.
        match engine.with(|m| m.replace_security(unsafe { &*handle }, base.generation, merged)) {
            // The old descriptor is freed here, outside the lock.
            Ok(_old) => return Reply::success(0),
            Err(NtStatus::RETRY) => continue,
            Err(s) => return Reply::error(s),
        }
    }
    Reply::error(NtStatus::RETRY)
}

/// SeSetSecurityDescriptorInfo of `current` and `modification`, copied into a buffer of its
/// own (at most MAX_SECURITY_BYTES, else STATUS_INVALID_SECURITY_DESCR) with the kernel's
/// block freed.
///
/// # Safety
/// PASSIVE_LEVEL; `current` starts with a valid self-relative descriptor; `modification`
/// points to a captured one.
unsafe fn merge(
    current: &mut [u8],
    information: u32,
    modification: u64,
) -> Result<Box<[u8]>, NtStatus> {
    let ours = current.as_mut_ptr().cast::<c_void>();
    let mut descriptor = ours;
    let mut information = information;
    // SAFETY: per the contract; `descriptor` receives a new pool block on success and is left
    // pointing at our buffer (which the routine only reads) otherwise.
    let status = unsafe {
        SeSetSecurityDescriptorInfo(
            null_mut(),
            &mut information,
            modification as *mut c_void,
            &mut descriptor,
            PAGED_POOL,
            IoGetFileObjectGenericMapping(),
        )
    };
    if status < 0 {
        return Err(NtStatus(status));
    }
    if descriptor.is_null() || descriptor == ours {
        return Err(NtStatus::INVALID_SECURITY_DESCR);
    }
    let base = descriptor.cast::<u8>();
    let len = msfs_io::descriptor::self_relative_length(
        &mut |at, out| {
            // SAFETY: the routine built this self-relative descriptor in one block, every
            // part within it; read at PASSIVE_LEVEL (it is paged).
            unsafe { core::ptr::copy_nonoverlapping(base.add(at), out.as_mut_ptr(), out.len()) };
            true
        },
        MAX_SECURITY_BYTES,
    );
    let copy = len.and_then(|len| {
        let mut copy = Vec::new();
        copy.try_reserve_exact(len)
            .map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
        // SAFETY: `len` bytes of that block.
        copy.extend_from_slice(unsafe { core::slice::from_raw_parts(base, len) });
        Ok(copy.into_boxed_slice())
    });
    // SAFETY: the routine's block, freed once.
    unsafe { ExFreePool(descriptor) };
    copy
}

/// `IRP_MJ_QUERY_SECURITY` (GetSecurityInfo, NtQuerySecurityObject): the parts of the slot's
/// descriptor `information` asks for, built outside the lock and written to the caller's own
/// buffer (`Irp->UserBuffer`, METHOD_NEITHER) through the exception-guarded copy. A buffer
/// too short gets STATUS_BUFFER_OVERFLOW with the length needed in Information, which the I/O
/// manager returns as LengthNeeded. A slot its creator gave no descriptor (and the root) is
/// answered with STATUS_INVALID_DEVICE_REQUEST, so that the I/O manager answers for it as for
/// any driver without security: with its world descriptor, what the default means.
///
/// # Safety
/// PASSIVE_LEVEL; the IRP is ours; `file` its file object.
pub(super) unsafe fn query_security(
    engine: &Engine,
    irp: *mut IRP,
    file: *mut FILE_OBJECT,
    information: u32,
    length: u32,
) -> Reply {
    // SAFETY: per the contract.
    let handle = match unsafe { handle_of(file) } {
        Ok(h) => h,
        Err(s) => return Reply::error(s),
    };
    let mut kept = match descriptor_buffer(MAX_SECURITY_BYTES) {
        Ok(b) => b,
        Err(s) => return Reply::error(s),
    };
    // SAFETY: the handle is read under the lock.
    let len = match engine.with(|m| m.security_of(unsafe { &*handle }, &mut kept)) {
        Ok(Some(len)) => len,
        Ok(None) => return Reply::error(NtStatus::INVALID_DEVICE_REQUEST),
        Err(s) => return Reply::error(s),
    };
    let Some(sd) = kept.get(..len) else {
        return Reply::error(NtStatus::INVALID_SECURITY_DESCR);
    };
    // What a query returns is a part of the descriptor: never longer than it.
    let mut selected = match descriptor_buffer(len) {
        Ok(b) => b,
        Err(s) => return Reply::error(s),
    };
    let n = match msfs_io::descriptor::select(sd, information, &mut selected) {
        Ok(n) => n,
        Err(needed) => return Reply::new(NtStatus::BUFFER_OVERFLOW, needed),
    };
    if n > length as usize {
        return Reply::new(NtStatus::BUFFER_OVERFLOW, n);
    }
    // SAFETY: reads a field of our IRP.
    let user_buffer = unsafe { (*irp).UserBuffer } as u64;
    if user_buffer == 0
        || (requestor_is_user(irp)
            && !msfs_io::user_range_ok(user_buffer, n as u64, user_probe_address()))
    {
        return Reply::error(NtStatus::ACCESS_VIOLATION);
    }
    let Some(bytes) = selected.get(..n) else {
        return Reply::error(NtStatus::INVALID_SECURITY_DESCR);
    };
    // SAFETY: `user_buffer` holds `length >= n` bytes: in user space (checked above) and
    // written through the exception-guarded copy, or a kernel caller's own buffer.
    let status = unsafe {
        super::fsctl::rsms_guarded_copy(user_buffer as *mut c_void, bytes.as_ptr().cast(), n)
    };
    if status < 0 {
        return Reply::error(NtStatus(status));
    }
    Reply::success(n)
}
