//! NtQueryInformationFile, NtSetInformationFile, NtQueryVolumeInformationFile,
//! NtQueryDirectoryFile and NtFsControlFile, as ReactOS's iofunc.c builds their IRPs (the
//! minimum lengths and required access per class are its `io_i.h` tables, x64 sizes).

use std::sync::Arc;

use crate::ke::Event;
use crate::layout::{flags as fl, irp as ir, stack as st};
use crate::mem;
use crate::process::user_pages_of;

use super::irp;
use super::rw::{capture, event_of, new_irp, perform, probe, system_buffer, Caller};
use super::*;

const FILE_READ_ATTRIBUTES: u32 = 0x80;
const FILE_WRITE_ATTRIBUTES: u32 = 0x100;
const FILE_READ_EA: u32 = 0x8;
const FILE_WRITE_EA: u32 = 0x10;
const FILE_WRITE_DATA: u32 = 0x2;
const FILE_LIST_DIRECTORY: u32 = 0x1;
const DELETE: u32 = 0x1_0000;

/// FileInformationClass → (minimum query length, query access) for user-mode callers; 0 means
/// the class cannot be queried.
fn query_class(class: u32) -> (usize, u32) {
    match class {
        4 => (40, FILE_READ_ATTRIBUTES),
        5 => (24, 0),
        6 => (8, 0),
        7 => (4, 0),
        8 => (4, 0),
        9 => (8, 0),
        14 => (8, 0),
        15 => (0, FILE_READ_EA),
        16 => (4, 0),
        17 => (4, 0),
        18 => (104, FILE_READ_ATTRIBUTES),
        21 => (8, 0),
        22 => (32, 0),
        23 => (8, FILE_READ_ATTRIBUTES),
        24 => (40, FILE_READ_ATTRIBUTES),
        25 => (16, FILE_READ_ATTRIBUTES),
        26 => (24, 0),
        28 => (16, 0),
        29 => (64, 0),
        34 => (56, FILE_READ_ATTRIBUTES),
        35 => (8, FILE_READ_ATTRIBUTES),
        _ => (0, 0),
    }
}

/// FileInformationClass → (minimum set length, set access).
fn set_class(class: u32) -> (usize, u32) {
    match class {
        4 => (40, FILE_WRITE_ATTRIBUTES),
        10 => (24, DELETE),
        11 => (24, 0),
        13 => (1, DELETE),
        14 => (8, 0),
        15 => (0, FILE_WRITE_EA),
        16 => (4, 0),
        19 => (8, FILE_WRITE_DATA),
        20 => (8, FILE_WRITE_DATA),
        23 => (8, FILE_WRITE_ATTRIBUTES),
        25 => (0, FILE_WRITE_ATTRIBUTES),
        27 => (8, 0),
        29 => (64, 0),
        30 => (16, 0),
        31 => (24, FILE_WRITE_DATA),
        36 => (16, FILE_WRITE_DATA),
        39 => (8, FILE_WRITE_DATA),
        _ => (0, 0),
    }
}

/// FsInformationClass → minimum query length.
fn query_fs_class(class: u32) -> usize {
    match class {
        1 => 24,
        3 => 24,
        4 => 8,
        5 => 16,
        6 => 48,
        7 => 32,
        8 => 64,
        9 => 12,
        _ => 0,
    }
}

/// The request of a query or set that the I/O manager waits for itself on an asynchronous
/// file object (a local event and IRP_SYNCHRONOUS_API), or through the file object. `flags`
/// are the IRP's other flags.
pub(super) fn synchronous_request(
    c: Caller<'_>,
    f: &Arc<super::file::FileObj>,
    iosb: usize,
    output_len: Option<usize>,
    flags: u32,
) -> (crate::mem::Raw, Option<Arc<Event>>) {
    let local = (!f.synchronous).then(|| Arc::new(Event::new(false, false)));
    let irp = new_irp(c, f, iosb, local.clone(), output_len);
    let mut flags = flags;
    if local.is_some() {
        c.machine().io.irps.set_synchronous_api(irp.addr);
        flags |= fl::IRP_SYNCHRONOUS_API as u32;
    }
    irp.w32(ir::FLAGS, flags);
    (irp, local)
}

pub(super) fn wait_local(status: i32, local: &Option<Arc<Event>>, iosb: usize) -> i32 {
    match local {
        Some(e) if status == STATUS_PENDING => {
            e.wait(None);
            mem::peek_u32(iosb).map_or(status, |s| s as i32)
        }
        _ => status,
    }
}

