//! NtReadFile and NtWriteFile, and what every I/O service shares: referencing the file object
//! and event, probing the caller's status block and buffers, building the IRP, and
//! IopPerformSynchronousRequest (call the driver; complete a request that did not pend; wait
//! for one that did on a synchronous file object).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::ke::Event;
use crate::layout::{file, flags as fl, irp as ir, stack as st};
use crate::machine::Machine;
use crate::mem::{self, Raw};
use crate::pool::Owner;
use crate::process::Process;

use super::create::msfs_io_range;
use super::file::FileObj;
use super::irp::{self, Iosb, IrpInfo};
use super::*;

pub const FILE_READ_DATA: u32 = 0x1;
pub const FILE_WRITE_DATA: u32 = 0x2;
pub const FILE_APPEND_DATA: u32 = 0x4;
const IRP_READ_OPERATION: u32 = 0x100;
const IRP_WRITE_OPERATION: u32 = 0x200;
const SL_WRITE_THROUGH: u8 = 0x04;
const FO_WRITE_THROUGH: u32 = 0x10;

/// The request's caller.
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    pub process: &'a Arc<Process>,
    pub mode: Mode,
}

impl Caller<'_> {
    pub fn user(&self) -> bool {
        self.mode == Mode::User
    }

    pub fn machine(&self) -> &'static Machine {
        self.process.machine
    }
}

/// ProbeForWrite/ProbeForRead of a user-mode caller's range, with its alignment.
pub fn probe(c: Caller<'_>, addr: usize, len: usize, align: usize) -> Result<(), i32> {
    if !c.user() || len == 0 {
        return Ok(());
    }
    if addr % align != 0 {
        return Err(STATUS_DATATYPE_MISALIGNMENT);
    }
    if msfs_io_range(addr, len) {
        Ok(())
    } else {
        Err(STATUS_ACCESS_VIOLATION)
    }
}

/// Captures a caller's bytes (RtlCopyMemory under SEH on Windows).
pub fn capture(c: Caller<'_>, addr: usize, len: usize) -> Result<Vec<u8>, i32> {
    probe(c, addr, len, 1)?;
    let mut out = vec![0u8; len];
    if mem::copy_in(addr, &mut out) {
        Ok(out)
    } else {
        Err(STATUS_ACCESS_VIOLATION)
    }
}

/// The caller's event, referenced and reset (EVENT_MODIFY_STATE).
pub fn event_of(c: Caller<'_>, handle: u64) -> Result<Option<Arc<Event>>, i32> {
    if handle == 0 {
        return Ok(None);
    }
    let e = c.process.event(handle)?;
    e.clear();
    Ok(Some(e))
}

/// A system buffer: non-paged pool, or paged when the self-check switch breaks that.
pub fn system_buffer(
    m: &Machine,
    len: usize,
    paged: &mut Vec<(usize, usize)>,
) -> Result<usize, i32> {
    let page_it = m.faults.paged_system_buffers.load(Ordering::Relaxed);
    let addr = m
        .pool
        .allocate(
            len,
            u32::from_le_bytes(*b"SysB"),
            Owner::System,
            page_it,
            0,
            false,
        )
        .ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
    if page_it {
        paged.extend(m.pool.region_of(addr));
    }
    Ok(addr)
}

/// The IRP and its record for a request on `f`.
pub fn new_irp(
    c: Caller<'_>,
    f: &Arc<FileObj>,
    iosb: usize,
    event: Option<Arc<Event>>,
    output_len: Option<usize>,
) -> Raw {
    let m = c.machine();
    f.reference();
    let mut info = IrpInfo::new(
        c.mode,
        Some(f.clone()),
        Iosb::User(iosb),
        event,
        c.process.id,
    );
    info.output_len = output_len;
    info.token = Some(c.process.token.clone());
    // IoIs32bitProcess answers for user-mode requestors only: kernel callers are 64-bit.
    info.wow64 = c.process.wow64 && c.user();
    let irp = irp::allocate(m, f.device.stack_size(), info);
    irp.w64(ir::ORIGINAL_FILE_OBJECT, f.addr() as u64);
    irp.w64(ir::USER_IOSB, iosb as u64);
    irp
}

