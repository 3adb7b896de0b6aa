//! The system the table calls.
//!
//! Rows never call Windows directly: they call a [`System`], of which there are two. `sys`
//! (Windows only) makes the real kernel32 and ntdll calls, against native MSFS or the driver on
//! a Windows machine. `ntemu` (Linux) makes the same calls against an emulated NT kernel that
//! runs the real `rsmailslot.sys`. A row is written once and means the same on both.
//!
//! [`Api`] is what rows hold: it wraps each call so that a handle a row receives is an owned
//! [`Handle`], closed when the row drops it.

use std::fmt;

/// A handle value as the API sees it (pointer-sized).
pub type RawHandle = u64;

/// `INVALID_HANDLE_VALUE`, which is also `NtCurrentProcess()`.
pub const INVALID_HANDLE_VALUE: RawHandle = u64::MAX;
/// A value no handle table hands out, for the "bad root handle" rows.
pub const BAD_HANDLE: RawHandle = 0x000D_EAD0;

pub const STATUS_PENDING: i32 = 0x103;
/// The `status` of an NT call that did not return within two seconds (not an NTSTATUS any call
/// returns).
pub const BLOCKED_STATUS: i32 = 0x7FFF_FFFF;
/// A pseudo error code: the call blocked instead of returning (no pending I/O was reported).
pub const BLOCKED: u32 = 0xFFFF_FFFF;
pub const NO_MESSAGE: u32 = 0xFFFF_FFFF;

pub const FILE_OPEN: u32 = 1;
pub const FILE_OPEN_IF: u32 = 3;

/// A status block value no call writes: what "IOSB untouched" compares with. Every system
/// fills a status block with it before a call.
pub const IOSB_STATUS_MARK: i32 = 0x1BAD_F00Du32 as i32;
pub const IOSB_INFO_MARK: usize = 0xDEAD_BEEF;

/// GetMailslotInfo's four outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    pub max: u32,
    pub next: u32,
    pub count: u32,
    pub timeout: u32,
}

/// An IO_STATUS_BLOCK as read back after a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Iosb {
    pub status: i32,
    pub information: usize,
}

impl Iosb {
    pub const MARKED: Iosb = Iosb {
        status: IOSB_STATUS_MARK,
        information: IOSB_INFO_MARK,
    };

    pub fn untouched(&self) -> bool {
        *self == Iosb::MARKED
    }

    pub fn describe(&self) -> String {
        if self.untouched() {
            "untouched".into()
        } else {
            format!(
                "{{{}, {}}}",
                crate::codes::status(self.status),
                self.information
            )
        }
    }
}

/// How an NT create names its object; the defaults are a well-formed absolute name.
#[derive(Clone, Debug)]
pub struct NtName<'a> {
    pub name: Option<&'a str>,
    /// Overrides UNICODE_STRING.Length (bytes), for odd and oversize lengths.
    pub length: Option<u16>,
    pub root: RawHandle,
    /// Overrides OBJECT_ATTRIBUTES.Length.
    pub attributes_length: Option<u32>,
    /// Passes NULL for the OBJECT_ATTRIBUTES.
    pub null_attributes: bool,
}

impl<'a> NtName<'a> {
    pub fn path(name: &'a str) -> NtName<'a> {
        NtName {
            name: Some(name),
            length: None,
            root: 0,
            attributes_length: None,
            null_attributes: false,
        }
    }
}

/// An overlapped ReadFile in flight (or finished).
pub trait OverlappedRead: Send {
    /// ReadFile's own result: Ok(bytes) when it completed at once, Err(ERROR_IO_PENDING) when
    /// it pends, Err([`BLOCKED`]) when it did neither within two seconds.
    fn started(&self) -> Result<u32, u32>;
    /// Waits up to `ms` for the read; the final result (bytes or error) once it is over.
    fn wait(&mut self, ms: u32) -> Option<Result<Vec<u8>, u32>>;
    /// True while the read has not completed.
    fn is_pending(&self) -> bool;
    /// CancelIoEx for this read; the API's own result.
    fn cancel(&self) -> Result<(), u32>;
}

/// An NT I/O call that may pend, owning its status block and buffers.
pub trait NtIo: Send {
    /// The call's return value; [`BLOCKED_STATUS`] when it did not return within two seconds.
    fn status(&self) -> i32;
    /// The status block as it is now.
    fn iosb(&self) -> Iosb;
    /// Waits up to `ms` for a pended (or blocked) call; true once it is over.
    fn wait(&mut self, ms: u32) -> bool;
    /// The output buffer.
    fn buf(&self) -> Vec<u8>;
    /// The second caller buffer (an FSCTL's input), as it is now.
    fn aux(&self) -> Vec<u8>;

