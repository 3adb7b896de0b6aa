//! The Windows calls the table makes, wrapped so a row reads like the sequence it checks.
//!
//! Every I/O that can pend keeps its status block, buffer and event on the heap, owned by a
//! value that, when dropped unfinished, cancels the I/O and waits for it; if the I/O still
//! does not finish, the memory is leaked rather than freed under a request that may write to
//! it later. A mailslot that pends where Windows would not must cost a row, never the harness.

// HANDLE is an opaque kernel handle that windows-sys types as a raw pointer; nothing here
// dereferences one (the kernel validates it and fails a bad one), so taking it is safe.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::ffi::c_void;
use std::mem::{self, size_of};
use std::ptr::{self, null, null_mut};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Wdk::Storage::FileSystem::{
    NtCreateFile, NtFsControlFile, NtQueryDirectoryFile, NtQueryInformationFile,
    NtQueryVolumeInformationFile, NtReadFile, NtSetInformationFile, NtWriteFile,
};
use windows_sys::Wdk::System::SystemServices::RtlGetVersion;
use windows_sys::Win32::Foundation::{
    CloseHandle, DuplicateHandle, GetLastError, RtlNtStatusToDosError, DUPLICATE_SAME_ACCESS,
    ERROR_IO_PENDING, HANDLE, INVALID_HANDLE_VALUE, NTSTATUS, UNICODE_STRING, WAIT_OBJECT_0,
};
use windows_sys::Win32::Storage::FileSystem::{
    CreateFileW, ReadFile, WriteFile, FILE_ATTRIBUTE_NORMAL, FILE_FLAG_OVERLAPPED, OPEN_EXISTING,
};
use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};
use windows_sys::Win32::System::Mailslots::{CreateMailslotW, GetMailslotInfo, SetMailslotInfo};
use windows_sys::Win32::System::SystemInformation::OSVERSIONINFOW;
use windows_sys::Win32::System::Threading::{CreateEventW, GetCurrentProcess, WaitForSingleObject};
use windows_sys::Win32::System::IO::{
    CancelIoEx, GetOverlappedResult, IO_STATUS_BLOCK, OVERLAPPED,
};

pub const STATUS_PENDING: i32 = 0x103;

#[link(name = "ntdll")]
extern "system" {
    // Not in windows-sys; the prototype is the WDK's (ntifs.h, NtCreateMailslotFile).
    fn NtCreateMailslotFile(
        handle: *mut HANDLE,
        access: u32,
        attributes: *const OBJECT_ATTRIBUTES,
        iosb: *mut IO_STATUS_BLOCK,
        options: u32,
        quota: u32,
        max_message_size: u32,
        read_timeout: *const i64,
    ) -> NTSTATUS;
}

/// A NUL-terminated UTF-16 copy of `s`.
pub fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(Some(0)).collect()
}

/// An owned kernel handle, closed when dropped.
#[derive(Debug)]
pub struct Handle(HANDLE);

// SAFETY: a kernel handle is valid in every thread of the process; the value only closes it
// once, on drop.
unsafe impl Send for Handle {}

impl Handle {
    pub fn raw(&self) -> HANDLE {
        self.0
    }

