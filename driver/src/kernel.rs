//! What a `no_std` Rust image needs to live in the kernel: the global allocator over
//! non-paged pool, a panic handler that bugchecks, `_fltused`, and debug tracing.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::{c_void, CStr};
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::ffi::*;

/// The bugcheck code of a panic in rsmailslot.sys ('RSMP'): parameter 1 is the source line,
/// 2 the column, 3 the address of the file name and 4 its length in bytes, so a debugger (or
/// the emulated kernel) can print `file:line:column` from the dump.
pub const BUGCHECK_RSMAILSLOT_PANIC: u32 = u32::from_be_bytes(*b"RSMP");

/// Every Rust allocation is non-paged pool with the driver's tag.
struct NonPagedPool;

/// Pool blocks are 16-byte aligned on x64; a stricter alignment is refused, not faked.
const POOL_ALIGNMENT: usize = 16;

// SAFETY: ExAllocatePool2 returns null or a block of at least `size` bytes aligned to 16,
// which satisfies every layout this allocator accepts; blocks are freed with the same tag.
unsafe impl GlobalAlloc for NonPagedPool {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > POOL_ALIGNMENT {
            return null_mut();
        }
        // SAFETY: a plain pool allocation; callable at IRQL <= DISPATCH_LEVEL.
        unsafe { ExAllocatePool2(POOL_FLAG_NON_PAGED, layout.size(), POOL_TAG).cast() }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above, so from ExAllocatePool2 with POOL_TAG.
        unsafe { ExFreePoolWithTag(ptr.cast(), POOL_TAG) }
    }
}

#[global_allocator]
static ALLOCATOR: NonPagedPool = NonPagedPool;

// The linker expects `_fltused` (the MSVC ABI's marker that floating point is used) in any
// image that may touch floating point. Defined in assembly so that, unlike a `#[no_mangle]`
// static, it is not exported (tools/pecheck allows DriverEntry alone).
core::arch::global_asm!(
    ".section .rdata,\"dr\"",
    ".globl _fltused",
    ".p2align 2",
    "_fltused:",
    ".long 0",
    ".text",
);

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    trace(c"rsmailslot: panic, bugchecking\n");
    match info.location() {
        Some(location) => stop_at(location),
        None => stop_at(core::panic::Location::caller()),
    }
}

/// Bugchecks with RSMP naming the caller's source location: the honest answer to a broken
/// invariant where unwinding is impossible.
#[cold]
#[track_caller]
pub fn stop() -> ! {
    stop_at(core::panic::Location::caller())
}

fn stop_at(location: &core::panic::Location<'_>) -> ! {
    let file = location.file();
    // SAFETY: KeBugCheckEx takes plain integers and never returns.
    unsafe {
        KeBugCheckEx(
            BUGCHECK_RSMAILSLOT_PANIC,
            location.line() as usize,
            location.column() as usize,
            file.as_ptr() as usize,
            file.len(),
        )
    }
}

/// `DbgPrintEx`, resolved by [`init_tracing`].
static DBG_PRINT_EX: AtomicPtr<c_void> = AtomicPtr::new(null_mut());

/// Looks up `DbgPrintEx` in ntoskrnl's exports. Call at PASSIVE_LEVEL, first thing at entry.
pub fn init_tracing() {
    DBG_PRINT_EX.store(system_routine("DbgPrintEx"), Ordering::Release);
}

/// The address of an ntoskrnl export (routine or variable), or null; PASSIVE_LEVEL. Names are
/// short ASCII, widened here into a fixed buffer.
pub fn system_routine(name: &str) -> *mut c_void {
    let mut wide = [0u16; 64];
    let mut len = 0;
    for (slot, byte) in wide.iter_mut().zip(name.bytes()) {
        *slot = u16::from(byte);
        len += 1;
    }
    let name = crate::names::unicode(wide.get(..len).unwrap_or(&[]));
    // SAFETY: a valid counted string; the caller runs at PASSIVE_LEVEL.
    unsafe { MmGetSystemRoutineAddress(&name) }
}

/// Prints a message to the kernel debugger at error level (shown by default).
pub fn trace(message: &CStr) {
    let routine = DBG_PRINT_EX.load(Ordering::Acquire);
    if routine.is_null() {
        return;
    }
    // SAFETY: the address of ntoskrnl's DbgPrintEx, whose prototype DbgPrintExFn is; "%s"
    // with a NUL-terminated string reads exactly that string.
    unsafe {
        let print: DbgPrintExFn = core::mem::transmute(routine);
        print(
            DPFLTR_IHVDRIVER_ID,
            DPFLTR_ERROR_LEVEL,
            c"%s".as_ptr().cast(),
            message.as_ptr(),
        );
    }
}

/// Prints `rsmailslot: <what> failed: 0x<status>`.
pub fn trace_status(what: &str, status: NTSTATUS) {
    let mut line = [0u8; 128];
    let mut len = 0;
    let mut push = |bytes: &[u8]| {
        for &b in bytes {
            // Keep the last byte for the NUL.
            if len + 1 < line.len() {
                line[len] = b;
                len += 1;
            }
        }
    };
    push(b"rsmailslot: ");
    push(what.as_bytes());
    push(b" failed: 0x");
    let hex = b"0123456789ABCDEF";
    let value = status as u32;
    for shift in (0..8).rev() {
        push(&[hex[((value >> (shift * 4)) & 0xF) as usize]]);
    }
    push(b"\n");
    if let Ok(message) = CStr::from_bytes_until_nul(&line) {
        trace(message);
    }
}