    /// The final status: the call's own, or the status block's for a call that pended.
    fn final_status(&self) -> i32 {
        let s = self.status();
        if s == STATUS_PENDING || s == BLOCKED_STATUS {
            self.iosb().status
        } else {
            s
        }
    }

    /// The bytes the call reported, per the status block.
    fn data(&self) -> Vec<u8> {
        let mut b = self.buf();
        b.truncate(self.iosb().information.min(b.len()));
        b
    }
}

/// What the host is, for the report's header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostInfo {
    /// `Windows`, `Wine 8.0`, or the emulated system's description.
    pub host: String,
    pub windows_version: String,
    /// True under Wine (its known divergences apply to the native namespace).
    pub wine: bool,
    /// The calling process's pointer size: 4 for a 32-bit process (WoW64 on 64-bit Windows),
    /// whose structures holding pointers are laid out with 4-byte ones.
    pub pointer_bytes: usize,
}

/// The calls the table makes. Errors are Win32 error codes for kernel32 calls and NTSTATUS
/// values for ntdll calls, exactly as the system reports them.
pub trait System: Sync {
    fn host(&self) -> HostInfo;

    // kernel32
    fn create_mailslot(
        &self,
        name: Option<&str>,
        max: u32,
        timeout_ms: u32,
    ) -> Result<RawHandle, u32>;
    /// CreateFileW(OPEN_EXISTING), as a mailslot client opens; `overlapped` adds
    /// FILE_FLAG_OVERLAPPED.
    fn create_file(
        &self,
        path: &str,
        access: u32,
        share: u32,
        overlapped: bool,
    ) -> Result<RawHandle, u32>;
    /// A synchronous ReadFile. Errors carry the byte count ReadFile reported with them.
    fn read_file(&self, h: RawHandle, len: usize) -> Result<Vec<u8>, (u32, u32)>;
    /// A synchronous WriteFile (no OVERLAPPED); the bytes written.
    fn write_file(&self, h: RawHandle, data: &[u8]) -> Result<u32, u32>;
    fn get_mailslot_info(&self, h: RawHandle) -> Result<Info, u32>;
    /// GetMailslotInfo with every output NULL.
    fn get_mailslot_info_null(&self, h: RawHandle) -> Result<(), u32>;
    fn set_mailslot_info(&self, h: RawHandle, timeout_ms: u32) -> Result<(), u32>;
    fn close_handle(&self, h: RawHandle);
    /// DuplicateHandle within the process, same access.
    fn duplicate_handle(&self, h: RawHandle) -> Result<RawHandle, u32>;
    /// WaitForSingleObject's result (WAIT_OBJECT_0 = 0, WAIT_TIMEOUT = 258).
    fn wait(&self, h: RawHandle, ms: u32) -> u32;
    /// The Win32 error kernel32 reports for a status (RtlNtStatusToDosError).
    fn dos_error(&self, status: i32) -> u32;
    /// An overlapped ReadFile (with its own event).
    fn read_overlapped(&self, h: RawHandle, len: usize) -> Box<dyn OverlappedRead + '_>;
    /// FlushFileBuffers.
    fn flush(&self, h: RawHandle) -> Result<(), u32>;
    /// GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION): the owner's SID string.
    fn security_owner(&self, h: RawHandle) -> Result<String, u32>;
    /// CreateMailslotW(name, 0, 0) with a SECURITY_ATTRIBUTES holding the descriptor the SDDL
    /// string describes.
    fn create_mailslot_sddl(&self, name: &str, sddl: &str) -> Result<RawHandle, u32>;
    /// SetKernelObjectSecurity(h, information, the descriptor `sddl` describes).
    fn set_security_sddl(&self, h: RawHandle, information: u32, sddl: &str) -> Result<(), u32>;
    /// GetSecurityInfo(h, SE_FILE_OBJECT, information), as an SDDL string.
    fn security_sddl(&self, h: RawHandle, information: u32) -> Result<String, u32>;

