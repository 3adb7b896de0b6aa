//! The system services around I/O that are not requests: closing and duplicating handles,
//! events, waiting on a handle, and cancelling a file's I/O (NtCancelIoFile, which cancels the
//! calling thread's requests and waits for them, and NtCancelIoFileEx, which cancels the
//! process's requests with a given status block, or all of them, and returns STATUS_NOT_FOUND
//! when there is none).

use std::sync::Arc;
use std::time::Duration;

use crate::ke::Event;
use crate::mem;
use crate::process::{Object, Process};

use super::irp;
use super::*;

pub const STATUS_TIMEOUT: i32 = 0x102;
pub const EVENT_ALL_ACCESS: u32 = 0x1F_0003;

pub fn nt_close(p: &Process, handle: u64) -> i32 {
    p.close(handle)
}

pub fn nt_duplicate(p: &Process, handle: u64) -> Result<u64, i32> {
    p.duplicate(handle)
}

pub fn nt_create_event(p: &Process, manual: bool, signalled: bool) -> u64 {
    p.insert(
        Object::Event(Arc::new(Event::new(manual, signalled))),
        EVENT_ALL_ACCESS,
    )
}

/// NtWaitForSingleObject: 0 when signalled, STATUS_TIMEOUT, or an error status. A file
/// handle waits for its file object's event (signalled when an I/O on it completes).
pub fn nt_wait(p: &Process, handle: u64, timeout: Option<Duration>) -> i32 {
    let signalled = match p.object(handle) {
        Ok(Object::File(f)) => f.event.wait(timeout),
        Ok(Object::Event(e)) => e.wait(timeout),
        Err(s) => return s,
    };
    if signalled {
        0
    } else {
        STATUS_TIMEOUT
    }
}

fn write_iosb(addr: usize, status: i32) {
    if addr != 0 {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&status.to_le_bytes());
        mem::copy_out(addr, &b);
    }
}

/// NtCancelIoFileEx: the process's uncompleted requests on the file with this status block
/// (or all of them when it is 0).
pub fn nt_cancel_io_file_ex(
    p: &Arc<Process>,
    handle: u64,
    request_iosb: usize,
    iosb: usize,
) -> i32 {
    let (f, _) = match p.file(handle, 0, false) {
        Ok(x) => x,
        Err(s) => return s,
    };
    let n = irp::cancel_matching(
        p.machine,
        &f,
        p.id,
        (request_iosb != 0).then_some(request_iosb),
        false,
    );
    if n == 0 {
        return STATUS_NOT_FOUND;
    }
    write_iosb(iosb, STATUS_SUCCESS);
    STATUS_SUCCESS
}

/// NtCancelIoFile: the calling thread's requests on the file. Windows waits for them to
/// complete; here a cancel routine runs inline, so they have when this returns.
pub fn nt_cancel_io_file(p: &Arc<Process>, handle: u64, iosb: usize) -> i32 {
    let (f, _) = match p.file(handle, 0, false) {
        Ok(x) => x,
        Err(s) => return s,
    };
    irp::cancel_matching(p.machine, &f, p.id, None, true);
    write_iosb(iosb, STATUS_SUCCESS);
    STATUS_SUCCESS
}
