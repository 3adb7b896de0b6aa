//! `IRP_MJ_FILE_SYSTEM_CONTROL`: FSCTL_MAILSLOT_PEEK, written into the caller's own buffer
//! through the exception-guarded copy.

use super::*;

core::arch::global_asm!(include_str!("../asm/guarded_copy.s"), options(att_syntax));

extern "system" {
    /// `driver/src/asm/guarded_copy.s`: copies `len` bytes; STATUS_ACCESS_VIOLATION instead of
    /// a bugcheck when either side faults. Checked under Wine by tools/test-guarded-copy.sh.
    pub(super) fn rsms_guarded_copy(dst: *mut c_void, src: *const c_void, len: usize) -> NTSTATUS;
}

/// How often a peek re-sizes its bounce buffer when the head message keeps changing.
const PEEK_ATTEMPTS: usize = 4;

/// `IRP_MJ_FILE_SYSTEM_CONTROL`: FSCTL_MAILSLOT_PEEK, METHOD_NEITHER, so the output buffer is
/// the caller's own memory (`Irp->UserBuffer`): the head message is copied into a bounce
/// buffer under the lock and to the caller after it.
///
/// # Safety
/// PASSIVE_LEVEL; the IRP is ours; `file` its file object.
pub(super) unsafe fn fs_control(
    engine: &Engine,
    irp: *mut IRP,
    file: *mut FILE_OBJECT,
    output_length: u32,
    code: u32,
) -> Reply {
    if code != FSCTL_MAILSLOT_PEEK {
        return Reply::error(NtStatus::INVALID_DEVICE_REQUEST);
    }
    // SAFETY: per the contract.
    let handle = match unsafe { handle_of(file) } {
        Ok(h) => h,
        Err(s) => return Reply::error(s),
    };
    let capacity = match info::peek_data_capacity(output_length) {
        Ok(c) => c,
        Err(s) => return Reply::error(s),
    };
    // SAFETY: reads a field of our IRP.
    let user_buffer = unsafe { (*irp).UserBuffer } as u64;
    let from_user = requestor_is_user(irp);
    if user_buffer == 0
        || (from_user
            && !msfs_io::user_range_ok(user_buffer, u64::from(output_length), user_probe_address()))
    {
        return Reply::error(NtStatus::ACCESS_VIOLATION);
    }
    let (peek, bounce) = match peek_into_bounce(engine, handle, capacity) {
        Ok(p) => p,
        Err(s) => return Reply::error(s),
    };
    let mut header = [0u8; 12];
    let reply = info::peek_reply(&peek, &mut header);
    let data = bounce.get(..peek.copied).unwrap_or(&[]);
    let dst = user_buffer as *mut u8;
    // SAFETY: `dst` holds output_length >= 12 + copied bytes: in user space (checked above) and
    // written through the exception-guarded copy, or a kernel caller's own buffer.
    let status = unsafe {
        let a = rsms_guarded_copy(dst.cast(), header.as_ptr().cast(), header.len());
        if a < 0 {
            a
        } else {
            rsms_guarded_copy(
                dst.add(header.len()).cast(),
                data.as_ptr().cast(),
                data.len(),
            )
        }
    };
    if status < 0 {
        return Reply::error(NtStatus(status));
    }
    reply
}

/// Sizes a bounce buffer from the head message's length, peeks into it under the lock, and
/// sizes again (a few times at most) if a longer message became the head meanwhile.
fn peek_into_bounce(
    engine: &Engine,
    handle: *mut Handle,
    capacity: usize,
) -> Result<(Peek, Vec<u8>), NtStatus> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        // SAFETY: the handle is read under the lock.
        let next = engine
            .with(|m| m.query_info(unsafe { &*handle }))?
            .next_message_size;
        let len = info::peek_bounce_len(capacity, next);
        let mut bounce = Vec::new();
        bounce
            .try_reserve_exact(len)
            .map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
        bounce.resize(len, 0);
        // SAFETY: the handle is read under the lock.
        let peek = engine.with(|m| m.peek(unsafe { &*handle }, &mut bounce))?;
        if attempt >= PEEK_ATTEMPTS || !info::peek_needs_retry(&peek, len, capacity) {
            return Ok((peek, bounce));
        }
    }
}
