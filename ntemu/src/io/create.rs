//! Opening files: NtCreateFile and NtCreateMailslotFile (IoCreateFile's checks and captures,
//! the object manager's name lookup, IopParseDevice's access check, file object and
//! IRP_MJ_CREATE / IRP_MJ_CREATE_MAILSLOT), and the device objects a driver creates.
//!
//! The device access check follows IopParseDevice and Microsoft's "Controlling Device Namespace
//! Access": an open of the device itself is checked against the device's descriptor; an open of
//! a name below it only for the right to traverse, unless the device is FILE_DEVICE_SECURE_OPEN,
//! in which case every open below it is checked against the device's descriptor too. Kernel
//! callers are checked only when they ask for it (IO_FORCE_ACCESS_CHECK).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use crate::layout::{
    access_state as acs, file, flags as fl, irp as ir, mailslot_parameters as msp,
    object_attributes as oa,
};
use crate::layout::{security_context as sc, stack as st};
use crate::machine::Machine;
use crate::mem;
use crate::pool::Owner;
use crate::process::{Object, Process};
use crate::se::{self, SecurityDescriptor};

use super::file::{fill_file_object, FileObj};
use super::irp::{self, Iosb, IrpInfo};
use super::objects::{fill_device_object, Device};
use super::*;

pub const FILE_SUPERSEDE: u32 = 0;
pub const FILE_OPEN: u32 = 1;
pub const FILE_CREATE: u32 = 2;

const FILE_WRITE_THROUGH: u32 = 0x2;
const FILE_SYNCHRONOUS_IO_ALERT: u32 = 0x10;
const FILE_SYNCHRONOUS_IO_NONALERT: u32 = 0x20;
const FO_ALERTABLE_IO: u32 = 0x4;
const FO_WRITE_THROUGH: u32 = 0x10;
const FO_OPENED_CASE_SENSITIVE: u32 = 0x0002_0000;
const OBJ_CASE_INSENSITIVE: u32 = 0x40;
const OBJ_VALID_ATTRIBUTES: u32 = 0x1FF2;
const SL_CASE_SENSITIVE: u8 = 0x80;
const FILE_TRAVERSE: u32 = 0x20;
const FILE_READ_ATTRIBUTES: u32 = 0x80;
pub const STATUS_INVALID_SECURITY_DESCR: i32 = 0xC000_0079u32 as i32;

/// NtCreateMailslotFile's own arguments.
#[derive(Clone, Copy, Debug)]
pub struct MailslotArgs {
    pub quota: u32,
    pub max_message_size: u32,
    /// A pointer to the LARGE_INTEGER read timeout, or 0.
    pub read_timeout: usize,
}

/// The arguments of NtCreateFile (addresses in the caller's memory).
#[derive(Clone, Copy, Debug)]
pub struct CreateArgs {
    pub handle_out: usize,
    pub access: u32,
    pub attributes: usize,
    pub iosb: usize,
    pub allocation_size: usize,
    pub file_attributes: u32,
    pub share: u32,
    pub disposition: u32,
    pub options: u32,
    pub mailslot: Option<MailslotArgs>,
    /// IO_FORCE_ACCESS_CHECK, for kernel-mode callers.
    pub force_access_check: bool,
}

fn user_range(mode: Mode, addr: usize, len: usize) -> bool {
    mode == Mode::Kernel || msfs_io_range(addr, len)
}

/// ProbeForRead/ProbeForWrite's range check: all of it below MmUserProbeAddress.
pub fn msfs_io_range(addr: usize, len: usize) -> bool {
    len == 0
        || (addr != 0
            && addr
                .checked_add(len)
                .is_some_and(|e| e <= mem::USER_PROBE_ADDRESS))
}

