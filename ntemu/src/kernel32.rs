//! kernel32 over the emulated NT services: the Win32 calls the table makes, each making the
//! NT calls Windows' kernel32 makes with the same access masks, options and conversions
//! (ReactOS's and Wine's kernel32/kernelbase read for the facts), and RtlNtStatusToDosError.
//!
//! Where the public sources disagree about what Windows does, each variant is offered
//! ([`Variant`]): ReactOS's CreateMailslotW asks for GENERIC_READ | SYNCHRONIZE | WRITE_DAC
//! with FILE_WRITE_THROUGH, Wine's for GENERIC_READ | SYNCHRONIZE with no options. Both return
//! an asynchronous handle. Everything else both agree on, or Microsoft documents: the read
//! timeout (MAILSLOT_WAIT_FOREVER is -1, else milliseconds × -10,000), CreateFileW's
//! `access | SYNCHRONIZE | FILE_READ_ATTRIBUTES` with FILE_NON_DIRECTORY_FILE and, without
//! FILE_FLAG_OVERLAPPED, FILE_SYNCHRONOUS_IO_NONALERT, and a mailslot create refused as
//! STATUS_INVALID_DEVICE_REQUEST or STATUS_NOT_SUPPORTED reported as an invalid name.

use std::sync::Arc;
use std::time::Duration;

use crate::io::create::{nt_create, CreateArgs, MailslotArgs, FILE_CREATE, FILE_OPEN};
use crate::io::rw::{nt_read_file, nt_write_file, Caller};
use crate::io::{info, security, services, Mode};
use crate::layout::object_attributes as oa;
use crate::process::{Process, UserMem};
use crate::se::Sid;

pub const STATUS_PENDING: i32 = 0x103;
pub const MAILSLOT_WAIT_FOREVER: u32 = 0xFFFF_FFFF;
pub const ERROR_INVALID_HANDLE: u32 = 6;
pub const ERROR_PATH_NOT_FOUND: u32 = 3;
pub const ERROR_IO_INCOMPLETE: u32 = 996;
pub const ERROR_IO_PENDING: u32 = 997;
pub const WAIT_TIMEOUT: u32 = 258;
pub const WAIT_FAILED: u32 = 0xFFFF_FFFF;

const GENERIC_READ: u32 = 0x8000_0000;
const SYNCHRONIZE: u32 = 0x0010_0000;
const WRITE_DAC: u32 = 0x0004_0000;
const FILE_READ_ATTRIBUTES: u32 = 0x80;
const FILE_SHARE_READ: u32 = 1;
const FILE_SHARE_WRITE: u32 = 2;
const FILE_WRITE_THROUGH: u32 = 0x2;
const FILE_SYNCHRONOUS_IO_NONALERT: u32 = 0x20;
const FILE_NON_DIRECTORY_FILE: u32 = 0x40;
const OBJ_CASE_INSENSITIVE: u32 = 0x40;
const FILE_ATTRIBUTE_NORMAL: u32 = 0x80;
const STATUS_INVALID_DEVICE_REQUEST: i32 = 0xC000_0010u32 as i32;
const STATUS_NOT_SUPPORTED: i32 = 0xC000_00BBu32 as i32;
const STATUS_OBJECT_NAME_INVALID: i32 = 0xC000_0033u32 as i32;
const STATUS_END_OF_FILE: i32 = 0xC000_0011u32 as i32;

/// Whose CreateMailslotW.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// ReactOS kernel32: GENERIC_READ | SYNCHRONIZE | WRITE_DAC, FILE_WRITE_THROUGH.
    ReactOs,
    /// Wine kernelbase: GENERIC_READ | SYNCHRONIZE, no options.
    Wine,
}

impl Variant {
    pub const ALL: [Variant; 2] = [Variant::ReactOs, Variant::Wine];

    pub fn mailslot_access(self) -> u32 {
        match self {
            Variant::ReactOs => GENERIC_READ | SYNCHRONIZE | WRITE_DAC,
            Variant::Wine => GENERIC_READ | SYNCHRONIZE,
        }
    }

    pub fn mailslot_options(self) -> u32 {
        match self {
            Variant::ReactOs => FILE_WRITE_THROUGH,
            Variant::Wine => 0,
        }
    }
}