/// IopPerformSynchronousRequest: the driver's status, or for a synchronous file object whose
/// request pended, the final status once it completed.
pub fn perform(c: Caller<'_>, f: &Arc<FileObj>, irp: &Raw, paged: Vec<(usize, usize)>) -> i32 {
    let m = c.machine();
    let guard = f
        .synchronous
        .then(|| f.lock.lock().unwrap_or_else(|e| e.into_inner()));
    f.event.clear();
    let status = irp::call_driver(m, &f.device, irp, paged);
    let status = if guard.is_some() && status == STATUS_PENDING {
        f.event.wait(None);
        f.final_status.load(Ordering::SeqCst)
    } else {
        status
    };
    drop(guard);
    status
}

fn offset_and_key(
    c: Caller<'_>,
    byte_offset: usize,
    key: usize,
) -> Result<(Option<i64>, u32), i32> {
    let offset = if byte_offset == 0 {
        None
    } else {
        let b = capture(c, byte_offset, 8)?;
        Some(i64::from_le_bytes(
            b.try_into().map_err(|_| STATUS_ACCESS_VIOLATION)?,
        ))
    };
    let key = if key == 0 {
        0
    } else {
        let b = capture(c, key, 4)?;
        u32::from_le_bytes(b.try_into().map_err(|_| STATUS_ACCESS_VIOLATION)?)
    };
    Ok((offset, key))
}

/// Async I/O without a byte offset is refused unless the file object is a pipe or mailslot.
fn offset_required(f: &FileObj, offset: Option<i64>) -> bool {
    !f.synchronous
        && offset.is_none()
        && f.flags() & (fl::FO_NAMED_PIPE | fl::FO_MAILSLOT) as u32 == 0
}

#[allow(clippy::too_many_arguments)]
pub fn nt_read_file(
    c: Caller<'_>,
    handle: u64,
    event: u64,
    iosb: usize,
    buffer: usize,
    length: u32,
    byte_offset: usize,
    key: usize,
) -> i32 {
    let m = c.machine();
    let (f, _) = match c.process.file(handle, FILE_READ_DATA, c.user()) {
        Ok(x) => x,
        Err(s) => return s,
    };
    let len = length as usize;
    if let Err(s) = probe(c, iosb, 16, 4).and_then(|()| probe(c, buffer, len, 1)) {
        return s;
    }
    let (offset, key) = match offset_and_key(c, byte_offset, key) {
        Ok(x) => x,
        Err(s) => return s,
    };
    if offset.is_some_and(|o| o < 0 && o != -2) {
        return STATUS_INVALID_PARAMETER;
    }
    let event = match event_of(c, event) {
        Ok(e) => e,
        Err(s) => return s,
    };
    if offset_required(&f, offset) {
        return STATUS_INVALID_PARAMETER;
    }
    let offset = offset.unwrap_or_else(|| f.raw.r64(file::CURRENT_BYTE_OFFSET) as i64);
    let mut paged = Vec::new();
    let buffered = f.device.flags() & fl::DO_BUFFERED_IO as u32 != 0;
    let sysbuf = if buffered && len > 0 {
        match system_buffer(m, len, &mut paged) {
            Ok(a) => a,
            Err(s) => return s,
        }
    } else {
        0
    };
    let irp = new_irp(c, &f, iosb, event, Some(len));
    let mut flags = IRP_READ_OPERATION | fl::IRP_DEFER_IO_COMPLETION as u32;
    if buffered {
        flags |= (fl::IRP_BUFFERED_IO | fl::IRP_INPUT_OPERATION) as u32;
        if len > 0 {
            flags |= fl::IRP_DEALLOCATE_BUFFER as u32;
        }
        irp.w64(ir::SYSTEM_BUFFER, sysbuf as u64);
    }
    irp.w64(ir::USER_BUFFER, buffer as u64);
    irp.w32(ir::FLAGS, flags);
    let sl = irp::next_stack(&irp);
    sl.w8(st::MAJOR, 0x03);
    sl.w64(st::FILE_OBJECT, f.addr() as u64);
    sl.w32(st::READ_LENGTH, length);
    sl.w32(st::READ_KEY, key);
    sl.w64(st::READ_BYTE_OFFSET, offset as u64);
    perform(c, &f, &irp, paged)
}