fn capture(mode: Mode, addr: usize, len: usize) -> Result<Vec<u8>, i32> {
    if !user_range(mode, addr, len) {
        return Err(STATUS_ACCESS_VIOLATION);
    }
    let mut out = vec![0u8; len];
    if mem::copy_in(addr, &mut out) {
        Ok(out)
    } else {
        Err(STATUS_ACCESS_VIOLATION)
    }
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// NtCreateFile / NtCreateMailslotFile: the status; on success the handle is written.
pub fn nt_create(p: &Arc<Process>, mode: Mode, a: &CreateArgs) -> i32 {
    let m = p.machine;
    if !user_range(mode, a.handle_out, 8) || !user_range(mode, a.iosb, 16) {
        return STATUS_ACCESS_VIOLATION;
    }
    let timeout = match a.mailslot.map(|ms| ms.read_timeout) {
        Some(0) | None => None,
        Some(t) => match capture(mode, t, 8) {
            Ok(b) => Some(u64_at(&b, 0) as i64),
            Err(s) => return s,
        },
    };
    if a.attributes == 0 {
        return STATUS_INVALID_PARAMETER;
    }
    let attrs = match capture(mode, a.attributes, oa::SIZE) {
        Ok(b) => b,
        Err(s) => return s,
    };
    if u32_at(&attrs, 0) as usize != oa::SIZE {
        return STATUS_INVALID_PARAMETER;
    }
    let attributes = u32_at(&attrs, oa::ATTRIBUTES);
    if attributes & !OBJ_VALID_ATTRIBUTES != 0 {
        return STATUS_INVALID_PARAMETER;
    }
    let root = u64_at(&attrs, oa::ROOT_DIRECTORY);
    let name_ptr = u64_at(&attrs, oa::OBJECT_NAME) as usize;
    if name_ptr == 0 {
        return if root != 0 {
            STATUS_OBJECT_NAME_INVALID
        } else {
            STATUS_OBJECT_PATH_SYNTAX_BAD
        };
    }
    let us = match capture(mode, name_ptr, 16) {
        Ok(b) => b,
        Err(s) => return s,
    };
    let length = usize::from(u16::from_le_bytes([us[0], us[1]]));
    if length % 2 != 0 || length >= 0xFFFE {
        return STATUS_OBJECT_NAME_INVALID;
    }
    let name_bytes = match capture(mode, u64_at(&us, 8) as usize, length) {
        Ok(b) => b,
        Err(s) => return s,
    };
    let units: Vec<u16> = name_bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let name = String::from_utf16_lossy(&units);
    let sd = match u64_at(&attrs, oa::SECURITY_DESCRIPTOR) as usize {
        0 => None,
        at => match capture_security_descriptor(mode, at) {
            Ok(bytes) => Some(bytes),
            Err(s) => return s,
        },
    };

    let (device, remaining, related) = if root != 0 {
        let related = match p.file(root, 0, false) {
            Ok((f, _)) => f,
            Err(_) => return STATUS_INVALID_HANDLE,
        };
        if name.starts_with('\\') {
            return STATUS_OBJECT_NAME_INVALID;
        }
        (related.device.clone(), name, Some(related))
    } else {
        if name.is_empty() || !name.starts_with('\\') {
            return STATUS_OBJECT_PATH_SYNTAX_BAD;
        }
        match m.io.namespace.lookup(&name) {
            Ok((d, rest)) => (d, rest, None),
            Err(s) => return s,
        }
    };
    let open = Open {
        mode,
        device,
        remaining,
        related,
        access: a.access,
        options: a.options,
        disposition: a.disposition,
        share: a.share,
        file_attributes: a.file_attributes,
        allocation_size: if a.allocation_size != 0 {
            match capture(mode, a.allocation_size, 8) {
                Ok(b) => u64_at(&b, 0),
                Err(s) => return s,
            }
        } else {
            0
        },
        case_insensitive: attributes & OBJ_CASE_INSENSITIVE != 0,
        mailslot: a.mailslot.map(|ms| (ms, timeout)),
        force_access_check: a.force_access_check,
        sd,
    };
    let (status, information, handle) = parse_device(p, open);
    if let Some(h) = handle {
        mem::poke_u64(a.handle_out, h);
    }
    if let Some(info) = information {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&status.to_le_bytes());
        b[8..].copy_from_slice(&(info as u64).to_le_bytes());
        mem::copy_out(a.iosb, &b);
    }
    status
}