/// RtlNtStatusToDosError for the statuses the I/O path produces (tests/layout.rs checks each
/// against Wine's ntdll, which the research asserts agrees with Windows on these).
pub fn dos_error(status: i32) -> u32 {
    match status as u32 {
        0 => 0,
        0x0000_0103 => 997,
        0xC000_0001 => 31,
        0x8000_0002 => 998,
        0x8000_0005 => 234,
        0x8000_0006 => 18,
        0xC000_0003 => 87,
        0xC000_0004 => 24,
        0xC000_0005 => 998,
        0xC000_0008 => 6,
        0xC000_000D => 87,
        0xC000_000E => 433,
        0xC000_000F => 2,
        0xC000_0010 => 1,
        0xC000_0011 => 38,
        0xC000_0022 => 5,
        0xC000_0023 => 122,
        0xC000_0024 => 6,
        0xC000_0033 => 123,
        0xC000_0034 => 2,
        0xC000_0035 => 183,
        0xC000_003A => 3,
        0xC000_003B => 161,
        0xC000_0044 => 1816,
        0xC000_0059 => 1306,
        0xC000_005A => 1307,
        0xC000_0078 => 1337,
        0xC000_0079 => 1338,
        0xC000_009A => 1450,
        0xC000_00B5 => 121,
        0xC000_00B6 => 38,
        0xC000_00BB => 50,
        0xC000_0120 => 995,
        0xC000_0184 => 22,
        0xC000_0225 => 1168,
        0xC000_022D => 1237,
        // ERROR_MR_MID_NOT_FOUND: what Windows gives for a status it has no mapping for.
        _ => 317,
    }
}

/// The statuses [`dos_error`] maps, for the check against Wine.
pub const MAPPED: [u32; 36] = [
    0,
    0x103,
    0x8000_0002,
    0x8000_0005,
    0x8000_0006,
    0xC000_0003,
    0xC000_0004,
    0xC000_0005,
    0xC000_0008,
    0xC000_000D,
    0xC000_000E,
    0xC000_000F,
    0xC000_0010,
    0xC000_0011,
    0xC000_0022,
    0xC000_0023,
    0xC000_0024,
    0xC000_0033,
    0xC000_0034,
    0xC000_0035,
    0xC000_003A,
    0xC000_003B,
    0xC000_0044,
    0xC000_0059,
    0xC000_0078,
    0xC000_0079,
    0xC000_009A,
    0xC000_00B5,
    0xC000_00B6,
    0xC000_00BB,
    0xC000_0120,
    0xC000_0184,
    0xC000_0225,
    0xC000_0001,
    0xC000_005A,
    0xC000_022D,
];

/// RtlDosPathNameToNtPathName_U, for the path forms the table uses: `\\.\` and `\\?\` device
/// paths, UNC paths, drive-absolute paths, and names relative to the current directory
/// (`C:\emu\`).
pub fn dos_path_to_nt(path: &str) -> Option<String> {
    if path.is_empty() {
        return None;
    }
    if let Some(rest) = path.strip_prefix(r"\\?\") {
        return Some(format!(r"\??\{rest}"));
    }
    let path = path.replace('/', "\\");
    if let Some(rest) = path.strip_prefix(r"\\.\") {
        return Some(format!(r"\??\{rest}"));
    }
    if let Some(rest) = path.strip_prefix(r"\\") {
        return Some(format!(r"\??\UNC\{rest}"));
    }
    let b = path.as_bytes();
    if b.len() >= 2 && b[1] == b':' {
        return Some(format!(r"\??\{path}"));
    }
    if let Some(rest) = path.strip_prefix('\\') {
        return Some(format!(r"\??\C:\{rest}"));
    }
    Some(format!(r"\??\C:\emu\{path}"))
}

/// OBJECT_ATTRIBUTES, its UNICODE_STRING and the name, in one block of user memory.
pub struct Attributes {
    pub mem: UserMem,
}

impl Attributes {
    pub const NAME_STRING: usize = oa::SIZE;
    const TEXT: usize = oa::SIZE + 16;

