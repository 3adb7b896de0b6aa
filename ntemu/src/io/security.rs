//! NtFlushBuffersFile, NtQuerySecurityObject and NtSetSecurityObject on a file handle, as
//! ReactOS's I/O and object managers make them (iofunc.c NtFlushBuffersFile; obsecure.c
//! NtQuerySecurityObject, NtSetSecurityObject; file.c IopGetSetSecurityObject).
//!
//! A flush needs write or append access on a user-mode handle and becomes IRP_MJ_FLUSH_BUFFERS.
//! A security query becomes IRP_MJ_QUERY_SECURITY with the caller's buffer as UserBuffer; when
//! the driver answers STATUS_INVALID_DEVICE_REQUEST (it does not implement security), the I/O
//! manager answers for it with a "world" descriptor: Everyone as owner and group, and a DACL
//! granting Everyone everything (SeSetWorldSecurityDescriptor).
//!
//! A security change needs the access SeSetSecurityAccessMask names on the handle (WRITE_OWNER
//! for the owner or group, WRITE_DAC for the DACL, ACCESS_SYSTEM_SECURITY for the SACL); the
//! caller's descriptor (NULL: STATUS_ACCESS_VIOLATION) is captured into kernel memory, must
//! hold an owner and a group when it sets them (else STATUS_INVALID_SECURITY_DESCR), and
//! becomes IRP_MJ_SET_SECURITY, dispatched in the caller's thread (as every request is: its
//! token is the subject the driver's kernel calls see). A driver that declines it (STATUS_INVALID_DEVICE_REQUEST) has
//! no security to change, and the I/O manager reports success.

use crate::layout::{irp as ir, stack as st};
use crate::mem;
use crate::pool::Owner;
use crate::se::{
    SecurityDescriptor, Sid, ACCESS_SYSTEM_SECURITY, READ_CONTROL, WRITE_DAC, WRITE_OWNER,
};

use super::info::{synchronous_request, wait_local};
use super::irp;
use super::rw::{perform, probe, Caller, FILE_APPEND_DATA, FILE_WRITE_DATA};
use super::*;

const IRP_MJ_FLUSH_BUFFERS: u8 = 0x09;
const IRP_MJ_QUERY_SECURITY: u8 = 0x14;
const IRP_MJ_SET_SECURITY: u8 = 0x15;
const STATUS_INVALID_SECURITY_DESCR: i32 = 0xC000_0079u32 as i32;
const OWNER_SECURITY_INFORMATION: u32 = 0x1;
const GROUP_SECURITY_INFORMATION: u32 = 0x2;
const DACL_SECURITY_INFORMATION: u32 = 0x4;
const SACL_SECURITY_INFORMATION: u32 = 0x8;
const SE_DACL_PRESENT: u16 = 0x0004;
const SE_SELF_RELATIVE: u16 = 0x8000;
const GENERIC_ALL: u32 = 0x1000_0000;

/// NtFlushBuffersFile.
pub fn nt_flush_buffers_file(c: Caller<'_>, handle: u64, iosb: usize) -> i32 {
    let (f, granted) = match c.process.file(handle, 0, c.user()) {
        Ok(x) => x,
        Err(s) => return s,
    };
    if c.user() {
        if granted & (FILE_WRITE_DATA | FILE_APPEND_DATA) == 0 {
            return STATUS_ACCESS_DENIED;
        }
        if let Err(s) = probe(c, iosb, 16, 4) {
            return s;
        }
    }
    let (irp, local) = synchronous_request(c, &f, iosb, None, 0);
    let sl = irp::next_stack(&irp);
    sl.w8(st::MAJOR, IRP_MJ_FLUSH_BUFFERS);
    sl.w64(st::FILE_OBJECT, f.addr() as u64);
    let status = perform(c, &f, &irp, Vec::new());
    wait_local(status, &local, iosb)
}