/// A security descriptor from OBJECT_ATTRIBUTES, captured in its self-relative form
/// (SeCaptureSecurityDescriptor accepts both forms; absolute ones are rebuilt).
fn capture_security_descriptor(mode: Mode, at: usize) -> Result<Vec<u8>, i32> {
    // Only the self-relative form is taken (an absolute one holds pointers; no caller the
    // harness has uses it); its length is the furthest of its parts.
    // A part that cannot be read fails the call with the capture's own status.
    let failed = std::cell::Cell::new(None);
    let end = SecurityDescriptor::self_relative_length(&|off, len| {
        capture(mode, at + off, len)
            .inspect_err(|&s| failed.set(Some(s)))
            .ok()
    });
    match (end, failed.get()) {
        (_, Some(status)) => Err(status),
        (None, None) => Err(STATUS_INVALID_SECURITY_DESCR),
        (Some(end), None) => capture(mode, at, end),
    }
}

struct Open {
    mode: Mode,
    device: Arc<Device>,
    remaining: String,
    related: Option<Arc<FileObj>>,
    access: u32,
    options: u32,
    disposition: u32,
    share: u32,
    file_attributes: u32,
    allocation_size: u64,
    case_insensitive: bool,
    mailslot: Option<(MailslotArgs, Option<i64>)>,
    force_access_check: bool,
    sd: Option<Vec<u8>>,
}