    /// Another handle to the same object (DuplicateHandle, same access).
    pub fn duplicate(&self) -> Result<Handle, u32> {
        let mut out = null_mut();
        // SAFETY: both process handles are the current-process pseudo handle, self.0 is a
        // handle this value owns, and `out` is a valid place for the result.
        let ok = unsafe {
            DuplicateHandle(
                GetCurrentProcess(),
                self.0,
                GetCurrentProcess(),
                &mut out,
                0,
                0,
                DUPLICATE_SAME_ACCESS,
            )
        };
        if ok != 0 {
            Ok(Handle(out))
        } else {
            Err(last_error())
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if !self.0.is_null() && self.0 != INVALID_HANDLE_VALUE {
            // SAFETY: the handle is owned by this value and closed exactly once, here.
            unsafe { CloseHandle(self.0) };
        }
    }
}

pub fn last_error() -> u32 {
    // SAFETY: no preconditions.
    unsafe { GetLastError() }
}

/// The Win32 error kernel32 would report for a status.
pub fn dos_error(status: i32) -> u32 {
    // SAFETY: a pure translation with no pointers.
    unsafe { RtlNtStatusToDosError(status) }
}

fn event() -> Handle {
    // SAFETY: a manual-reset, unnamed, non-signalled event; all pointers may be null.
    let h = unsafe { CreateEventW(null(), 1, 0, null()) };
    if h.is_null() {
        // Nothing in the table can run without events; stopping is the only honest outcome.
        eprintln!("CreateEventW failed: {}", last_error());
        std::process::exit(3);
    }
    Handle(h)
}

/// Waits for a handle's signal; true when it came within `ms`.
pub fn wait(h: HANDLE, ms: u32) -> bool {
    // SAFETY: waiting has no memory effects; a bad handle just fails.
    unsafe { WaitForSingleObject(h, ms) == WAIT_OBJECT_0 }
}

/// The WaitForSingleObject result itself (WAIT_OBJECT_0 = 0, WAIT_TIMEOUT = 258).
pub fn wait_result(h: HANDLE, ms: u32) -> u32 {
    // SAFETY: as in `wait`.
    unsafe { WaitForSingleObject(h, ms) }
}

// ---- kernel32 ------------------------------------------------------------------------------

/// CreateMailslotW; `None` passes a NULL name.
pub fn create_mailslot(name: Option<&str>, max: u32, timeout_ms: u32) -> Result<Handle, u32> {
    let w = name.map(wide);
    let p = w.as_ref().map_or(null(), |w| w.as_ptr());
    // SAFETY: `p` is null or a NUL-terminated string that outlives the call.
    let h = unsafe { CreateMailslotW(p, max, timeout_ms, null()) };
    if h == INVALID_HANDLE_VALUE {
        Err(last_error())
    } else {
        Ok(Handle(h))
    }
}

/// CreateFileW(OPEN_EXISTING), as a mailslot client opens; `overlapped` adds
/// FILE_FLAG_OVERLAPPED.
pub fn open(path: &str, access: u32, share: u32, overlapped: bool) -> Result<Handle, u32> {
    let w = wide(path);
    let flags = FILE_ATTRIBUTE_NORMAL | if overlapped { FILE_FLAG_OVERLAPPED } else { 0 };
    // SAFETY: `w` is NUL-terminated and outlives the call; other pointers are null.
    let h = unsafe {
        CreateFileW(
            w.as_ptr(),
            access,
            share,
            null(),
            OPEN_EXISTING,
            flags,
            null_mut(),
        )
    };
    if h == INVALID_HANDLE_VALUE {
        Err(last_error())
    } else {
        Ok(Handle(h))
    }
}

/// A synchronous ReadFile. Errors carry the byte count ReadFile reported with them.
pub fn read(h: HANDLE, len: usize) -> Result<Vec<u8>, (u32, u32)> {
    let mut buf = vec![0u8; len];
    let mut got = 0xFFFF_FFFFu32;
    // SAFETY: `buf` has `len` writable bytes and `got` is a valid u32; no OVERLAPPED, so the
    // call does not return before the read is over (kernel32 waits for a pended read).
    let ok = unsafe { ReadFile(h, buf.as_mut_ptr(), len as u32, &mut got, null_mut()) };
    if ok != 0 {
        buf.truncate(got as usize);
        Ok(buf)
    } else {
        Err((last_error(), got))
    }
}

/// A synchronous WriteFile; the bytes written.
pub fn write(h: HANDLE, data: &[u8]) -> Result<u32, u32> {
    let mut put = 0u32;
    // SAFETY: `data` is readable for its length and `put` is a valid u32; no OVERLAPPED.
    let ok = unsafe { WriteFile(h, data.as_ptr(), data.len() as u32, &mut put, null_mut()) };
    if ok != 0 {
        Ok(put)
    } else {
        Err(last_error())
    }
}

/// GetMailslotInfo's four outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    pub max: u32,
    pub next: u32,
    pub count: u32,
    pub timeout: u32,
}