/// NtQuerySecurityObject on a file handle: the status, and the length the descriptor needs
/// (written to `length_needed` too).
pub fn nt_query_security_object(
    c: Caller<'_>,
    handle: u64,
    information: u32,
    buffer: usize,
    length: u32,
    length_needed: usize,
) -> i32 {
    let mut access = 0;
    if information
        & (OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION)
        != 0
    {
        access |= READ_CONTROL;
    }
    if information & SACL_SECURITY_INFORMATION != 0 {
        access |= ACCESS_SYSTEM_SECURITY;
    }
    if let Err(s) =
        probe(c, buffer, length as usize, 4).and_then(|()| probe(c, length_needed, 4, 4))
    {
        return s;
    }
    let (f, _) = match c.process.file(handle, access, c.user()) {
        Ok(x) => x,
        Err(s) => return s,
    };
    // The request's own status block, in kernel memory: the caller gets a length, not an IOSB.
    let m = c.machine();
    let Some(iosb) = kernel_block(c, 16, *b"SIos") else {
        return STATUS_INSUFFICIENT_RESOURCES;
    };
    let status = query_through(c, &f, iosb, information, buffer, length, length_needed);
    m.pool.free(iosb, None, 0, &|_, _| None);
    status
}

/// The IRP of a security query, and the I/O manager's answer when the driver has none.
fn query_through(
    c: Caller<'_>,
    f: &std::sync::Arc<super::file::FileObj>,
    iosb: usize,
    information: u32,
    buffer: usize,
    length: u32,
    length_needed: usize,
) -> i32 {
    let (irp, local) = synchronous_request(c, f, iosb, None, 0);
    irp.w64(ir::USER_BUFFER, buffer as u64);
    let sl = irp::next_stack(&irp);
    sl.w8(st::MAJOR, IRP_MJ_QUERY_SECURITY);
    sl.w64(st::FILE_OBJECT, f.addr() as u64);
    sl.w32(st::QUERY_SECURITY_INFORMATION, information);
    sl.w32(st::QUERY_SECURITY_LENGTH, length);
    let status = wait_local(perform(c, f, &irp, Vec::new()), &local, iosb);
    if status == STATUS_INVALID_DEVICE_REQUEST {
        // The driver does not implement security: the I/O manager's world descriptor.
        let sd = world_descriptor(information);
        mem::copy_out(length_needed, &(sd.len() as u32).to_le_bytes());
        if (length as usize) < sd.len() {
            return STATUS_BUFFER_TOO_SMALL;
        }
        return if mem::copy_out(buffer, &sd) {
            STATUS_SUCCESS
        } else {
            STATUS_ACCESS_VIOLATION
        };
    }
    let needed = mem::peek_u64(iosb + 8).unwrap_or(0) as u32;
    mem::copy_out(length_needed, &needed.to_le_bytes());
    if status == STATUS_BUFFER_OVERFLOW {
        STATUS_BUFFER_TOO_SMALL
    } else {
        status
    }
}

