//! [`Windows`]: the table's [`System`] on Windows, making the real kernel32 and ntdll calls.
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
    CreateFileW, FlushFileBuffers, ReadFile, WriteFile, FILE_ATTRIBUTE_NORMAL,
    FILE_FLAG_OVERLAPPED, OPEN_EXISTING,
};
use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};
use windows_sys::Win32::System::Mailslots::{CreateMailslotW, GetMailslotInfo, SetMailslotInfo};
use windows_sys::Win32::System::SystemInformation::OSVERSIONINFOW;
use windows_sys::Win32::System::Threading::{CreateEventW, GetCurrentProcess, WaitForSingleObject};
use windows_sys::Win32::System::IO::{
    CancelIoEx, GetOverlappedResult, IO_STATUS_BLOCK, OVERLAPPED,
};

use crate::system::{
    self, HostInfo, Info, Iosb, NtName, OverlappedRead, RawHandle, System, BLOCKED, BLOCKED_STATUS,
    IOSB_INFO_MARK, IOSB_STATUS_MARK, STATUS_PENDING,
};

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

mod security;
use security::{create_mailslot_sddl, security_owner, security_sddl, set_security_sddl};

/// A NUL-terminated UTF-16 copy of `s`.
fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(Some(0)).collect()
}

/// A handle value as a Windows HANDLE.
fn h(raw: RawHandle) -> HANDLE {
    raw as usize as HANDLE
}

fn last_error() -> u32 {
    // SAFETY: no preconditions.
    unsafe { GetLastError() }
}

/// The Win32 error kernel32 would report for a status.
fn dos_error(status: i32) -> u32 {
    // SAFETY: a pure translation with no pointers.
    unsafe { RtlNtStatusToDosError(status) }
}

/// A manual-reset event, closed when dropped.
struct Event(HANDLE);

// SAFETY: a kernel handle is valid in every thread of the process; the value only closes it
// once, on drop.
unsafe impl Send for Event {}

impl Event {
    fn raw(&self) -> HANDLE {
        self.0
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the handle is owned by this value and closed exactly once, here.
            unsafe { CloseHandle(self.0) };
        }
    }
}

fn event() -> Event {
    // SAFETY: a manual-reset, unnamed, non-signalled event; all pointers may be null.
    let e = unsafe { CreateEventW(null(), 1, 0, null()) };
    if e.is_null() {
        // Nothing in the table can run without events; stopping is the only honest outcome.
        eprintln!("CreateEventW failed: {}", last_error());
        std::process::exit(3);
    }
    Event(e)
}

/// Waits for a handle's signal; true when it came within `ms`.
fn wait(h: HANDLE, ms: u32) -> bool {
    // SAFETY: waiting has no memory effects; a bad handle just fails.
    unsafe { WaitForSingleObject(h, ms) == WAIT_OBJECT_0 }
}

/// The WaitForSingleObject result itself (WAIT_OBJECT_0 = 0, WAIT_TIMEOUT = 258).
fn wait_result(h: HANDLE, ms: u32) -> u32 {
    // SAFETY: as in `wait`.
    unsafe { WaitForSingleObject(h, ms) }
}

// ---- kernel32 ------------------------------------------------------------------------------

/// FlushFileBuffers.
fn flush(handle: HANDLE) -> Result<(), u32> {
    // SAFETY: FlushFileBuffers takes a handle value and nothing else.
    if unsafe { FlushFileBuffers(handle) } != 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

/// CreateMailslotW; `None` passes a NULL name.
fn create_mailslot(name: Option<&str>, max: u32, timeout_ms: u32) -> Result<RawHandle, u32> {
    let w = name.map(wide);
    let p = w.as_ref().map_or(null(), |w| w.as_ptr());
    // SAFETY: `p` is null or a NUL-terminated string that outlives the call.
    let h = unsafe { CreateMailslotW(p, max, timeout_ms, null()) };
    if h == INVALID_HANDLE_VALUE {
        Err(last_error())
    } else {
        Ok(h as usize as RawHandle)
    }
}

/// CreateFileW(OPEN_EXISTING), as a mailslot client opens; `overlapped` adds
/// FILE_FLAG_OVERLAPPED.
fn open(path: &str, access: u32, share: u32, overlapped: bool) -> Result<RawHandle, u32> {
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
        Ok(h as usize as RawHandle)
    }
}