    /// `length` overrides UNICODE_STRING.Length; `attributes_length` OBJECT_ATTRIBUTES.Length.
    pub fn new(
        name: Option<&str>,
        length: Option<u16>,
        root: u64,
        attributes_length: Option<u32>,
        attributes: u32,
    ) -> Attributes {
        let units: Vec<u16> = name.map(|n| n.encode_utf16().collect()).unwrap_or_default();
        let mem = UserMem::new(Self::TEXT + units.len() * 2 + 2);
        let bytes = (units.len() * 2).min(0xFFFE) as u16;
        let mut head = vec![0u8; Self::TEXT];
        head[..4].copy_from_slice(&attributes_length.unwrap_or(oa::SIZE as u32).to_le_bytes());
        head[oa::ROOT_DIRECTORY..oa::ROOT_DIRECTORY + 8].copy_from_slice(&root.to_le_bytes());
        if name.is_some() {
            head[oa::OBJECT_NAME..oa::OBJECT_NAME + 8]
                .copy_from_slice(&((mem.addr + Self::NAME_STRING) as u64).to_le_bytes());
        }
        head[oa::ATTRIBUTES..oa::ATTRIBUTES + 4].copy_from_slice(&attributes.to_le_bytes());
        let us = Self::NAME_STRING;
        head[us..us + 2].copy_from_slice(&length.unwrap_or(bytes).to_le_bytes());
        head[us + 2..us + 4].copy_from_slice(&bytes.to_le_bytes());
        head[us + 8..us + 16].copy_from_slice(&((mem.addr + Self::TEXT) as u64).to_le_bytes());
        mem.write(0, &head);
        let text: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
        mem.write(Self::TEXT, &text);
        Attributes { mem }
    }

    pub fn addr(&self) -> usize {
        self.mem.addr
    }
}

/// A handle, an IOSB and a timeout in user memory for a create.
pub struct CreateBlocks {
    pub mem: UserMem,
}

impl CreateBlocks {
    pub const HANDLE: usize = 0;
    pub const IOSB: usize = 8;
    pub const TIMEOUT: usize = 24;

    pub fn new(iosb_mark: (i32, usize)) -> CreateBlocks {
        let mem = UserMem::new(32);
        mem.write(Self::IOSB, &iosb_mark.0.to_le_bytes());
        mem.write(Self::IOSB + 8, &(iosb_mark.1 as u64).to_le_bytes());
        CreateBlocks { mem }
    }

    pub fn at(&self, offset: usize) -> usize {
        self.mem.addr + offset
    }

    pub fn iosb(&self) -> (i32, usize) {
        (
            self.mem.u32_at(Self::IOSB) as i32,
            self.mem.u64_at(Self::IOSB + 8) as usize,
        )
    }
}

/// kernel32 for one process.
pub struct Kernel32 {
    pub process: Arc<Process>,
    pub variant: Variant,
}

/// An overlapped ReadFile's OVERLAPPED, buffer and event, in the process's memory.
pub struct OverlappedBlocks {
    pub ov: UserMem,
    pub buf: UserMem,
    pub event: u64,
}

impl Kernel32 {
    pub fn new(process: Arc<Process>, variant: Variant) -> Kernel32 {
        Kernel32 { process, variant }
    }