#[allow(clippy::too_many_arguments)]
pub fn nt_write_file(
    c: Caller<'_>,
    handle: u64,
    event: u64,
    iosb: usize,
    buffer: usize,
    length: u32,
    byte_offset: usize,
    key: usize,
) -> i32 {
    let m = c.machine();
    let (f, granted) = match c.process.file(handle, 0, c.user()) {
        Ok(x) => x,
        Err(s) => return s,
    };
    // ObReferenceFileObjectForWrite: write or append access (write only, for a pipe).
    let needed = if f.flags() & fl::FO_NAMED_PIPE as u32 != 0 {
        FILE_WRITE_DATA
    } else {
        FILE_WRITE_DATA | FILE_APPEND_DATA
    };
    if c.user() && granted & needed == 0 {
        return STATUS_ACCESS_DENIED;
    }
    let len = length as usize;
    if let Err(s) = probe(c, iosb, 16, 4).and_then(|()| probe(c, buffer, len, 1)) {
        return s;
    }
    let (mut offset, key) = match offset_and_key(c, byte_offset, key) {
        Ok(x) => x,
        Err(s) => return s,
    };
    if offset.is_some_and(|o| o < -2) {
        return STATUS_INVALID_PARAMETER;
    }
    if granted & (FILE_APPEND_DATA | FILE_WRITE_DATA) == FILE_APPEND_DATA {
        // FILE_WRITE_TO_END_OF_FILE.
        offset = Some(-1);
    }
    let event = match event_of(c, event) {
        Ok(e) => e,
        Err(s) => return s,
    };
    if offset_required(&f, offset) {
        return STATUS_INVALID_PARAMETER;
    }
    let offset = offset.unwrap_or_else(|| f.raw.r64(file::CURRENT_BYTE_OFFSET) as i64);
    let mut paged = Vec::new();
    let buffered = f.device.flags() & fl::DO_BUFFERED_IO as u32 != 0;
    let sysbuf = if buffered && len > 0 {
        let data = match capture(c, buffer, len) {
            Ok(d) => d,
            Err(s) => return s,
        };
        let a = match system_buffer(m, len, &mut paged) {
            Ok(a) => a,
            Err(s) => return s,
        };
        mem::copy_out(a, &data);
        a
    } else {
        0
    };
    let irp = new_irp(c, &f, iosb, event, None);
    let mut flags = IRP_WRITE_OPERATION | fl::IRP_DEFER_IO_COMPLETION as u32;
    if buffered {
        flags |= fl::IRP_BUFFERED_IO as u32;
        if len > 0 {
            flags |= fl::IRP_DEALLOCATE_BUFFER as u32;
        }
        irp.w64(ir::SYSTEM_BUFFER, sysbuf as u64);
    } else {
        irp.w64(ir::USER_BUFFER, buffer as u64);
    }
    irp.w32(ir::FLAGS, flags);
    let sl = irp::next_stack(&irp);
    sl.w8(st::MAJOR, 0x04);
    sl.w8(
        st::FLAGS,
        if f.flags() & FO_WRITE_THROUGH != 0 {
            SL_WRITE_THROUGH
        } else {
            0
        },
    );
    sl.w64(st::FILE_OBJECT, f.addr() as u64);
    sl.w32(st::WRITE_LENGTH, length);
    sl.w32(st::READ_KEY, key);
    sl.w64(st::WRITE_BYTE_OFFSET, offset as u64);
    perform(c, &f, &irp, paged)
}