pub fn nt_query_information_file(
    c: Caller<'_>,
    handle: u64,
    iosb: usize,
    buffer: usize,
    length: u32,
    class: u32,
) -> i32 {
    let len = length as usize;
    let (min, access) = query_class(class);
    if c.user() {
        if min == 0 {
            return STATUS_INVALID_INFO_CLASS;
        }
        if len < min {
            return STATUS_INFO_LENGTH_MISMATCH;
        }
        if let Err(s) = probe(c, iosb, 16, 4).and_then(|()| probe(c, buffer, len, 4)) {
            return s;
        }
    }
    let (f, granted) = match c.process.file(handle, access, c.user()) {
        Ok(x) => x,
        Err(s) => return s,
    };
    // Classes the I/O manager answers from the handle and file object itself.
    let own = match class {
        8 => Some(granted.to_le_bytes().to_vec()),
        16 => Some((f.flags() & 0x3E).to_le_bytes().to_vec()),
        17 => Some(0u32.to_le_bytes().to_vec()),
        _ => None,
    };
    if let Some(bytes) = own {
        return answer(buffer, iosb, &bytes);
    }
    buffered_request(
        c,
        &f,
        iosb,
        buffer,
        length,
        None,
        (0x05, st::QUERY_FILE_LENGTH, st::QUERY_FILE_CLASS, class),
    )
}

/// A query the I/O manager answers itself: the bytes into the caller's buffer, their length
/// into the status block.
fn answer(buffer: usize, iosb: usize, bytes: &[u8]) -> i32 {
    if !mem::copy_out(buffer, bytes) {
        return STATUS_ACCESS_VIOLATION;
    }
    let mut b = [0u8; 16];
    b[8..].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
    mem::copy_out(iosb, &b);
    STATUS_SUCCESS
}

/// The IRP of a buffered query or set (file or volume information): a system buffer of the
/// caller's length, holding the set's `input` or copied back to the caller on completion,
/// waited for as a synchronous request. `what` is the major function, the stack offsets of
/// its length and class, and the class.
fn buffered_request(
    c: Caller<'_>,
    f: &Arc<super::file::FileObj>,
    iosb: usize,
    buffer: usize,
    length: u32,
    input: Option<&[u8]>,
    what: (u8, usize, usize, u32),
) -> i32 {
    let (major, length_at, class_at, class) = what;
    let mut paged = Vec::new();
    let sysbuf = match system_buffer(c.machine(), (length as usize).max(1), &mut paged) {
        Ok(a) => a,
        Err(s) => return s,
    };
    let mut flags =
        (fl::IRP_BUFFERED_IO | fl::IRP_DEALLOCATE_BUFFER | fl::IRP_DEFER_IO_COMPLETION) as u32;
    let output_len = match input {
        Some(data) => {
            mem::copy_out(sysbuf, data);
            None
        }
        None => {
            flags |= fl::IRP_INPUT_OPERATION as u32;
            Some(length as usize)
        }
    };
    let (irp, local) = synchronous_request(c, f, iosb, output_len, flags);
    irp.w64(ir::SYSTEM_BUFFER, sysbuf as u64);
    irp.w64(ir::USER_BUFFER, buffer as u64);
    let sl = irp::next_stack(&irp);
    sl.w8(st::MAJOR, major);
    sl.w64(st::FILE_OBJECT, f.addr() as u64);
    sl.w32(length_at, length);
    sl.w32(class_at, class);
    let status = perform(c, f, &irp, paged);
    wait_local(status, &local, iosb)
}

pub fn nt_set_information_file(
    c: Caller<'_>,
    handle: u64,
    iosb: usize,
    buffer: usize,
    length: u32,
    class: u32,
) -> i32 {
    let len = length as usize;
    let (mut min, access) = set_class(class);
    if class == 27 && c.user() && c.process.wow64 {
        // The table holds 64-bit sizes. FILE_MAILSLOT_SET_INFORMATION is one pointer, 4 bytes
        // from a 32-bit process; whether Windows' WoW64 layer widens it before the length check
        // is not documented, so the emulator passes the 32-bit structure through (as Wine's
        // wow64 passes this class through unchanged) and the driver must serve it
        // (IoIs32bitProcess). The 32-bit harness on a VM settles what Windows does.
        min = 4;
    }
    if c.user() {
        if min == 0 {
            return STATUS_INVALID_INFO_CLASS;
        }
        if len < min {
            return STATUS_INFO_LENGTH_MISMATCH;
        }
        let align = if len == 1 { 1 } else { 4 };
        if let Err(s) = probe(c, iosb, 16, 4).and_then(|()| probe(c, buffer, len, align)) {
            return s;
        }
    }
    let (f, _) = match c.process.file(handle, access, c.user()) {
        Ok(x) => x,
        Err(s) => return s,
    };
    let data = match capture(c, buffer, len) {
        Ok(d) => d,
        Err(s) => return s,
    };
    buffered_request(
        c,
        &f,
        iosb,
        buffer,
        length,
        Some(&data),
        (0x06, st::SET_FILE_LENGTH, st::SET_FILE_CLASS, class),
    )
}