    pub fn caller(&self) -> Caller<'_> {
        Caller {
            process: &self.process,
            mode: Mode::User,
        }
    }

    pub fn create_mailslot(
        &self,
        name: Option<&str>,
        max: u32,
        timeout_ms: u32,
    ) -> Result<u64, u32> {
        self.create_mailslot_secured(name, max, timeout_ms, None)
    }

    /// CreateMailslotW with `lpSecurityAttributes` naming `descriptor` (self-relative), which
    /// kernel32 passes on as OBJECT_ATTRIBUTES.SecurityDescriptor.
    pub fn create_mailslot_secured(
        &self,
        name: Option<&str>,
        max: u32,
        timeout_ms: u32,
        descriptor: Option<&[u8]>,
    ) -> Result<u64, u32> {
        let Some(nt) = name.and_then(dos_path_to_nt) else {
            return Err(ERROR_PATH_NOT_FOUND);
        };
        let attrs = Attributes::new(Some(&nt), None, 0, None, OBJ_CASE_INSENSITIVE);
        let sd = descriptor.map(UserMem::with);
        if let Some(sd) = &sd {
            attrs
                .mem
                .write(oa::SECURITY_DESCRIPTOR, &(sd.addr as u64).to_le_bytes());
        }
        let blocks = CreateBlocks::new((0, 0));
        let timeout: i64 = if timeout_ms == MAILSLOT_WAIT_FOREVER {
            -1
        } else {
            i64::from(timeout_ms) * -10_000
        };
        blocks
            .mem
            .write(CreateBlocks::TIMEOUT, &timeout.to_le_bytes());
        let status = nt_create(
            &self.process,
            Mode::User,
            &CreateArgs {
                handle_out: blocks.at(CreateBlocks::HANDLE),
                access: self.variant.mailslot_access(),
                attributes: attrs.addr(),
                iosb: blocks.at(CreateBlocks::IOSB),
                allocation_size: 0,
                file_attributes: 0,
                share: FILE_SHARE_READ | FILE_SHARE_WRITE,
                disposition: FILE_CREATE,
                options: self.variant.mailslot_options(),
                mailslot: Some(MailslotArgs {
                    quota: 0,
                    max_message_size: max,
                    read_timeout: blocks.at(CreateBlocks::TIMEOUT),
                }),
                force_access_check: false,
            },
        );
        let status = if status == STATUS_INVALID_DEVICE_REQUEST || status == STATUS_NOT_SUPPORTED {
            STATUS_OBJECT_NAME_INVALID
        } else {
            status
        };
        if status < 0 {
            return Err(dos_error(status));
        }
        Ok(blocks.mem.u64_at(CreateBlocks::HANDLE))
    }

    /// CreateFileW(path, access, share, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL [|
    /// FILE_FLAG_OVERLAPPED], NULL).
    pub fn create_file(
        &self,
        path: &str,
        access: u32,
        share: u32,
        overlapped: bool,
    ) -> Result<u64, u32> {
        let Some(nt) = dos_path_to_nt(path) else {
            return Err(ERROR_PATH_NOT_FOUND);
        };
        let attrs = Attributes::new(Some(&nt), None, 0, None, OBJ_CASE_INSENSITIVE);
        let blocks = CreateBlocks::new((0, 0));
        let mut options = FILE_NON_DIRECTORY_FILE;
        if !overlapped {
            options |= FILE_SYNCHRONOUS_IO_NONALERT;
        }
        let status = nt_create(
            &self.process,
            Mode::User,
            &CreateArgs {
                handle_out: blocks.at(CreateBlocks::HANDLE),
                access: access | SYNCHRONIZE | FILE_READ_ATTRIBUTES,
                attributes: attrs.addr(),
                iosb: blocks.at(CreateBlocks::IOSB),
                allocation_size: 0,
                file_attributes: FILE_ATTRIBUTE_NORMAL,
                share,
                disposition: FILE_OPEN,
                options,
                mailslot: None,
                force_access_check: false,
            },
        );
        if status < 0 {
            return Err(dos_error(status));
        }
        Ok(blocks.mem.u64_at(CreateBlocks::HANDLE))
    }

    /// ReadFile without OVERLAPPED: NtReadFile without a byte offset; if it pends, a wait on
    /// the file handle, then the status block's status.
    pub fn read_file(&self, h: u64, len: usize) -> Result<Vec<u8>, (u32, u32)> {
        let buf = UserMem::new(len);
        let iosb = UserMem::new(16);
        let mut status = nt_read_file(self.caller(), h, 0, iosb.addr, buf.addr, len as u32, 0, 0);
        if status == STATUS_PENDING {
            let w = services::nt_wait(&self.process, h, None);
            status = if w == 0 { iosb.u32_at(0) as i32 } else { w };
        }
        if status >= 0 {
            let n = iosb.u64_at(8) as usize;
            return Ok(buf.read(0, n.min(len)));
        }
        if status == STATUS_END_OF_FILE {
            return Ok(Vec::new());
        }
        Err((dos_error(status), 0))
    }

    pub fn write_file(&self, h: u64, data: &[u8]) -> Result<u32, u32> {
        let buf = UserMem::with(data);
        let iosb = UserMem::new(16);
        let mut status = nt_write_file(
            self.caller(),
            h,
            0,
            iosb.addr,
            buf.addr,
            data.len() as u32,
            0,
            0,
        );
        if status == STATUS_PENDING {
            let w = services::nt_wait(&self.process, h, None);
            status = if w == 0 { iosb.u32_at(0) as i32 } else { w };
        }
        if status >= 0 {
            Ok(iosb.u64_at(8) as u32)
        } else {
            Err(dos_error(status))
        }
    }

    /// ReadFile with an OVERLAPPED (with its own manual-reset event): the call's result (the
    /// bytes when it completed at once, ERROR_IO_PENDING when it pends) and its blocks.
    pub fn read_file_overlapped(&self, h: u64, len: usize) -> (Result<u32, u32>, OverlappedBlocks) {
        let event = services::nt_create_event(&self.process, true, false);
        let ov = UserMem::new(32);
        let buf = UserMem::new(len);
        ov.write(0, &(STATUS_PENDING as u32).to_le_bytes());
        ov.write(24, &event.to_le_bytes());
        let status = nt_read_file(
            self.caller(),
            h,
            event,
            ov.addr,
            buf.addr,
            len as u32,
            ov.addr + 16,
            0,
        );
        let blocks = OverlappedBlocks { ov, buf, event };
        let r = if status == STATUS_PENDING || status < 0 {
            Err(dos_error(status))
        } else {
            Ok(blocks.ov.u64_at(8) as u32)
        };
        (r, blocks)
    }

    /// GetOverlappedResult(h, ov, &n, wait).
    pub fn get_overlapped_result(
        &self,
        h: u64,
        b: &OverlappedBlocks,
        wait: bool,
    ) -> Result<u32, u32> {
        if b.ov.u32_at(0) as i32 == STATUS_PENDING {
            if !wait {
                return Err(ERROR_IO_INCOMPLETE);
            }
            let target = if b.event != 0 { b.event } else { h };
            services::nt_wait(&self.process, target, None);
        }
        let status = b.ov.u32_at(0) as i32;
        if status < 0 {
            Err(dos_error(status))
        } else {
            Ok(b.ov.u64_at(8) as u32)
        }
    }

    /// CancelIoEx(h, ov).
    pub fn cancel_io_ex(&self, h: u64, ov: usize) -> Result<(), u32> {
        let iosb = UserMem::new(16);
        let status = services::nt_cancel_io_file_ex(&self.process, h, ov, iosb.addr);
        if status < 0 {
            Err(dos_error(status))
        } else {
            Ok(())
        }
    }

    /// GetMailslotInfo (every output non-NULL).
    pub fn get_mailslot_info(&self, h: u64) -> Result<(u32, u32, u32, u32), u32> {
        let buf = UserMem::new(24);
        let iosb = UserMem::new(16);
        let status = info::nt_query_information_file(self.caller(), h, iosb.addr, buf.addr, 24, 26);
        if status < 0 {
            return Err(dos_error(status));
        }
        let raw = buf.u64_at(16) as i64;
        let timeout = if raw == -1 {
            MAILSLOT_WAIT_FOREVER
        } else {
            let ms = raw.wrapping_neg() / 10_000;
            // A value too large for a DWORD reads back as 0xFFFFFFFE (ReactOS).
            u32::try_from(ms).unwrap_or(0xFFFF_FFFE)
        };
        Ok((buf.u32_at(0), buf.u32_at(8), buf.u32_at(12), timeout))
    }

    pub fn set_mailslot_info(&self, h: u64, timeout_ms: u32) -> Result<(), u32> {
        let timeout: i64 = if timeout_ms == MAILSLOT_WAIT_FOREVER {
            -1
        } else {
            i64::from(timeout_ms) * -10_000
        };
        let (_value, set) = mailslot_set_information(&self.process, timeout);
        let iosb = UserMem::new(16);
        let length = set.len as u32;
        let status =
            info::nt_set_information_file(self.caller(), h, iosb.addr, set.addr, length, 27);
        if status < 0 {
            Err(dos_error(status))
        } else {
            Ok(())
        }
    }

    /// FlushFileBuffers: NtFlushBuffersFile.
    pub fn flush_file_buffers(&self, h: u64) -> Result<(), u32> {
        let iosb = UserMem::new(16);
        let status = security::nt_flush_buffers_file(self.caller(), h, iosb.addr);
        if status >= 0 {
            Ok(())
        } else {
            Err(dos_error(status))
        }
    }

    /// GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION): the owner SID as a
    /// string.
    pub fn security_owner(&self, h: u64) -> Result<String, u32> {
        const OWNER_SECURITY_INFORMATION: u32 = 1;
        let sd = self.security_info(h, OWNER_SECURITY_INFORMATION)?;
        let owner = sd
            .get(4..8)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        sd.get(owner as usize..)
            .and_then(|b| Sid::from_bytes(b).map(|(sid, _)| format!("{sid:?}")))
            .ok_or(1338) // ERROR_INVALID_SECURITY_DESCR
    }

    /// SetSecurityInfo(h, SE_FILE_OBJECT, information, ...) with the parts taken from the
    /// self-relative descriptor `sd`, as advapi32 passes them to NtSetSecurityObject.
    pub fn set_security_info(&self, h: u64, information: u32, sd: &[u8]) -> Result<(), u32> {
        let buf = UserMem::new(sd.len().max(1));
        buf.write(0, sd);
        match security::nt_set_security_object(self.caller(), h, information, buf.addr) {
            s if s < 0 => Err(dos_error(s)),
            _ => Ok(()),
        }
    }

    /// GetSecurityInfo(h, SE_FILE_OBJECT, information): the self-relative descriptor
    /// NtQuerySecurityObject returns, sized by a first call, as advapi32 makes it.
    pub fn security_info(&self, h: u64, information: u32) -> Result<Vec<u8>, u32> {
        let needed = UserMem::new(4);
        let mut len = 0usize;
        for _ in 0..2 {
            let buf = UserMem::new(len.max(1));
            let status = security::nt_query_security_object(
                self.caller(),
                h,
                information,
                buf.addr,
                len as u32,
                needed.addr,
            );
            if status == crate::io::STATUS_BUFFER_TOO_SMALL && len == 0 {
                len = needed.u32_at(0) as usize;
                continue;
            }
            if status < 0 {
                return Err(dos_error(status));
            }
            return Ok(buf.read(0, len));
        }
        Err(dos_error(crate::io::STATUS_BUFFER_TOO_SMALL))
    }

    pub fn close_handle(&self, h: u64) -> Result<(), u32> {
        match services::nt_close(&self.process, h) {
            s if s < 0 => Err(dos_error(s)),
            _ => Ok(()),
        }
    }

    pub fn duplicate_handle(&self, h: u64) -> Result<u64, u32> {
        services::nt_duplicate(&self.process, h).map_err(dos_error)
    }

    /// WaitForSingleObject: 0, WAIT_TIMEOUT or WAIT_FAILED.
    pub fn wait_for_single_object(&self, h: u64, ms: u32) -> u32 {
        let timeout = (ms != 0xFFFF_FFFF).then(|| Duration::from_millis(u64::from(ms)));
        match services::nt_wait(&self.process, h, timeout) {
            0 => 0,
            services::STATUS_TIMEOUT => WAIT_TIMEOUT,
            _ => WAIT_FAILED,
        }
    }
}