/// IopParseDevice: (status, IOSB Information when the driver was called, the new handle).
fn parse_device(p: &Arc<Process>, o: Open) -> (i32, Option<usize>, Option<u64>) {
    let m = p.machine;
    let dev = &o.device;
    if dev.deleted.load(Ordering::SeqCst) || dev.flags() & fl::DO_DEVICE_INITIALIZING as u32 != 0 {
        return (STATUS_NO_SUCH_DEVICE, None, None);
    }
    let desired = se::map_generic(o.access);
    let mut remaining_access = desired;
    let mut granted = 0u32;
    let check = o.mode == Mode::User || o.force_access_check;
    if check && o.related.is_none() {
        let secure = dev.characteristics() & fl::FILE_DEVICE_SECURE_OPEN as u32 != 0;
        if o.remaining.is_empty() || secure {
            match se::access_check(&dev.sd, &p.token, desired) {
                Ok(g) => {
                    granted |= g;
                    remaining_access &= !(g | se::MAXIMUM_ALLOWED);
                }
                Err(_) => return (STATUS_ACCESS_DENIED, None, None),
            }
        } else if !p.token.traverse && se::access_check(&dev.sd, &p.token, FILE_TRAVERSE).is_err() {
            return (STATUS_ACCESS_DENIED, None, None);
        }
    }
    let direct = o.remaining.is_empty()
        && o.related.is_none()
        && desired
            & !(se::SYNCHRONIZE
                | FILE_READ_ATTRIBUTES
                | se::READ_CONTROL
                | se::ACCESS_SYSTEM_SECURITY
                | se::WRITE_OWNER
                | se::WRITE_DAC)
            == 0;

    let mut fo_flags = 0u32;
    if o.options & (FILE_SYNCHRONOUS_IO_ALERT | FILE_SYNCHRONOUS_IO_NONALERT) != 0 {
        fo_flags |= fl::FO_SYNCHRONOUS_IO as u32;
        if o.options & FILE_SYNCHRONOUS_IO_ALERT != 0 {
            fo_flags |= FO_ALERTABLE_IO;
        }
    }
    if o.options & FILE_WRITE_THROUGH != 0 {
        fo_flags |= FO_WRITE_THROUGH;
    }
    if direct {
        fo_flags |= fl::FO_DIRECT_DEVICE_OPEN as u32;
    }
    if !o.case_insensitive {
        fo_flags |= FO_OPENED_CASE_SENSITIVE;
    }
    let fo_raw = m.system_block(file::SIZE, *b"File");
    fill_file_object(
        &fo_raw,
        dev.addr(),
        o.related.as_ref().map_or(0, |r| r.addr()),
        fo_flags,
    );
    let mut paged = Vec::new();
    let name_block = if o.remaining.is_empty() {
        0
    } else {
        // The name is paged pool (IopParseDevice allocates it from PagedPool).
        let units: Vec<u16> = o.remaining.encode_utf16().collect();
        let bytes = units.len() * 2;
        let block = m
            .pool
            .allocate(
                bytes + 2,
                u32::from_le_bytes(*b"IoNm"),
                Owner::System,
                true,
                0,
                true,
            )
            .expect("paged pool for a file name");
        let data: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
        mem::copy_out(block, &data);
        fo_raw.w16(file::FILE_NAME, bytes as u16);
        fo_raw.w16(file::FILE_NAME + 2, (bytes + 2) as u16);
        fo_raw.w64(file::FILE_NAME + 8, block as u64);
        paged.push(paged_pages(m, block));
        block
    };
    let fo = Arc::new(FileObj::new(
        fo_raw,
        dev.clone(),
        fo_flags & fl::FO_SYNCHRONOUS_IO as u32 != 0,
        o.related.clone(),
        name_block,
    ));

    // The access state and security context the create carries.
    let state = m.system_block(acs::SIZE, *b"AcSt");
    state.w32(acs::REMAINING_DESIRED_ACCESS, remaining_access);
    state.w32(acs::PREVIOUSLY_GRANTED_ACCESS, granted);
    state.w32(acs::ORIGINAL_DESIRED_ACCESS, desired);
    state.w32(acs::FLAGS, if p.token.traverse { 0x1 } else { 0 });
    let sd_block = o.sd.as_ref().map(|bytes| {
        let block = m
            .pool
            .allocate(
                bytes.len(),
                u32::from_le_bytes(*b"SeSd"),
                Owner::System,
                true,
                0,
                true,
            )
            .expect("paged pool for a security descriptor");
        mem::copy_out(block, bytes);
        paged.push(paged_pages(m, block));
        block
    });
    state.w64(acs::SECURITY_DESCRIPTOR, sd_block.unwrap_or(0) as u64);
    // The requester's token, as SeCaptureSubjectContext leaves it for a process that does not
    // impersonate: the primary token, no client token.
    let token_object = m.tokens.register(m, &p.token);
    state.w64(
        acs::SUBJECT_SECURITY_CONTEXT + crate::layout::subject_context::PRIMARY_TOKEN,
        token_object as u64,
    );
    let context = m.system_block(sc::SIZE, *b"SeCx");
    context.w64(sc::ACCESS_STATE, state.addr as u64);
    context.w32(sc::DESIRED_ACCESS, remaining_access);
    context.w32(sc::FULL_CREATE_OPTIONS, o.options);
    let parameters = o.mailslot.map(|(ms, timeout)| {
        let b = m.system_block(msp::SIZE, *b"MsPa");
        b.w32(msp::QUOTA, ms.quota);
        b.w32(msp::MAXIMUM_MESSAGE_SIZE, ms.max_message_size);
        b.w64(msp::READ_TIMEOUT, timeout.unwrap_or(0) as u64);
        b.w8(msp::TIMEOUT_SPECIFIED, u8::from(timeout.is_some()));
        b
    });

    let done = Arc::new(crate::ke::Event::new(true, false));
    let slot = Arc::new(Mutex::new(None));
    let mut info = IrpInfo::new(
        o.mode,
        None,
        Iosb::Kernel(slot.clone()),
        Some(done.clone()),
        p.id,
    );
    info.token = Some(p.token.clone());
    info.synchronous_api = true;
    info.wow64 = p.wow64 && o.mode == Mode::User;
    let irp = irp::allocate(m, dev.stack_size(), info);
    irp.w32(
        ir::FLAGS,
        (fl::IRP_CREATE_OPERATION | fl::IRP_SYNCHRONOUS_API | fl::IRP_DEFER_IO_COMPLETION) as u32,
    );
    irp.w64(ir::USER_APC_ROUTINE, o.allocation_size);
    irp.w64(ir::ORIGINAL_FILE_OBJECT, fo.addr() as u64);
    let sl = irp::next_stack(&irp);
    sl.w8(st::MAJOR, if parameters.is_some() { 0x13 } else { 0x00 });
    let mut sl_flags = if o.case_insensitive {
        0
    } else {
        SL_CASE_SENSITIVE
    };
    if o.force_access_check {
        sl_flags |= fl::SL_FORCE_ACCESS_CHECK as u8;
    }
    sl.w8(st::FLAGS, sl_flags);
    sl.w64(st::CREATE_SECURITY_CONTEXT, context.addr as u64);
    sl.w32(
        st::CREATE_OPTIONS,
        (o.disposition << 24) | (o.options & 0x00FF_FFFF),
    );
    if let Some(ps) = &parameters {
        sl.w64(st::MAILSLOT_PARAMETERS, ps.addr as u64);
    } else {
        sl.w16(st::CREATE_FILE_ATTRIBUTES, o.file_attributes as u16);
    }
    sl.w16(st::CREATE_SHARE_ACCESS, o.share as u16);
    sl.w64(st::FILE_OBJECT, fo.addr() as u64);

    let status = irp::call_driver(m, dev, &irp, paged);
    if status == STATUS_PENDING {
        done.wait(None);
    }
    let (status, information) = slot
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .unwrap_or((status, 0));
    // The handle gets what the access state says after the driver saw it (ReactOS
    // ObpCreateHandle: RemainingDesiredAccess with PreviouslyGrantedAccess): a file system
    // that checks access itself records there what it granted.
    let granted = state.r32(acs::PREVIOUSLY_GRANTED_ACCESS);
    let remaining_access = state.r32(acs::REMAINING_DESIRED_ACCESS);
    for b in [
        Some(state.addr),
        Some(context.addr),
        parameters.as_ref().map(|p| p.addr),
        sd_block,
    ]
    .into_iter()
    .flatten()
    {
        m.pool.free(b, None, 0, &|_, _| None);
    }
    m.tokens.unregister(m, token_object);
    if nt_error(status) {
        // The driver refused: the file object goes without a cleanup or close.
        fo.discard(m);
        return (status, Some(information), None);
    }
    let granted_access = (granted | remaining_access) & !se::MAXIMUM_ALLOWED;
    fo.adopt_first_handle();
    let h = p.insert(Object::File(fo), granted_access);
    (status, Some(information), Some(h))
}