pub fn nt_query_volume_information_file(
    c: Caller<'_>,
    handle: u64,
    iosb: usize,
    buffer: usize,
    length: u32,
    class: u32,
) -> i32 {
    let len = length as usize;
    if c.user() {
        let min = query_fs_class(class);
        if min == 0 {
            return STATUS_INVALID_INFO_CLASS;
        }
        if len < min {
            return STATUS_INFO_LENGTH_MISMATCH;
        }
        if let Err(s) = probe(c, iosb, 16, 4).and_then(|()| probe(c, buffer, len, 4)) {
            return s;
        }
    }
    let access = if class == 6 { 0x1 } else { 0 };
    let (f, _) = match c.process.file(handle, access, c.user()) {
        Ok(x) => x,
        Err(s) => return s,
    };
    if f.flags() & fl::FO_DIRECT_DEVICE_OPEN as u32 != 0 && class != 4 {
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    if class == 4 {
        // FileFsDeviceInformation: the I/O manager answers from the device object.
        let mut out = [0u8; 8];
        out[..4].copy_from_slice(&f.device.device_type().to_le_bytes());
        out[4..].copy_from_slice(&f.device.characteristics().to_le_bytes());
        return answer(buffer, iosb, &out);
    }
    buffered_request(
        c,
        &f,
        iosb,
        buffer,
        length,
        None,
        (0x0A, st::QUERY_VOLUME_LENGTH, st::QUERY_VOLUME_CLASS, class),
    )
}

/// NtQueryDirectoryFile. `pattern` is a UNICODE_STRING pointer or 0; a user-mode caller's is
/// captured into non-paged pool, a kernel-mode caller's is passed on as it is (and is paged).
#[allow(clippy::too_many_arguments)]
pub fn nt_query_directory_file(
    c: Caller<'_>,
    handle: u64,
    event: u64,
    iosb: usize,
    buffer: usize,
    length: u32,
    class: u32,
    single: bool,
    pattern: usize,
    restart: bool,
) -> i32 {
    let m = c.machine();
    let len = length as usize;
    let mut aux = 0usize;
    let mut paged = Vec::new();
    if c.user() {
        if let Err(s) = probe(c, iosb, 16, 4).and_then(|()| probe(c, buffer, len, 4)) {
            return s;
        }
        if pattern != 0 {
            let us = match capture(c, pattern, 16) {
                Ok(b) => b,
                Err(s) => return s,
            };
            let plen = usize::from(u16::from_le_bytes([us[0], us[1]]));
            let pbuf = u64::from_le_bytes(us[8..16].try_into().expect("8 bytes")) as usize;
            let text = match capture(c, pbuf, plen) {
                Ok(b) => b,
                Err(s) => return s,
            };
            aux = match m.pool.allocate(
                16 + plen.max(1),
                u32::from_le_bytes(*b"SysB"),
                crate::pool::Owner::System,
                false,
                0,
                true,
            ) {
                Some(a) => a,
                None => return STATUS_INSUFFICIENT_RESOURCES,
            };
            let mut head = [0u8; 16];
            head[..2].copy_from_slice(&(plen as u16).to_le_bytes());
            head[2..4].copy_from_slice(&(plen as u16).to_le_bytes());
            head[8..].copy_from_slice(&((aux + 16) as u64).to_le_bytes());
            mem::copy_out(aux, &head);
            mem::copy_out(aux + 16, &text);
        }
    } else if pattern != 0 {
        // A kernel caller's pattern is its own memory, typically paged.
        for at in [pattern, mem::peek_u64(pattern + 8).unwrap_or(0) as usize] {
            if let Some(r) = m
                .pool
                .who_owns(at)
                .filter(|(b, _)| b.paged)
                .and_then(|(b, _)| m.pool.region_of(b.addr))
            {
                paged.push(r);
            }
        }
    }
    let min = match class {
        1 | 2 => 72,
        3 => 96,
        12 => 16,
        37 => 112,
        38 => 88,
        _ => 0,
    };
    // A failure before the IRP exists frees the captured pattern (IopCleanupFailedIrp).
    let fail = |s: i32| {
        if aux != 0 {
            m.pool.free(aux, None, 0, &|_, _| None);
        }
        s
    };
    if min != 0 && len < min {
        return fail(STATUS_INFO_LENGTH_MISMATCH);
    }
    let (f, _) = match c.process.file(handle, FILE_LIST_DIRECTORY, c.user()) {
        Ok(x) => x,
        Err(s) => return fail(s),
    };
    let event = match event_of(c, event) {
        Ok(e) => e,
        Err(s) => return fail(s),
    };
    let sysbuf = match system_buffer(m, len.max(1), &mut paged) {
        Ok(a) => a,
        Err(s) => return fail(s),
    };
    let irp = new_irp(c, &f, iosb, event, Some(len));
    irp.w64(ir::SYSTEM_BUFFER, sysbuf as u64);
    irp.w64(ir::USER_BUFFER, buffer as u64);
    irp.w64(ir::AUXILIARY_BUFFER, aux as u64);
    irp.w32(
        ir::FLAGS,
        (fl::IRP_BUFFERED_IO
            | fl::IRP_DEALLOCATE_BUFFER
            | fl::IRP_INPUT_OPERATION
            | fl::IRP_DEFER_IO_COMPLETION) as u32,
    );
    let sl = irp::next_stack(&irp);
    sl.w8(st::MAJOR, 0x0C);
    sl.w8(st::MINOR, 0x01);
    let mut flags = 0u8;
    if restart {
        flags |= 0x01;
    }
    if single {
        flags |= 0x02;
    }
    sl.w8(st::FLAGS, flags);
    sl.w64(st::FILE_OBJECT, f.addr() as u64);
    sl.w32(st::DIRECTORY_LENGTH, length);
    sl.w64(
        st::DIRECTORY_FILE_NAME,
        if c.user() { aux as u64 } else { pattern as u64 },
    );
    sl.w32(st::DIRECTORY_CLASS, class);
    sl.w32(st::DIRECTORY_INDEX, 0);
    perform(c, &f, &irp, paged)
}

/// NtFsControlFile (IopDeviceFsIoControl with IsDevIoCtl FALSE).
#[allow(clippy::too_many_arguments)]
pub fn nt_fs_control_file(
    c: Caller<'_>,
    handle: u64,
    event: u64,
    iosb: usize,
    code: u32,
    input: usize,
    input_len: u32,
    output: usize,
    output_len: u32,
) -> i32 {
    let m = c.machine();
    let method = code & 3;
    let (mut in_len, mut out_len) = (input_len as usize, output_len as usize);
    if c.user() {
        if let Err(s) = probe(c, iosb, 16, 4) {
            return s;
        }
        if method == 0 {
            if output != 0 {
                if let Err(s) = probe(c, output, out_len, 1) {
                    return s;
                }
            } else {
                out_len = 0;
            }
        }
        if method != 3 {
            if input != 0 {
                if let Err(s) = probe(c, input, in_len, 1) {
                    return s;
                }
            } else {
                in_len = 0;
            }
        }
    }
    let (f, granted) = match c.process.file(handle, 0, false) {
        Ok(x) => x,
        Err(s) => return s,
    };
    let needed = (code >> 14) & 3;
    if c.user() && needed != 0 && granted & needed != needed {
        return STATUS_ACCESS_DENIED;
    }
    let event = match event_of(c, event) {
        Ok(e) => e,
        Err(s) => return s,
    };
    let mut paged = Vec::new();
    let irp = new_irp(c, &f, iosb, event, (method == 0).then_some(out_len));
    let sl = irp::next_stack(&irp);
    sl.w8(st::MAJOR, 0x0D);
    sl.w8(st::MINOR, 0x00);
    sl.w64(st::FILE_OBJECT, f.addr() as u64);
    sl.w32(st::FSCTL_CODE, code);
    sl.w32(st::FSCTL_INPUT_LENGTH, in_len as u32);
    sl.w32(st::FSCTL_OUTPUT_LENGTH, out_len as u32);
    let mut flags = fl::IRP_DEFER_IO_COMPLETION as u32;
    match method {
        0 => {
            let n = in_len.max(out_len);
            if n > 0 {
                let data = if input != 0 && in_len > 0 {
                    match capture(c, input, in_len) {
                        Ok(d) => d,
                        Err(s) => return s,
                    }
                } else {
                    Vec::new()
                };
                let sysbuf = match system_buffer(m, n, &mut paged) {
                    Ok(a) => a,
                    Err(s) => return s,
                };
                mem::copy_out(sysbuf, &data);
                irp.w64(ir::SYSTEM_BUFFER, sysbuf as u64);
                flags |= (fl::IRP_BUFFERED_IO | fl::IRP_DEALLOCATE_BUFFER) as u32;
                if output != 0 {
                    flags |= fl::IRP_INPUT_OPERATION as u32;
                }
                irp.w64(ir::USER_BUFFER, output as u64);
            }
        }
        3 => {
            // METHOD_NEITHER: the caller's own memory, pageable, passed on unprobed.
            irp.w64(ir::USER_BUFFER, output as u64);
            sl.w64(st::FSCTL_TYPE3_INPUT, input as u64);
            if c.user() {
                paged.extend(user_pages_of(output, out_len));
                paged.extend(user_pages_of(input, in_len));
            }
        }
        _ => return STATUS_INVALID_PARAMETER,
    }
    irp.w32(ir::FLAGS, flags);
    perform(c, &f, &irp, paged)
}