    // ntdll
    /// NtCreateMailslotFile; `timeout` None passes a NULL ReadTimeout. The handle on success.
    fn nt_create_mailslot(
        &self,
        n: &NtName<'_>,
        access: u32,
        options: u32,
        quota: u32,
        max: u32,
        timeout: Option<i64>,
    ) -> (i32, Option<RawHandle>, Iosb);
    /// NtCreateFile with the given disposition and options.
    fn nt_create_file(
        &self,
        n: &NtName<'_>,
        access: u32,
        share: u32,
        disposition: u32,
        options: u32,
    ) -> (i32, Option<RawHandle>, Iosb);
    /// NtReadFile; `with_event` false makes the I/O manager signal the file object instead.
    fn nt_read(&self, h: RawHandle, len: usize, with_event: bool) -> Box<dyn NtIo + '_>;
    fn nt_write(&self, h: RawHandle, data: &[u8]) -> Box<dyn NtIo + '_>;
    /// NtFsControlFile with a copy of `input` and an output buffer of `out_len` bytes.
    fn nt_fsctl(&self, h: RawHandle, code: u32, input: &[u8], out_len: usize)
        -> Box<dyn NtIo + '_>;
    fn nt_query_directory(
        &self,
        h: RawHandle,
        class: i32,
        len: usize,
        single: bool,
        pattern: Option<&str>,
        restart: bool,
    ) -> Box<dyn NtIo + '_>;
    fn nt_query_information(&self, h: RawHandle, class: i32, len: usize) -> (i32, Iosb, Vec<u8>);
    fn nt_set_information(&self, h: RawHandle, class: i32, data: &[u8]) -> (i32, Iosb);
    /// NtSetInformationFile(FileMailslotSetInformation) with a pointer to `timeout` in the
    /// caller's memory, as the structure requires.
    fn nt_set_mailslot_timeout(&self, h: RawHandle, timeout: i64) -> (i32, Iosb);
    fn nt_query_volume(&self, h: RawHandle, class: i32, len: usize) -> (i32, Iosb, Vec<u8>);
}

/// An owned handle, closed when dropped.
pub struct Handle<'s> {
    api: Api<'s>,
    raw: RawHandle,
}

impl fmt::Debug for Handle<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({:#x})", self.raw)
    }
}

impl<'s> Handle<'s> {
    pub fn raw(&self) -> RawHandle {
        self.raw
    }

    /// Another handle to the same object (DuplicateHandle, same access).
    pub fn duplicate(&self) -> Result<Handle<'s>, u32> {
        let raw = self.api.0.duplicate_handle(self.raw)?;
        Ok(Handle { api: self.api, raw })
    }
}

impl Drop for Handle<'_> {
    fn drop(&mut self) {
        if self.raw != 0 && self.raw != INVALID_HANDLE_VALUE {
            self.api.0.close_handle(self.raw);
        }
    }
}

/// An NT create's result: status, handle on success, status block.
#[derive(Debug)]
pub struct NtCreated<'s> {
    pub status: i32,
    pub handle: Option<Handle<'s>>,
    pub iosb: Iosb,
}

/// What rows hold: the system, with calls that hand out owned handles.
#[derive(Clone, Copy)]
pub struct Api<'s>(pub &'s dyn System);