/// The whole pages of a pool block, for registering it as paged memory.
fn paged_pages(m: &Machine, block: usize) -> (usize, usize) {
    m.pool.region_of(block).expect("a live pool block")
}

/// Frees a device object's memory once it is deleted and no file object uses it.
pub fn free_device_object(m: &Machine, dev: &Device) {
    m.pool.free(dev.binary_sd.addr, None, 0, &|_, _| None);
    m.pool.free(dev.raw.addr, None, 0, &|_, _| None);
}

/// IoCreateDevice (IoCreateDeviceSecure with an SDDL): a device object linked into its
/// driver's list and, when named, into the namespace.
#[allow(clippy::too_many_arguments)]
pub fn create_device(
    m: &Machine,
    driver_object: usize,
    name: Option<String>,
    device_type: u32,
    characteristics: u32,
    flags: u32,
    mut sd: SecurityDescriptor,
) -> Result<Arc<Device>, i32> {
    if sd.owner.is_none() {
        sd.owner = Some(m.config.device_owner.clone());
    }
    let raw = m.system_block(crate::layout::DEVICE_OBJECT_ALLOCATION, *b"Devi");
    let bytes = sd.to_self_relative();
    let binary = m.system_block(bytes.len(), *b"DvSd");
    binary.write_bytes(0, &bytes);
    fill_device_object(
        &raw,
        driver_object,
        device_type,
        characteristics,
        flags,
        1,
        binary.addr,
    );
    let dev = Arc::new(Device {
        raw,
        name,
        sd,
        binary_sd: binary,
        driver: driver_object,
        deleted: Default::default(),
        open_files: Default::default(),
    });
    if let Err(s) = m.io.namespace.insert_device(dev.clone()) {
        free_device_object(m, &dev);
        return Err(s);
    }
    // DriverObject->DeviceObject heads the driver's list, linked through NextDevice.
    let head = driver_object + crate::layout::driver::DEVICE_OBJECT;
    let first = mem::peek_u64(head).unwrap_or(0);
    dev.raw.w64(crate::layout::device::NEXT_DEVICE, first);
    mem::poke_u64(head, dev.addr() as u64);
    Ok(dev)
}