/// FILE_MAILSLOT_SET_INFORMATION as `process` lays it out: a pointer to the timeout, 8 bytes,
/// or 4 in a 32-bit process (whose timeout then lies below 4 GiB). The timeout's block first:
/// it must outlive the call.
pub fn mailslot_set_information(process: &Process, timeout: i64) -> (UserMem, UserMem) {
    if process.wow64 {
        let value = UserMem::below_4g(8);
        value.write(0, &timeout.to_le_bytes());
        let pointer = u32::try_from(value.addr).expect("a WoW64 block lies below 4 GiB");
        let set = UserMem::with(&pointer.to_le_bytes());
        (value, set)
    } else {
        let value = UserMem::with(&timeout.to_le_bytes());
        let set = UserMem::with(&(value.addr as u64).to_le_bytes());
        (value, set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dos_paths() {
        assert_eq!(
            dos_path_to_nt(r"\\.\RsMailslot\a\b").as_deref(),
            Some(r"\??\RsMailslot\a\b")
        );
        assert_eq!(
            dos_path_to_nt(r"\\.\mailslot\x").as_deref(),
            Some(r"\??\mailslot\x")
        );
        assert_eq!(dos_path_to_nt("blah").as_deref(), Some(r"\??\C:\emu\blah"));
        assert_eq!(
            dos_path_to_nt(r"\\server\mailslot\x").as_deref(),
            Some(r"\??\UNC\server\mailslot\x")
        );
        assert_eq!(dos_path_to_nt(""), None);
    }

    #[test]
    fn variants_differ_only_where_the_sources_do() {
        assert_eq!(
            Variant::ReactOs.mailslot_access() & !WRITE_DAC,
            Variant::Wine.mailslot_access()
        );
        assert_eq!(Variant::Wine.mailslot_options(), 0);
        assert_eq!(dos_error(0xC000_0033u32 as i32), 123);
        assert_eq!(dos_error(0x1234), 317);
    }
}