pub const NO_MESSAGE: u32 = 0xFFFF_FFFF;

pub fn info(h: HANDLE) -> Result<Info, u32> {
    let mut i = Info {
        max: 0xAAAA_AAAA,
        next: 0xAAAA_AAAA,
        count: 0xAAAA_AAAA,
        timeout: 0xAAAA_AAAA,
    };
    // SAFETY: four valid u32 outputs.
    let ok = unsafe { GetMailslotInfo(h, &mut i.max, &mut i.next, &mut i.count, &mut i.timeout) };
    if ok != 0 {
        Ok(i)
    } else {
        Err(last_error())
    }
}

/// GetMailslotInfo with every output NULL.
pub fn info_null_outputs(h: HANDLE) -> Result<(), u32> {
    // SAFETY: the API accepts NULL for every output.
    let ok = unsafe { GetMailslotInfo(h, null_mut(), null_mut(), null_mut(), null_mut()) };
    if ok != 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

pub fn set_timeout(h: HANDLE, ms: u32) -> Result<(), u32> {
    // SAFETY: no pointers.
    if unsafe { SetMailslotInfo(h, ms) } != 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

/// A pseudo error code: the call blocked instead of returning (no pending I/O was reported).
pub const BLOCKED: u32 = 0xFFFF_FFFF;

/// How long a call that should return at once (it completes or pends) may block.
const START_LIMIT: Duration = Duration::from_secs(2);

/// Makes a call that should return at once on a helper thread, so a host that blocks in it
/// instead (Wine does for some mailslot reads) costs the row, not the run. The thread is
/// returned when the call has not come back within START_LIMIT.
fn start_bounded<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, JoinHandle<T>> {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let r = f();
        let _ = tx.send(());
        r
    });
    match rx.recv_timeout(START_LIMIT) {
        Ok(()) => thread.join().map_err(|_| unreachable_join()),
        Err(_) => Err(thread),
    }
}

fn unreachable_join<T>() -> JoinHandle<T> {
    // A helper thread only makes one foreign call and sends; it cannot panic. Should it ever,
    // stopping beats reporting a result that was never produced.
    eprintln!("usermode-test: a helper thread panicked");
    std::process::exit(3);
}