/// IoDeleteDevice: out of the namespace and the driver's list; freed once unused.
pub fn delete_device(m: &Machine, addr: usize) {
    let Some(dev) = m.io.namespace.remove_device(addr) else {
        return;
    };
    let head = dev.driver + crate::layout::driver::DEVICE_OBJECT;
    let next = dev.raw.r64(crate::layout::device::NEXT_DEVICE);
    let mut at = head;
    while let Some(cur) = mem::peek_u64(at) {
        if cur == 0 {
            break;
        }
        if cur as usize == addr {
            mem::poke_u64(at, next);
            break;
        }
        at = cur as usize + crate::layout::device::NEXT_DEVICE;
    }
    if dev.open_files.load(Ordering::SeqCst) == 0 {
        free_device_object(m, &dev);
    }
}

/// The emulated system volume `\Device\HarddiskVolume1` (linked as `\??\C:`): a file system
/// with no files, whose driver has no mailslot support, so a CreateMailslotW of a disk path
/// gets STATUS_INVALID_DEVICE_REQUEST from it as it would from NTFS.
pub fn install_disk(m: &Machine) {
    let driver = m.system_block(crate::layout::driver::SIZE, *b"Drv ");
    driver.w16(crate::layout::driver::TYPE, crate::layout::IO_TYPE_DRIVER);
    for i in 0..28 {
        driver.w64(
            crate::layout::driver::MAJOR_FUNCTION + i * 8,
            disk_dispatch as *const () as u64,
        );
    }
    super::objects::register_system_driver(driver.addr);
    let sd = SecurityDescriptor::from_sddl("D:(A;;GA;;;WD)").expect("a valid SDDL");
    const FILE_DEVICE_DISK_FILE_SYSTEM: u32 = 0x8;
    let _ = create_device(
        m,
        driver.addr,
        Some(r"\Device\HarddiskVolume1".to_string()),
        FILE_DEVICE_DISK_FILE_SYSTEM,
        0,
        0,
        sd,
    );
    let _ =
        m.io.namespace
            .insert_link(r"\??\C:", r"\Device\HarddiskVolume1");
}

/// The emulated volume's file system: no file exists, and nothing else is supported.
extern "win64" fn disk_dispatch(_device: usize, irp: usize) -> i32 {
    let stack =
        mem::peek_u64(irp + crate::layout::irp::CURRENT_STACK_LOCATION).unwrap_or(0) as usize;
    let status = match mem::peek_u8(stack + st::MAJOR) {
        Some(0x00) => STATUS_OBJECT_NAME_NOT_FOUND,
        _ => STATUS_INVALID_DEVICE_REQUEST,
    };
    irp::complete_from_kernel(irp, status, 0);
    status
}