/// A synchronous ReadFile. Errors carry the byte count ReadFile reported with them.
fn read(h: HANDLE, len: usize) -> Result<Vec<u8>, (u32, u32)> {
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
fn write(h: HANDLE, data: &[u8]) -> Result<u32, u32> {
    let mut put = 0u32;
    // SAFETY: `data` is readable for its length and `put` is a valid u32; no OVERLAPPED.
    let ok = unsafe { WriteFile(h, data.as_ptr(), data.len() as u32, &mut put, null_mut()) };
    if ok != 0 {
        Ok(put)
    } else {
        Err(last_error())
    }
}

fn info(h: HANDLE) -> Result<Info, u32> {
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
fn info_null_outputs(h: HANDLE) -> Result<(), u32> {
    // SAFETY: the API accepts NULL for every output.
    let ok = unsafe { GetMailslotInfo(h, null_mut(), null_mut(), null_mut(), null_mut()) };
    if ok != 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

fn set_timeout(h: HANDLE, ms: u32) -> Result<(), u32> {
    // SAFETY: no pointers.
    if unsafe { SetMailslotInfo(h, ms) } != 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

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
    event: Event,
    /// ReadFile's own result: Ok(bytes) when it completed at once, Err(ERROR_IO_PENDING) when
    /// it pends, Err(BLOCKED) when it did neither within two seconds.
    started: Result<u32, u32>,
    /// The helper thread still inside a blocked ReadFile.
    blocked: Option<JoinHandle<(i32, u32, u32)>>,
    finished: bool,
}

impl Overlapped {
    fn read(h: HANDLE, len: usize) -> Overlapped {
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

    fn bytes(&self, n: u32) -> Vec<u8> {
        self.buf[..(n as usize).min(self.buf.len())].to_vec()
    }
}

// SAFETY: the raw handles and pointers inside are kernel handles and heap blocks owned by the
// value, valid from any thread of the process.
unsafe impl Send for Overlapped {}

impl OverlappedRead for Overlapped {
    fn started(&self) -> Result<u32, u32> {
        self.started
    }

    fn wait(&mut self, ms: u32) -> Option<Result<Vec<u8>, u32>> {
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

    fn is_pending(&self) -> bool {
        if let Some(t) = &self.blocked {
            return !t.is_finished();
        }
        !self.finished && !wait(self.event.raw(), 0)
    }

    fn cancel(&self) -> Result<(), u32> {
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
            mem::forget(mem::replace(&mut self.event, Event(null_mut())));
        }
    }
}

// ---- ntdll ---------------------------------------------------------------------------------

fn marked_iosb() -> IO_STATUS_BLOCK {
    let mut iosb = IO_STATUS_BLOCK::default();
    iosb.Anonymous.Status = IOSB_STATUS_MARK;
    iosb.Information = IOSB_INFO_MARK;
    iosb
}

fn iosb_of(iosb: &IO_STATUS_BLOCK) -> Iosb {
    // SAFETY: both union members are plain integers; Status is what the kernel writes.
    let status = unsafe { iosb.Anonymous.Status };
    Iosb {
        status,
        information: iosb.Information,
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
        RootDirectory: h(n.root),
        ObjectName: if n.name.is_some() { &us } else { null() },
        Attributes: OBJ_CASE_INSENSITIVE,
        SecurityDescriptor: null(),
        SecurityQualityOfService: null(),
    };
    f(if n.null_attributes { null() } else { &oa })
}

/// NtCreateMailslotFile; `timeout` None passes a NULL ReadTimeout.
fn nt_create_mailslot(
    n: &NtName<'_>,
    access: u32,
    options: u32,
    quota: u32,
    max: u32,
    timeout: Option<i64>,
) -> (i32, Option<RawHandle>, Iosb) {
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
    (
        status,
        (status >= 0).then_some(h as usize as RawHandle),
        iosb_of(&iosb),
    )
}

/// NtCreateFile with the given disposition and options.
fn nt_open(
    n: &NtName<'_>,
    access: u32,
    share: u32,
    disposition: u32,
    options: u32,
) -> (i32, Option<RawHandle>, Iosb) {
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
    (
        status,
        (status >= 0).then_some(h as usize as RawHandle),
        iosb_of(&iosb),
    )
}

/// An NT I/O call that may pend, with its status block, buffers and event on the heap.
pub struct WinIo {
    /// The call's return value; BLOCKED_STATUS when it did not return within two seconds.
    status: i32,
    file: HANDLE,
    iosb: Box<IO_STATUS_BLOCK>,
    buf: Vec<u8>,
    /// A second caller buffer (an FSCTL's input), kept alive like `buf`.
    aux: Vec<u8>,
    /// None: the call was made without an event, so completion signals the file object.
    event: Option<Event>,
    blocked: Option<JoinHandle<i32>>,
    finished: bool,
}

/// Addresses an NT call on a helper thread needs: (file, event, status block, buffer, its
/// length, auxiliary buffer, its length). Plain integers, so the call can cross threads.
type Args = (usize, usize, usize, usize, u32, usize, u32);

impl WinIo {
    fn start(
        file: HANDLE,
        buf: Vec<u8>,
        aux: Vec<u8>,
        with_event: bool,
        call: impl FnOnce(Args) -> i32 + Send + 'static,
    ) -> WinIo {
        let event = with_event.then(event);
        let mut io = WinIo {
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
    fn iosb_now(&self) -> Iosb {
        // SAFETY: a volatile read of memory the kernel may be completing into; a torn read
        // only misreports a row, and rows re-read after the event.
        let raw = unsafe { ptr::read_volatile(&*self.iosb) };
        iosb_of(&raw)
    }

    /// What the I/O manager signals at completion: the call's event, or the file object.
    fn signal(&self) -> HANDLE {
        self.event.as_ref().map_or(self.file, Event::raw)
    }
}

impl system::NtIo for WinIo {
    fn status(&self) -> i32 {
        self.status
    }

    fn iosb(&self) -> Iosb {
        self.iosb_now()
    }

    fn wait(&mut self, ms: u32) -> bool {
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

    fn buf(&self) -> Vec<u8> {
        self.buf.clone()
    }

    fn aux(&self) -> Vec<u8> {
        self.aux.clone()
    }
}

impl Drop for WinIo {
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
fn nt_read(h: HANDLE, len: usize, with_event: bool) -> WinIo {
    WinIo::start(
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

fn nt_write(h: HANDLE, data: &[u8]) -> WinIo {
    WinIo::start(
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
fn nt_fsctl(h: HANDLE, code: u32, input: &[u8], out_len: usize) -> WinIo {
    WinIo::start(
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
fn nt_query_directory(
    h: HANDLE,
    class: i32,
    len: usize,
    single: bool,
    pattern: Option<&str>,
    restart: bool,
) -> WinIo {
    let units: Vec<u8> = pattern
        .map(|p| p.encode_utf16().flat_map(u16::to_le_bytes).collect())
        .unwrap_or_default();
    let has_pattern = pattern.is_some();
    WinIo::start(
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
fn nt_query_information(h: HANDLE, class: i32, len: usize) -> (i32, Iosb, Vec<u8>) {
    let mut buf = vec![0u8; len];
    let mut iosb = marked_iosb();
    // SAFETY: `buf` has `len` bytes; information queries complete synchronously.
    let status =
        unsafe { NtQueryInformationFile(h, &mut iosb, buf.as_mut_ptr().cast(), len as u32, class) };
    (status, iosb_of(&iosb), buf)
}

/// NtSetInformationFile with the given bytes.
fn nt_set_information(h: HANDLE, class: i32, data: &[u8]) -> (i32, Iosb) {
    let mut iosb = marked_iosb();
    // SAFETY: `data` is readable for its length; the call completes synchronously.
    let status = unsafe {
        NtSetInformationFile(h, &mut iosb, data.as_ptr().cast(), data.len() as u32, class)
    };
    (status, iosb_of(&iosb))
}

fn nt_query_volume(h: HANDLE, class: i32, len: usize) -> (i32, Iosb, Vec<u8>) {
    let mut buf = vec![0u8; len];
    let mut iosb = marked_iosb();
    // SAFETY: as in nt_query_information.
    let status = unsafe {
        NtQueryVolumeInformationFile(h, &mut iosb, buf.as_mut_ptr().cast(), len as u32, class)
    };
    (status, iosb_of(&iosb), buf)
}

// ---- the host ------------------------------------------------------------------------------

/// `10.0.19045` from RtlGetVersion (what Windows says, compatibility shims aside).
fn windows_version() -> String {
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
fn wine_version() -> Option<String> {
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

// SAFETY: the raw handles and pointers inside are kernel handles and heap blocks owned by the
// value, valid from any thread of the process.
unsafe impl Send for WinIo {}

/// The table's system on Windows: the real kernel32 and ntdll.
#[derive(Clone, Copy, Debug)]
pub struct Windows;

impl System for Windows {
    fn host(&self) -> HostInfo {
        let wine = wine_version();
        HostInfo {
            host: wine.as_ref().map_or_else(
                || format!("Windows, a {}-bit process", usize::BITS),
                |v| format!("Wine {v}, a {}-bit process", usize::BITS),
            ),
            windows_version: windows_version(),
            wine: wine.is_some(),
            pointer_bytes: std::mem::size_of::<usize>(),
        }
    }

    fn create_mailslot(
        &self,
        name: Option<&str>,
        max: u32,
        timeout_ms: u32,
    ) -> Result<RawHandle, u32> {
        create_mailslot(name, max, timeout_ms)
    }

    fn create_file(
        &self,
        path: &str,
        access: u32,
        share: u32,
        overlapped: bool,
    ) -> Result<RawHandle, u32> {
        open(path, access, share, overlapped)
    }

    fn read_file(&self, handle: RawHandle, len: usize) -> Result<Vec<u8>, (u32, u32)> {
        read(h(handle), len)
    }

    fn write_file(&self, handle: RawHandle, data: &[u8]) -> Result<u32, u32> {
        write(h(handle), data)
    }

    fn get_mailslot_info(&self, handle: RawHandle) -> Result<Info, u32> {
        info(h(handle))
    }

    fn get_mailslot_info_null(&self, handle: RawHandle) -> Result<(), u32> {
        info_null_outputs(h(handle))
    }

    fn set_mailslot_info(&self, handle: RawHandle, timeout_ms: u32) -> Result<(), u32> {
        set_timeout(h(handle), timeout_ms)
    }

    fn close_handle(&self, handle: RawHandle) {
        // SAFETY: the caller owns the handle (system::Handle closes each exactly once).
        unsafe { CloseHandle(h(handle)) };
    }

    fn duplicate_handle(&self, handle: RawHandle) -> Result<RawHandle, u32> {
        let mut out = null_mut();
        // SAFETY: both process handles are the current-process pseudo handle, `handle` is one
        // the caller owns, and `out` is a valid place for the result.
        let ok = unsafe {
            DuplicateHandle(
                GetCurrentProcess(),
                h(handle),
                GetCurrentProcess(),
                &mut out,
                0,
                0,
                DUPLICATE_SAME_ACCESS,
            )
        };
        if ok != 0 {
            Ok(out as usize as RawHandle)
        } else {
            Err(last_error())
        }
    }

    fn wait(&self, handle: RawHandle, ms: u32) -> u32 {
        wait_result(h(handle), ms)
    }

    fn dos_error(&self, status: i32) -> u32 {
        dos_error(status)
    }

    fn read_overlapped(&self, handle: RawHandle, len: usize) -> Box<dyn OverlappedRead + '_> {
        Box::new(Overlapped::read(h(handle), len))
    }

    fn flush(&self, handle: RawHandle) -> Result<(), u32> {
        flush(h(handle))
    }

    fn security_owner(&self, handle: RawHandle) -> Result<String, u32> {
        security_owner(h(handle))
    }

    fn create_mailslot_sddl(&self, name: &str, sddl: &str) -> Result<RawHandle, u32> {
        create_mailslot_sddl(name, sddl)
    }

    fn set_security_sddl(
        &self,
        handle: RawHandle,
        information: u32,
        sddl: &str,
    ) -> Result<(), u32> {
        set_security_sddl(h(handle), information, sddl)
    }

    fn security_sddl(&self, handle: RawHandle, information: u32) -> Result<String, u32> {
        security_sddl(h(handle), information)
    }

    fn nt_create_mailslot(
        &self,
        n: &NtName<'_>,
        access: u32,
        options: u32,
        quota: u32,
        max: u32,
        timeout: Option<i64>,
    ) -> (i32, Option<RawHandle>, Iosb) {
        nt_create_mailslot(n, access, options, quota, max, timeout)
    }

    fn nt_create_file(
        &self,
        n: &NtName<'_>,
        access: u32,
        share: u32,
        disposition: u32,
        options: u32,
    ) -> (i32, Option<RawHandle>, Iosb) {
        nt_open(n, access, share, disposition, options)
    }

    fn nt_read(
        &self,
        handle: RawHandle,
        len: usize,
        with_event: bool,
    ) -> Box<dyn system::NtIo + '_> {
        Box::new(nt_read(h(handle), len, with_event))
    }

    fn nt_write(&self, handle: RawHandle, data: &[u8]) -> Box<dyn system::NtIo + '_> {
        Box::new(nt_write(h(handle), data))
    }

    fn nt_fsctl(
        &self,
        handle: RawHandle,
        code: u32,
        input: &[u8],
        out_len: usize,
    ) -> Box<dyn system::NtIo + '_> {
        Box::new(nt_fsctl(h(handle), code, input, out_len))
    }

    fn nt_query_directory(
        &self,
        handle: RawHandle,
        class: i32,
        len: usize,
        single: bool,
        pattern: Option<&str>,
        restart: bool,
    ) -> Box<dyn system::NtIo + '_> {
        Box::new(nt_query_directory(
            h(handle),
            class,
            len,
            single,
            pattern,
            restart,
        ))
    }

    fn nt_query_information(
        &self,
        handle: RawHandle,
        class: i32,
        len: usize,
    ) -> (i32, Iosb, Vec<u8>) {
        nt_query_information(h(handle), class, len)
    }

    fn nt_set_information(&self, handle: RawHandle, class: i32, data: &[u8]) -> (i32, Iosb) {
        nt_set_information(h(handle), class, data)
    }

    fn nt_set_mailslot_timeout(&self, handle: RawHandle, timeout: i64) -> (i32, Iosb) {
        // FILE_MAILSLOT_SET_INFORMATION holds a pointer to the timeout, read during the call.
        let value = timeout;
        let pointer = &value as *const i64 as usize;
        nt_set_information(h(handle), 27, &pointer.to_le_bytes())
    }

    fn nt_query_volume(&self, handle: RawHandle, class: i32, len: usize) -> (i32, Iosb, Vec<u8>) {
        nt_query_volume(h(handle), class, len)
    }
}