/// NtSetSecurityObject on a file handle.
pub fn nt_set_security_object(
    c: Caller<'_>,
    handle: u64,
    information: u32,
    descriptor: usize,
) -> i32 {
    if descriptor == 0 {
        return crate::ntos::STATUS_ACCESS_VIOLATION;
    }
    let mut access = 0;
    if information & (OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION) != 0 {
        access |= WRITE_OWNER;
    }
    if information & DACL_SECURITY_INFORMATION != 0 {
        access |= WRITE_DAC;
    }
    if information & SACL_SECURITY_INFORMATION != 0 {
        access |= ACCESS_SYSTEM_SECURITY;
    }
    let (f, _) = match c.process.file(handle, access, c.user()) {
        Ok(x) => x,
        Err(s) => return s,
    };
    // SeCaptureSecurityDescriptor: the caller's self-relative descriptor, read whole.
    let Some(bytes) = crate::seapi::read_descriptor(descriptor) else {
        return STATUS_INVALID_SECURITY_DESCR;
    };
    let Some(parsed) = SecurityDescriptor::from_self_relative(&bytes) else {
        return STATUS_INVALID_SECURITY_DESCR;
    };
    if (information & OWNER_SECURITY_INFORMATION != 0 && parsed.owner.is_none())
        || (information & GROUP_SECURITY_INFORMATION != 0 && parsed.group.is_none())
    {
        return STATUS_INVALID_SECURITY_DESCR;
    }
    let m = c.machine();
    let Some(captured) = kernel_block(c, bytes.len(), *b"SeSd") else {
        return STATUS_INSUFFICIENT_RESOURCES;
    };
    mem::copy_out(captured, &bytes);
    let Some(iosb) = kernel_block(c, 16, *b"SIos") else {
        m.pool.free(captured, None, 0, &|_, _| None);
        return STATUS_INSUFFICIENT_RESOURCES;
    };
    let (irp, local) = synchronous_request(c, &f, iosb, None, 0);
    let sl = irp::next_stack(&irp);
    sl.w8(st::MAJOR, IRP_MJ_SET_SECURITY);
    sl.w64(st::FILE_OBJECT, f.addr() as u64);
    sl.w32(st::SET_SECURITY_INFORMATION, information);
    sl.w64(st::SET_SECURITY_DESCRIPTOR, captured as u64);
    let status = wait_local(perform(c, &f, &irp, Vec::new()), &local, iosb);
    m.pool.free(iosb, None, 0, &|_, _| None);
    m.pool.free(captured, None, 0, &|_, _| None);
    if status == STATUS_INVALID_DEVICE_REQUEST {
        // The driver keeps no security: nothing to change (IopGetSetSecurityObject).
        return STATUS_SUCCESS;
    }
    status
}

/// A system pool block of `len` bytes the I/O manager uses for one request.
fn kernel_block(c: Caller<'_>, len: usize, tag: [u8; 4]) -> Option<usize> {
    c.machine()
        .pool
        .allocate(len, u32::from_le_bytes(tag), Owner::System, false, 0, true)
}

/// SeSetWorldSecurityDescriptor's self-relative descriptor for `information`.
fn world_descriptor(information: u32) -> Vec<u8> {
    let world = Sid::everyone().to_bytes();
    let mut sd = vec![0u8; 20];
    sd[0] = 1; // SECURITY_DESCRIPTOR_REVISION
    let mut control = SE_SELF_RELATIVE;
    let place = |sd: &mut Vec<u8>, at: usize, bytes: &[u8]| {
        let offset = sd.len() as u32;
        sd[at..at + 4].copy_from_slice(&offset.to_le_bytes());
        sd.extend_from_slice(bytes);
    };
    if information & OWNER_SECURITY_INFORMATION != 0 {
        place(&mut sd, 4, &world);
    }
    if information & GROUP_SECURITY_INFORMATION != 0 {
        place(&mut sd, 8, &world);
    }
    if information & DACL_SECURITY_INFORMATION != 0 {
        control |= SE_DACL_PRESENT;
        // ACL (revision 2, one ACE) holding ACCESS_ALLOWED_ACE {GENERIC_ALL, Everyone}.
        let ace_len = 8 + world.len();
        let mut acl = vec![2u8, 0];
        acl.extend_from_slice(&((8 + ace_len) as u16).to_le_bytes());
        acl.extend_from_slice(&1u16.to_le_bytes());
        acl.extend_from_slice(&0u16.to_le_bytes());
        acl.extend_from_slice(&[0, 0]);
        acl.extend_from_slice(&(ace_len as u16).to_le_bytes());
        acl.extend_from_slice(&GENERIC_ALL.to_le_bytes());
        acl.extend_from_slice(&world);
        place(&mut sd, 16, &acl);
    }
    sd[2..4].copy_from_slice(&control.to_le_bytes());
    sd
}