/// Waits up to `ms` for a blocked helper thread; its result once it has returned.
fn join_within<T>(slot: &mut Option<JoinHandle<T>>, ms: u32) -> Option<T> {
    let deadline = Instant::now() + Duration::from_millis(u64::from(ms));
    loop {
        if slot.as_ref().is_some_and(JoinHandle::is_finished) {
            return slot.take().and_then(|t| t.join().ok());
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// An overlapped ReadFile in flight (or finished), owning its OVERLAPPED and buffer.
pub struct Overlapped {
    file: HANDLE,
    ov: Box<OVERLAPPED>,
    buf: Vec<u8>,
    event: Handle,
    /// ReadFile's own result: Ok(bytes) when it completed at once, Err(ERROR_IO_PENDING) when
    /// it pends, Err(BLOCKED) when it did neither within two seconds.
    pub started: Result<u32, u32>,
    /// The helper thread still inside a blocked ReadFile.
    blocked: Option<JoinHandle<(i32, u32, u32)>>,
    finished: bool,
}

impl Overlapped {
    pub fn read(h: HANDLE, len: usize) -> Overlapped {
        let event = event();
        let mut ov: Box<OVERLAPPED> = Box::default();
        ov.hEvent = event.raw();
        let mut buf = vec![0u8; len];
        let (file, ovp, bufp) = (
            h as usize,
            &mut *ov as *mut OVERLAPPED as usize,
            buf.as_mut_ptr() as usize,
        );
        let call = move || {
            let mut got = 0u32;
            // SAFETY: `ov` and `buf` are heap blocks owned by the Overlapped, which frees them
            // only once the read is over (see Drop) and leaks them otherwise.
            let ok = unsafe {
                ReadFile(
                    file as HANDLE,
                    bufp as *mut u8,
                    len as u32,
                    &mut got,
                    ovp as *mut OVERLAPPED,
                )
            };
            (ok, got, last_error())
        };
        let (started, blocked) = match start_bounded(call) {
            Ok(r) => (Self::outcome(r), None),
            Err(thread) => (Err(BLOCKED), Some(thread)),
        };
        let finished = blocked.is_none() && started != Err(ERROR_IO_PENDING);
        Overlapped {
            file: h,
            ov,
            buf,
            event,
            started,
            blocked,
            finished,
        }
    }

    fn outcome((ok, got, err): (i32, u32, u32)) -> Result<u32, u32> {
        if ok != 0 {
            Ok(got)
        } else {
            Err(err)
        }
    }

    /// Waits up to `ms` for the read; the final result (bytes or error) once it is over.
    pub fn wait(&mut self, ms: u32) -> Option<Result<Vec<u8>, u32>> {
        if self.blocked.is_some() {
            // A blocked ReadFile that returns is a synchronous completion (or a late pend).
            match join_within(&mut self.blocked, ms).map(Self::outcome) {
                None => return None,
                Some(Err(ERROR_IO_PENDING)) => {}
                Some(r) => {
                    self.finished = true;
                    return Some(r.map(|n| self.bytes(n)));
                }
            }
        }
        if self.finished {
            if let Ok(n) = self.started {
                return Some(Ok(self.bytes(n)));
            }
        } else if !wait(self.event.raw(), ms) {
            return None;
        }
        let mut got = 0u32;
        // SAFETY: the OVERLAPPED is the one the read was started with; bWait = 0.
        let ok = unsafe { GetOverlappedResult(self.file, &*self.ov, &mut got, 0) };
        let result = if ok != 0 { Ok(got) } else { Err(last_error()) };
        if result == Err(windows_sys::Win32::Foundation::ERROR_IO_INCOMPLETE) {
            return None;
        }
        self.finished = true;
        Some(result.map(|n| self.bytes(n)))
    }

    fn bytes(&self, n: u32) -> Vec<u8> {
        self.buf[..(n as usize).min(self.buf.len())].to_vec()
    }

    /// True while the read has not completed.
    pub fn is_pending(&self) -> bool {
        if let Some(t) = &self.blocked {
            return !t.is_finished();
        }
        !self.finished && !wait(self.event.raw(), 0)
    }

    /// CancelIoEx for this read; the API's own result.
    pub fn cancel(&self) -> Result<(), u32> {
        // SAFETY: the OVERLAPPED identifies this read; a finished one makes the call fail.
        if unsafe { CancelIoEx(self.file, &*self.ov) } != 0 {
            Ok(())
        } else {
            Err(last_error())
        }
    }
}

impl Drop for Overlapped {
    fn drop(&mut self) {
        if self.blocked.is_none() && (self.finished || wait(self.event.raw(), 0)) {
            return;
        }
        let _ = self.cancel();
        let thread_done = self.blocked.is_none() || join_within(&mut self.blocked, 5000).is_some();
        if !thread_done
            || (self.blocked.is_none() && !self.finished && !wait(self.event.raw(), 5000))
        {
            eprintln!("warning: a read did not finish after CancelIoEx; its memory is leaked");
            mem::forget(mem::take(&mut self.buf));
            mem::forget(mem::take(&mut self.ov));
            mem::forget(mem::replace(&mut self.event, Handle(null_mut())));
        }
    }
}

// ---- ntdll ---------------------------------------------------------------------------------

/// A status block value no call writes: what "IOSB untouched" compares with.
const IOSB_STATUS_MARK: i32 = 0x1BAD_F00Du32 as i32;
const IOSB_INFO_MARK: usize = 0xDEAD_BEEF;

fn marked_iosb() -> IO_STATUS_BLOCK {
    let mut iosb = IO_STATUS_BLOCK::default();
    iosb.Anonymous.Status = IOSB_STATUS_MARK;
    iosb.Information = IOSB_INFO_MARK;
    iosb
}

/// An IO_STATUS_BLOCK as read back after a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Iosb {
    pub status: i32,
    pub information: usize,
}

impl Iosb {
    fn of(iosb: &IO_STATUS_BLOCK) -> Iosb {
        // SAFETY: both union members are plain integers; Status is what the kernel writes.
        Iosb {
            status: unsafe { iosb.Anonymous.Status },
            information: iosb.Information,
        }
    }

    pub fn untouched(&self) -> bool {
        self.status == IOSB_STATUS_MARK && self.information == IOSB_INFO_MARK
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

/// A UNICODE_STRING over `units` (no terminating NUL needed); lengths may be forced.
fn unicode(units: &[u16], length: Option<u16>) -> UNICODE_STRING {
    let bytes = (units.len() * 2).min(0xFFFE) as u16;
    UNICODE_STRING {
        Length: length.unwrap_or(bytes),
        MaximumLength: bytes,
        Buffer: units.as_ptr() as *mut u16,
    }
}

/// How an NT create names its object; the defaults are a well-formed absolute name.
pub struct NtName<'a> {
    pub name: Option<&'a str>,
    /// Overrides UNICODE_STRING.Length (bytes), for odd and oversize lengths.
    pub length: Option<u16>,
    pub root: HANDLE,
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
            root: null_mut(),
            attributes_length: None,
            null_attributes: false,
        }
    }
}

const OBJ_CASE_INSENSITIVE: u32 = 0x40;

fn with_attributes<R>(n: &NtName<'_>, f: impl FnOnce(*const OBJECT_ATTRIBUTES) -> R) -> R {
    let units: Vec<u16> = n
        .name
        .map(|s| s.encode_utf16().collect())
        .unwrap_or_default();
    let us = unicode(&units, n.length);
    let oa = OBJECT_ATTRIBUTES {
        Length: n
            .attributes_length
            .unwrap_or(size_of::<OBJECT_ATTRIBUTES>() as u32),
        RootDirectory: n.root,
        ObjectName: if n.name.is_some() { &us } else { null() },
        Attributes: OBJ_CASE_INSENSITIVE,
        SecurityDescriptor: null(),
        SecurityQualityOfService: null(),
    };
    f(if n.null_attributes { null() } else { &oa })
}

/// NtCreateMailslotFile's result: status, handle on success, status block.
pub struct NtCreated {
    pub status: i32,
    pub handle: Option<Handle>,
    pub iosb: Iosb,
}

/// NtCreateMailslotFile; `timeout` None passes a NULL ReadTimeout.
pub fn nt_create_mailslot(
    n: &NtName<'_>,
    access: u32,
    options: u32,
    quota: u32,
    max: u32,
    timeout: Option<i64>,
) -> NtCreated {
    let mut h: HANDLE = null_mut();
    let mut iosb = marked_iosb();
    let t = timeout.unwrap_or(0);
    let status = with_attributes(n, |oa| {
        // SAFETY: every pointer is valid for the call or deliberately null (the cases the row
        // checks); the handle and status block are local and written synchronously (a create
        // never pends).
        unsafe {
            NtCreateMailslotFile(
                &mut h,
                access,
                oa,
                &mut iosb,
                options,
                quota,
                max,
                if timeout.is_some() { &t } else { null() },
            )
        }
    });
    NtCreated {
        status,
        handle: (status >= 0).then_some(Handle(h)),
        iosb: Iosb::of(&iosb),
    }
}

pub const FILE_OPEN: u32 = 1;
pub const FILE_OPEN_IF: u32 = 3;

/// NtCreateFile with the given disposition and options.
pub fn nt_open(
    n: &NtName<'_>,
    access: u32,
    share: u32,
    disposition: u32,
    options: u32,
) -> NtCreated {
    let mut h: HANDLE = null_mut();
    let mut iosb = marked_iosb();
    let status = with_attributes(n, |oa| {
        // SAFETY: as in nt_create_mailslot; no allocation size and no EA buffer.
        unsafe {
            NtCreateFile(
                &mut h,
                access,
                oa,
                &mut iosb,
                null(),
                0,
                share,
                disposition,
                options,
                null(),
                0,
            )
        }
    });
    NtCreated {
        status,
        handle: (status >= 0).then_some(Handle(h)),
        iosb: Iosb::of(&iosb),
    }
}

/// An NT I/O call that may pend, with its status block, buffers and event on the heap.
pub struct NtIo {
    /// The call's return value; BLOCKED_STATUS when it did not return within two seconds.
    pub status: i32,
    file: HANDLE,
    iosb: Box<IO_STATUS_BLOCK>,
    pub buf: Vec<u8>,
    /// A second caller buffer (an FSCTL's input), kept alive like `buf`.
    pub aux: Vec<u8>,
    /// None: the call was made without an event, so completion signals the file object.
    event: Option<Handle>,
    blocked: Option<JoinHandle<i32>>,
    finished: bool,
}

/// The `status` of an NtIo whose call blocked (not an NTSTATUS any call returns).
pub const BLOCKED_STATUS: i32 = 0x7FFF_FFFF;

/// Addresses an NT call on a helper thread needs: (file, event, status block, buffer, its
/// length, auxiliary buffer, its length). Plain integers, so the call can cross threads.
type Args = (usize, usize, usize, usize, u32, usize, u32);

impl NtIo {
    fn start(
        file: HANDLE,
        buf: Vec<u8>,
        aux: Vec<u8>,
        with_event: bool,
        call: impl FnOnce(Args) -> i32 + Send + 'static,
    ) -> NtIo {
        let event = with_event.then(event);
        let mut io = NtIo {
            status: 0,
            file,
            iosb: Box::new(marked_iosb()),
            buf,
            aux,
            event,
            blocked: None,
            finished: false,
        };
        let ptr = |v: &mut Vec<u8>| {
            if v.is_empty() {
                0
            } else {
                v.as_mut_ptr() as usize
            }
        };
        let args = (
            file as usize,
            io.event.as_ref().map_or(0, |e| e.raw() as usize),
            &mut *io.iosb as *mut IO_STATUS_BLOCK as usize,
            ptr(&mut io.buf),
            io.buf.len() as u32,
            ptr(&mut io.aux),
            io.aux.len() as u32,
        );
        match start_bounded(move || call(args)) {
            Ok(status) => {
                io.status = status;
                io.finished = status != STATUS_PENDING;
            }
            Err(thread) => {
                io.status = BLOCKED_STATUS;
                io.blocked = Some(thread);
            }
        }
        io
    }

    /// The status block as it is now.
    pub fn iosb(&self) -> Iosb {
        // SAFETY: a volatile read of memory the kernel may be completing into; a torn read
        // only misreports a row, and rows re-read after the event.
        let raw = unsafe { ptr::read_volatile(&*self.iosb) };
        Iosb::of(&raw)
    }

    /// Waits up to `ms` for a pended (or blocked) call; true once it is over.
    pub fn wait(&mut self, ms: u32) -> bool {
        if self.blocked.is_some() {
            match join_within(&mut self.blocked, ms) {
                None => return false,
                Some(STATUS_PENDING) => {}
                Some(_) => self.finished = true,
            }
        }
        if !self.finished && wait(self.signal(), ms) {
            self.finished = true;
        }
        self.finished
    }

    /// The final status: the call's own, or the status block's for a call that pended.
    pub fn final_status(&self) -> i32 {
        if self.status == STATUS_PENDING || self.status == BLOCKED_STATUS {
            self.iosb().status
        } else {
            self.status
        }
    }

    /// What the I/O manager signals at completion: the call's event, or the file object.
    fn signal(&self) -> HANDLE {
        self.event.as_ref().map_or(self.file, Handle::raw)
    }

    /// The bytes the call reported, per the status block.
    pub fn data(&self) -> &[u8] {
        let n = self.iosb().information.min(self.buf.len());
        &self.buf[..n]
    }
}

impl Drop for NtIo {
    fn drop(&mut self) {
        if self.blocked.is_none() && (self.finished || wait(self.signal(), 0)) {
            return;
        }
        // kernel32's OVERLAPPED begins with the status block, so CancelIoEx names this call.
        // SAFETY: the pointer identifies the pending I/O; no memory is accessed through it.
        unsafe {
            CancelIoEx(
                self.file,
                &*self.iosb as *const IO_STATUS_BLOCK as *const OVERLAPPED,
            )
        };
        let thread_done = self.blocked.is_none() || join_within(&mut self.blocked, 5000).is_some();
        if !thread_done || !wait(self.signal(), 5000) {
            eprintln!("warning: an NT I/O did not finish after CancelIoEx; its memory is leaked");
            mem::forget(mem::take(&mut self.buf));
            mem::forget(mem::take(&mut self.aux));
            mem::forget(mem::replace(&mut self.iosb, Box::new(marked_iosb())));
            mem::forget(self.event.take());
        }
    }
}

/// NtReadFile; `with_event` false makes the I/O manager signal the file object instead.
pub fn nt_read(h: HANDLE, len: usize, with_event: bool) -> NtIo {
    NtIo::start(
        h,
        vec![0; len],
        Vec::new(),
        with_event,
        |(f, ev, iosb, p, n, _, _)| {
            // SAFETY: the buffer and status block are heap-owned by the NtIo until it is over.
            unsafe {
                NtReadFile(
                    f as HANDLE,
                    ev as HANDLE,
                    None,
                    null(),
                    iosb as *mut _,
                    p as *mut c_void,
                    n,
                    null(),
                    null(),
                )
            }
        },
    )
}

pub fn nt_write(h: HANDLE, data: &[u8]) -> NtIo {
    NtIo::start(
        h,
        data.to_vec(),
        Vec::new(),
        true,
        |(f, ev, iosb, p, n, _, _)| {
            // SAFETY: as in nt_read; the data is a heap copy owned by the NtIo.
            unsafe {
                NtWriteFile(
                    f as HANDLE,
                    ev as HANDLE,
                    None,
                    null(),
                    iosb as *mut _,
                    p as *const c_void,
                    n,
                    null(),
                    null(),
                )
            }
        },
    )
}

/// NtFsControlFile with a copy of `input` (kept in `aux`, to be inspected afterwards) and an
/// output buffer of `out_len` bytes (`buf`).
pub fn nt_fsctl(h: HANDLE, code: u32, input: &[u8], out_len: usize) -> NtIo {
    NtIo::start(
        h,
        vec![0; out_len],
        input.to_vec(),
        true,
        move |(f, ev, iosb, p, n, i, il)| {
            // SAFETY: both buffers are heap-owned by the NtIo, which outlives the request (a
            // METHOD_NEITHER request may use them until it completes).
            unsafe {
                NtFsControlFile(
                    f as HANDLE,
                    ev as HANDLE,
                    None,
                    null(),
                    iosb as *mut _,
                    code,
                    i as *const c_void,
                    il,
                    p as *mut c_void,
                    n,
                )
            }
        },
    )
}

/// NtQueryDirectoryFile for one batch.
pub fn nt_query_directory(
    h: HANDLE,
    class: i32,
    len: usize,
    single: bool,
    pattern: Option<&str>,
    restart: bool,
) -> NtIo {
    let units: Vec<u8> = pattern
        .map(|p| p.encode_utf16().flat_map(u16::to_le_bytes).collect())
        .unwrap_or_default();
    let has_pattern = pattern.is_some();
    NtIo::start(
        h,
        vec![0; len],
        units,
        true,
        move |(f, ev, iosb, p, n, u, ul)| {
            let us = UNICODE_STRING {
                Length: ul as u16,
                MaximumLength: ul as u16,
                Buffer: u as *mut u16,
            };
            let pat = if has_pattern {
                &us as *const UNICODE_STRING
            } else {
                null()
            };
            // SAFETY: the output is heap-owned by the NtIo; the pattern lives in `aux` and the
            // I/O manager captures it before the call returns.
            unsafe {
                NtQueryDirectoryFile(
                    f as HANDLE,
                    ev as HANDLE,
                    None,
                    null(),
                    iosb as *mut _,
                    p as *mut c_void,
                    n,
                    class,
                    single,
                    pat,
                    restart,
                )
            }
        },
    )
}

/// NtQueryInformationFile into a buffer of `len` bytes: status, status block, bytes.
pub fn nt_query_information(h: HANDLE, class: i32, len: usize) -> (i32, Iosb, Vec<u8>) {
    let mut buf = vec![0u8; len];
    let mut iosb = marked_iosb();
    // SAFETY: `buf` has `len` bytes; information queries complete synchronously.
    let status =
        unsafe { NtQueryInformationFile(h, &mut iosb, buf.as_mut_ptr().cast(), len as u32, class) };
    (status, Iosb::of(&iosb), buf)
}

/// NtSetInformationFile with the given bytes.
pub fn nt_set_information(h: HANDLE, class: i32, data: &[u8]) -> (i32, Iosb) {
    let mut iosb = marked_iosb();
    // SAFETY: `data` is readable for its length; the call completes synchronously.
    let status = unsafe {
        NtSetInformationFile(h, &mut iosb, data.as_ptr().cast(), data.len() as u32, class)
    };
    (status, Iosb::of(&iosb))
}

pub fn nt_query_volume(h: HANDLE, class: i32, len: usize) -> (i32, Iosb, Vec<u8>) {
    let mut buf = vec![0u8; len];
    let mut iosb = marked_iosb();
    // SAFETY: as in nt_query_information.
    let status = unsafe {
        NtQueryVolumeInformationFile(h, &mut iosb, buf.as_mut_ptr().cast(), len as u32, class)
    };
    (status, Iosb::of(&iosb), buf)
}

// ---- the host ------------------------------------------------------------------------------

/// `10.0.19045` from RtlGetVersion (what Windows says, compatibility shims aside).
pub fn windows_version() -> String {
    // SAFETY: OSVERSIONINFOW is plain data; its size field is set before the call.
    unsafe {
        let mut v: OSVERSIONINFOW = mem::zeroed();
        v.dwOSVersionInfoSize = size_of::<OSVERSIONINFOW>() as u32;
        if RtlGetVersion(&mut v) >= 0 {
            format!(
                "{}.{}.{}",
                v.dwMajorVersion, v.dwMinorVersion, v.dwBuildNumber
            )
        } else {
            "unknown".into()
        }
    }
}

/// Wine's version when running under Wine (ntdll exports `wine_get_version`).
pub fn wine_version() -> Option<String> {
    let ntdll = wide("ntdll.dll");
    // SAFETY: ntdll is always loaded; the export, when present, is
    // `const char *wine_get_version(void)` returning a static NUL-terminated string.
    unsafe {
        let module = GetModuleHandleW(ntdll.as_ptr());
        if module.is_null() {
            return None;
        }
        let f = GetProcAddress(module, c"wine_get_version".as_ptr().cast())?;
        let f: extern "C" fn() -> *const std::ffi::c_char = mem::transmute(f);
        let p = f();
        if p.is_null() {
            return None;
        }
        Some(std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned())
    }
}

/// A pointer-sized value a caller structure carries (for FILE_MAILSLOT_SET_INFORMATION).
pub fn address_of<T>(v: &T) -> usize {
    v as *const T as *const c_void as usize
}