impl<'s> Api<'s> {
    fn own(self, raw: RawHandle) -> Handle<'s> {
        Handle { api: self, raw }
    }

    pub fn host(self) -> HostInfo {
        self.0.host()
    }

    pub fn create_mailslot(
        self,
        name: Option<&str>,
        max: u32,
        timeout_ms: u32,
    ) -> Result<Handle<'s>, u32> {
        self.0
            .create_mailslot(name, max, timeout_ms)
            .map(|h| self.own(h))
    }

    pub fn open(
        self,
        path: &str,
        access: u32,
        share: u32,
        overlapped: bool,
    ) -> Result<Handle<'s>, u32> {
        self.0
            .create_file(path, access, share, overlapped)
            .map(|h| self.own(h))
    }

    pub fn read(self, h: RawHandle, len: usize) -> Result<Vec<u8>, (u32, u32)> {
        self.0.read_file(h, len)
    }

    pub fn write(self, h: RawHandle, data: &[u8]) -> Result<u32, u32> {
        self.0.write_file(h, data)
    }

    pub fn info(self, h: RawHandle) -> Result<Info, u32> {
        self.0.get_mailslot_info(h)
    }

    pub fn info_null_outputs(self, h: RawHandle) -> Result<(), u32> {
        self.0.get_mailslot_info_null(h)
    }

    pub fn set_timeout(self, h: RawHandle, ms: u32) -> Result<(), u32> {
        self.0.set_mailslot_info(h, ms)
    }

    pub fn wait_result(self, h: RawHandle, ms: u32) -> u32 {
        self.0.wait(h, ms)
    }

    pub fn dos_error(self, status: i32) -> u32 {
        self.0.dos_error(status)
    }

    pub fn read_overlapped(self, h: RawHandle, len: usize) -> Box<dyn OverlappedRead + 's> {
        self.0.read_overlapped(h, len)
    }

    pub fn flush(self, h: RawHandle) -> Result<(), u32> {
        self.0.flush(h)
    }

    pub fn security_owner(self, h: RawHandle) -> Result<String, u32> {
        self.0.security_owner(h)
    }

    pub fn create_mailslot_sddl(self, name: &str, sddl: &str) -> Result<Handle<'s>, u32> {
        self.0.create_mailslot_sddl(name, sddl).map(|h| self.own(h))
    }

    pub fn set_security_sddl(self, h: RawHandle, information: u32, sddl: &str) -> Result<(), u32> {
        self.0.set_security_sddl(h, information, sddl)
    }

    pub fn security_sddl(self, h: RawHandle, information: u32) -> Result<String, u32> {
        self.0.security_sddl(h, information)
    }

    pub fn nt_create_mailslot(
        self,
        n: &NtName<'_>,
        access: u32,
        options: u32,
        quota: u32,
        max: u32,
        timeout: Option<i64>,
    ) -> NtCreated<'s> {
        let (status, h, iosb) = self
            .0
            .nt_create_mailslot(n, access, options, quota, max, timeout);
        NtCreated {
            status,
            handle: h.map(|h| self.own(h)),
            iosb,
        }
    }

    pub fn nt_open(
        self,
        n: &NtName<'_>,
        access: u32,
        share: u32,
        disposition: u32,
        options: u32,
    ) -> NtCreated<'s> {
        let (status, h, iosb) = self
            .0
            .nt_create_file(n, access, share, disposition, options);
        NtCreated {
            status,
            handle: h.map(|h| self.own(h)),
            iosb,
        }
    }

    pub fn nt_read(self, h: RawHandle, len: usize, with_event: bool) -> Box<dyn NtIo + 's> {
        self.0.nt_read(h, len, with_event)
    }

    pub fn nt_write(self, h: RawHandle, data: &[u8]) -> Box<dyn NtIo + 's> {
        self.0.nt_write(h, data)
    }

    pub fn nt_fsctl(
        self,
        h: RawHandle,
        code: u32,
        input: &[u8],
        out_len: usize,
    ) -> Box<dyn NtIo + 's> {
        self.0.nt_fsctl(h, code, input, out_len)
    }

    pub fn nt_query_directory(
        self,
        h: RawHandle,
        class: i32,
        len: usize,
        single: bool,
        pattern: Option<&str>,
        restart: bool,
    ) -> Box<dyn NtIo + 's> {
        self.0
            .nt_query_directory(h, class, len, single, pattern, restart)
    }

    pub fn nt_query_information(
        self,
        h: RawHandle,
        class: i32,
        len: usize,
    ) -> (i32, Iosb, Vec<u8>) {
        self.0.nt_query_information(h, class, len)
    }

    pub fn nt_set_information(self, h: RawHandle, class: i32, data: &[u8]) -> (i32, Iosb) {
        self.0.nt_set_information(h, class, data)
    }

    pub fn nt_set_mailslot_timeout(self, h: RawHandle, timeout: i64) -> (i32, Iosb) {
        self.0.nt_set_mailslot_timeout(h, timeout)
    }

    pub fn nt_query_volume(self, h: RawHandle, class: i32, len: usize) -> (i32, Iosb, Vec<u8>) {
        self.0.nt_query_volume(h, class, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_status_blocks() {
        assert!(Iosb::MARKED.untouched());
        assert_eq!(Iosb::MARKED.describe(), "untouched");
        let written = Iosb {
            status: 0,
            information: 4,
        };
        assert!(!written.untouched());
        assert_eq!(written.describe(), "{STATUS_SUCCESS (0x00000000), 4}");
    }
}
