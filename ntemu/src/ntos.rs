//! ntoskrnl.exe's exports, as the driver calls them: each checks what Windows (and Driver
//! Verifier) checks of its arguments and state, then does the work with `pool`, `ke` or `io`.
//!
//! Maximum IRQLs are the ones each routine's reference page on learn.microsoft.com states.

use std::sync::atomic::Ordering;

use crate::bugcheck::{self, Stop};
use crate::cpu::{self, APC_LEVEL, DISPATCH_LEVEL, PASSIVE_LEVEL};
use crate::exports::{Export, HIGH_LEVEL};
use crate::machine;
use crate::mem;
use crate::pool::{self, Owner, Pool};

pub(crate) const NT: &str = "ntoskrnl.exe";
const WDFLDR: &str = "wdfldr.sys";

pub const STATUS_SUCCESS: i32 = 0;
pub const STATUS_ACCESS_VIOLATION: i32 = 0xC000_0005u32 as i32;
pub const STATUS_INVALID_PARAMETER: i32 = 0xC000_000Du32 as i32;
pub const STATUS_INSUFFICIENT_RESOURCES: i32 = 0xC000_009Au32 as i32;

/// `MmUserProbeAddress`, the data export.
static MM_USER_PROBE_ADDRESS: u64 = mem::USER_PROBE_ADDRESS as u64;

pub fn exports() -> Vec<Export> {
    let f = Export::function;
    vec![
        f(
            NT,
            "ExAllocatePool2",
            ex_allocate_pool2 as *const () as usize,
            HIGH_LEVEL,
        ),
        f(
            NT,
            "ExFreePoolWithTag",
            ex_free_pool_with_tag as *const () as usize,
            HIGH_LEVEL,
        ),
        f(
            NT,
            "IofCompleteRequest",
            crate::io::irp::iof_complete_request as *const () as usize,
            DISPATCH_LEVEL,
        ),
        f(
            NT,
            "KeBugCheckEx",
            ke_bug_check_ex as *const () as usize,
            HIGH_LEVEL,
        ),
        f(
            NT,
            "IoReleaseCancelSpinLock",
            io_release_cancel_spin_lock as *const () as usize,
            DISPATCH_LEVEL,
        ),
        f(
            NT,
            "KeAcquireSpinLockRaiseToDpc",
            ke_acquire_spin_lock_raise_to_dpc as *const () as usize,
            DISPATCH_LEVEL,
        ),
        f(
            NT,
            "KeReleaseSpinLock",
            ke_release_spin_lock as *const () as usize,
            DISPATCH_LEVEL,
        ),
        f(
            NT,
            "KeInitializeTimer",
            ke_initialize_timer as *const () as usize,
            DISPATCH_LEVEL,
        ),
        f(
            NT,
            "KeInitializeDpc",
            ke_initialize_dpc as *const () as usize,
            HIGH_LEVEL,
        ),
        f(
            NT,
            "KeSetTimer",
            ke_set_timer as *const () as usize,
            DISPATCH_LEVEL,
        ),
        f(
            NT,
            "KeCancelTimer",
            ke_cancel_timer as *const () as usize,
            DISPATCH_LEVEL,
        ),
        f(
            NT,
            "KeFlushQueuedDpcs",
            ke_flush_queued_dpcs as *const () as usize,
            PASSIVE_LEVEL,
        ),
        f(
            NT,
            "KeQuerySystemTimePrecise",
            ke_query_system_time_precise as *const () as usize,
            HIGH_LEVEL,
        ),
        f(
            NT,
            "MmCopyMemory",
            mm_copy_memory as *const () as usize,
            APC_LEVEL,
        ),
        f(
            NT,
            "MmGetSystemRoutineAddress",
            mm_get_system_routine_address as *const () as usize,
            PASSIVE_LEVEL,
        ),
        f(
            NT,
            "__C_specific_handler",
            crate::seh::c_specific_handler as *const () as usize,
            HIGH_LEVEL,
        ),
        f(NT, "memcpy", memcpy as *const () as usize, HIGH_LEVEL),
        f(NT, "memmove", memcpy as *const () as usize, HIGH_LEVEL),
        f(NT, "memset", memset as *const () as usize, HIGH_LEVEL),
        f(NT, "memcmp", memcmp as *const () as usize, HIGH_LEVEL),
        f(NT, "strlen", strlen as *const () as usize, HIGH_LEVEL),
        f(
            NT,
            "DbgPrintEx",
            dbg_print_ex as *const () as usize,
            HIGH_LEVEL,
        ),
        f(
            NT,
            "IoIs32bitProcess",
            crate::io::irp::io_is_32bit_process as *const () as usize,
            DISPATCH_LEVEL,
        ),
        Export {
            module: NT,
            name: "MmUserProbeAddress",
            target: &MM_USER_PROBE_ADDRESS as *const u64 as usize,
            max_irql: HIGH_LEVEL,
            data: true,
        },
        f(
            WDFLDR,
            "WdfVersionBind",
            crate::kmdf::bind::wdf_version_bind as *const () as usize,
            PASSIVE_LEVEL,
        ),
        f(
            WDFLDR,
            "WdfVersionUnbind",
            crate::kmdf::bind::wdf_version_unbind as *const () as usize,
            PASSIVE_LEVEL,
        ),
    ]
}

pub(crate) fn caller() -> usize {
    cpu::last_call().0
}

// ------------------------------------------------------------------------------------ pool

extern "win64" fn ex_allocate_pool2(flags: u64, size: usize, tag: u32) -> usize {
    crate::count::allocating(size);
    let m = machine::current();
    let irql = cpu::irql();
    let paged = flags & pool::POOL_FLAG_PAGED != 0;
    if size == 0 {
        bugcheck::stop(Stop::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x00, u64::from(irql), flags, 0],
            "the driver requested a zero-byte pool allocation",
        ));
    }
    if paged && irql > APC_LEVEL {
        bugcheck::stop(Stop::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x01, u64::from(irql), flags, size as u64],
            format!("paged pool requested at IRQL {irql}"),
        ));
    }
    if irql > DISPATCH_LEVEL {
        bugcheck::stop(Stop::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x02, u64::from(irql), flags, size as u64],
            format!("non-paged pool requested at IRQL {irql}"),
        ));
    }
    if Pool::check_request(flags, size, tag).is_err() {
        return 0;
    }
    if m.pool.driver_allocation_fails() {
        return 0;
    }
    // POOL_FLAG_USE_QUOTA: charged to the process whose request is being dispatched.
    let charge = (flags & pool::POOL_FLAG_USE_QUOTA != 0)
        .then(crate::quota::current_process)
        .flatten()
        .map(|pid| (pid, size));
    if let Some((pid, size)) = charge {
        if !m.quotas.charge(pid, size) {
            if flags & pool::POOL_FLAG_RAISE_ON_FAILURE != 0 {
                bugcheck::stop(Stop::new(
                    bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
                    [0x03, u64::from(irql), flags, size as u64],
                    "POOL_FLAG_RAISE_ON_FAILURE past a process's quota: raising is not emulated",
                ));
            }
            return 0;
        }
    }
    let zero = flags & pool::POOL_FLAG_UNINITIALIZED == 0;
    match m
        .pool
        .allocate(size, tag, Owner::Driver, paged, caller(), zero)
    {
        Some(addr) => {
            if let Some((pid, size)) = charge {
                m.quotas.attach(addr, pid, size);
            }
            addr
        }
        None => {
            m.quotas.release(None, charge);
            0
        }
    }
}

extern "win64" fn ex_free_pool_with_tag(p: usize, tag: u32) {
    free_pool(p, Some(tag));
}

/// ExFreePoolWithTag, and ExFreePool (`tag` None: any tag).
pub(crate) fn free_pool(p: usize, tag: Option<u32>) {
    let m = machine::current();
    let irql = cpu::irql();
    if irql > DISPATCH_LEVEL {
        bugcheck::stop(Stop::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x12, u64::from(irql), 0, p as u64],
            format!("pool freed at IRQL {irql}"),
        ));
    }
    if m.pool.drop_frees.load(Ordering::Relaxed) {
        return;
    }
    let by = caller();
    m.pool
        .free(p, tag, by, &|addr, len| m.ke.queued_in(addr, len));
    m.quotas.release(Some(p), None);
    if let Some((block, _)) = m.pool.who_owns(p) {
        m.ke.forget(block.addr, block.size);
    }
}

// ------------------------------------------------------------------------------ bugcheck

extern "win64" fn ke_bug_check_ex(code: u32, p1: u64, p2: u64, p3: u64, p4: u64) -> ! {
    let params = [p1, p2, p3, p4];
    let what = if code == bugcheck::RSMAILSLOT_PANIC {
        bugcheck::decode_rsmp(params)
    } else {
        "the driver called KeBugCheckEx".to_string()
    };
    bugcheck::stop(Stop::new(code, params, what));
}

// -------------------------------------------------------------------------- spin locks

fn spin_word(m: &machine::Machine, lock: usize) -> &'static std::sync::atomic::AtomicU64 {
    let ok = lock % 8 == 0
        && (m.pool.live_block_holds(lock, 8)
            || m.image
                .writable_ranges()
                .iter()
                .any(|&(a, l)| lock >= a && lock + 8 <= a + l));
    if !ok {
        bugcheck::stop(Stop::new(
            bugcheck::NTEMU_CHECK,
            [lock as u64, 0, 0, 0],
            format!("a spin lock at {lock:#x}, which is neither in live non-paged pool nor in the driver's data"),
        ));
    }
    // SAFETY: an aligned 8-byte word inside a live pool block or the driver's writable
    // sections (checked above), which the driver accesses only through spin-lock routines.
    unsafe { std::sync::atomic::AtomicU64::from_ptr(lock as *mut u64) }
}

thread_local! {
    /// The IRQL before each spin lock this thread holds, innermost last.
    static HELD: std::cell::RefCell<Vec<(usize, u8)>> = const { std::cell::RefCell::new(Vec::new()) };
}

extern "win64" fn ke_acquire_spin_lock_raise_to_dpc(lock: usize) -> u8 {
    let m = machine::current();
    let word = spin_word(m, lock);
    let old = cpu::raise(DISPATCH_LEVEL);
    if crate::ke::spin_acquire(word, crate::ke::owner_tag()).is_err() {
        bugcheck::stop(Stop::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x1001, lock as u64, 0, 0],
            format!(
                "the spin lock at {lock:#x} acquired again by the thread that holds it: a deadlock"
            ),
        ));
    }
    cpu::adjust_spin_locks(1);
    HELD.with(|h| h.borrow_mut().push((lock, old)));
    crate::io::locktime::acquired(lock);
    old
}

extern "win64" fn ke_release_spin_lock(lock: usize, new_irql: u8) {
    let m = machine::current();
    let word = spin_word(m, lock);
    let me = crate::ke::owner_tag();
    if word.load(Ordering::Relaxed) != me {
        bugcheck::stop(Stop::new(
            bugcheck::NTEMU_CHECK,
            [lock as u64, word.load(Ordering::Relaxed), 0, 0],
            format!("KeReleaseSpinLock on {lock:#x}, which this thread does not hold"),
        ));
    }
    if cpu::irql() != DISPATCH_LEVEL {
        bugcheck::stop(Stop::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x20015, lock as u64, u64::from(cpu::irql()), 0],
            format!(
                "KeReleaseSpinLock at IRQL {} (it must run at DISPATCH_LEVEL)",
                cpu::irql()
            ),
        ));
    }
    let expected = HELD.with(|h| {
        let mut h = h.borrow_mut();
        let i = h.iter().rposition(|&(l, _)| l == lock);
        i.map(|i| h.remove(i).1)
    });
    if expected != Some(new_irql) {
        bugcheck::stop(Stop::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [
                0x20015,
                lock as u64,
                u64::from(new_irql),
                u64::from(expected.unwrap_or(0xFF)),
            ],
            format!(
                "KeReleaseSpinLock restores IRQL {new_irql}, but the acquire was made at IRQL {}",
                expected.map_or("?".into(), |e| e.to_string())
            ),
        ));
    }
    crate::io::locktime::released(lock);
    word.store(0, Ordering::Release);
    cpu::adjust_spin_locks(-1);
    cpu::set_irql(new_irql);
}

extern "win64" fn io_release_cancel_spin_lock(irql: u8) {
    let m = machine::current();
    let me = crate::ke::owner_tag();
    if m.cancel_lock.load(Ordering::Relaxed) != me {
        bugcheck::stop(Stop::new(
            bugcheck::NTEMU_CHECK,
            [u64::from(irql), 0, 0, 0],
            "IoReleaseCancelSpinLock by a thread that does not hold the cancel spin lock",
        ));
    }
    if irql > DISPATCH_LEVEL {
        bugcheck::stop(Stop::new(
            bugcheck::IRQL_NOT_LESS_OR_EQUAL,
            [0, u64::from(irql), 0, caller() as u64],
            format!("IoReleaseCancelSpinLock restores IRQL {irql}"),
        ));
    }
    m.cancel_lock.store(0, Ordering::Release);
    cpu::adjust_spin_locks(-1);
    cpu::set_irql(irql);
}

/// IoAcquireCancelSpinLock, for the I/O manager's own cancel path.
pub fn acquire_cancel_spin_lock() -> u8 {
    let m = machine::current();
    let old = cpu::raise(DISPATCH_LEVEL);
    if crate::ke::spin_acquire(&m.cancel_lock, crate::ke::owner_tag()).is_err() {
        bugcheck::stop(Stop::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x1001, 0, 0, 0],
            "the cancel spin lock acquired again by the thread that holds it",
        ));
    }
    cpu::adjust_spin_locks(1);
    old
}

pub fn release_cancel_spin_lock(irql: u8) {
    let m = machine::current();
    m.cancel_lock.store(0, Ordering::Release);
    cpu::adjust_spin_locks(-1);
    cpu::set_irql(irql);
}

// ------------------------------------------------------------------------ timers, DPCs

fn kernel_object(m: &machine::Machine, addr: usize, len: usize, what: &str) {
    let ok = addr % 8 == 0
        && (m.pool.live_block_holds(addr, len)
            || m.image
                .writable_ranges()
                .iter()
                .any(|&(a, l)| addr >= a && addr + len <= a + l));
    if !ok {
        bugcheck::stop(Stop::new(
            bugcheck::TIMER_OR_DPC_INVALID,
            [u64::from(what == "DPC"), addr as u64, 0, 0],
            format!("a {what} at {addr:#x}, which is neither in live non-paged pool nor in the driver's data"),
        ));
    }
}

extern "win64" fn ke_initialize_timer(timer: usize) {
    let m = machine::current();
    kernel_object(m, timer, crate::layout::ktimer::SIZE, "timer");
    m.ke.initialize_timer(timer);
}

extern "win64" fn ke_initialize_dpc(dpc: usize, routine: usize, context: usize) {
    let m = machine::current();
    kernel_object(m, dpc, crate::layout::kdpc::SIZE, "DPC");
    m.ke.initialize_dpc(dpc, routine, context);
}

extern "win64" fn ke_set_timer(timer: usize, due: i64, dpc: usize) -> u8 {
    let m = machine::current();
    kernel_object(m, timer, crate::layout::ktimer::SIZE, "timer");
    match m.ke.set_timer(timer, due, dpc, system_time()) {
        Ok(was) => u8::from(was),
        Err(what) => bugcheck::stop(Stop::new(
            bugcheck::TIMER_OR_DPC_INVALID,
            [0, timer as u64, dpc as u64, 0],
            what,
        )),
    }
}

extern "win64" fn ke_cancel_timer(timer: usize) -> u8 {
    u8::from(machine::current().ke.cancel_timer(timer))
}

extern "win64" fn ke_flush_queued_dpcs() {
    machine::current().ke.flush();
}

/// System time: 100 ns units since 1601-01-01 (KeQuerySystemTime's clock).
pub fn system_time() -> i64 {
    const UNIX_EPOCH_AS_FILETIME: i64 = 116_444_736_000_000_000;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    UNIX_EPOCH_AS_FILETIME + (now.as_nanos() / 100) as i64
}

extern "win64" fn ke_query_system_time_precise(out: usize) {
    if !mem::poke_u64(out, system_time() as u64) {
        bugcheck::stop(Stop::new(
            bugcheck::PAGE_FAULT_IN_NONPAGED_AREA,
            [out as u64, 1, caller() as u64, 0],
            format!("KeQuerySystemTimePrecise into {out:#x}, which is not writable"),
        ));
    }
}

// ---------------------------------------------------------------------- memory, lookups

const MM_COPY_MEMORY_PHYSICAL: u32 = 0x1;
const MM_COPY_MEMORY_VIRTUAL: u32 = 0x2;

extern "win64" fn mm_copy_memory(
    target: usize,
    source: u64,
    n: usize,
    flags: u32,
    transferred: usize,
) -> i32 {
    let m = machine::current();
    if flags != MM_COPY_MEMORY_VIRTUAL && flags != MM_COPY_MEMORY_PHYSICAL {
        return STATUS_INVALID_PARAMETER;
    }
    if flags == MM_COPY_MEMORY_PHYSICAL {
        // Physical memory is not emulated; no caller of this driver asks for it.
        return STATUS_INVALID_PARAMETER;
    }
    // The target must be non-paged system memory (the documentation's requirement).
    if target < mem::USER_PROBE_ADDRESS
        || m.pool
            .who_owns(target)
            .is_some_and(|(b, freed)| b.paged || freed.is_some())
    {
        bugcheck::stop(Stop::new(
            bugcheck::NTEMU_CHECK,
            [target as u64, source, n as u64, 0],
            format!("MmCopyMemory into {target:#x}, which is not non-paged system memory"),
        ));
    }
    let mut buf = vec![0u8; n];
    let mut done = 0usize;
    // Copy page by page so a source that turns invalid midway reports the bytes it gave.
    while done < n {
        let at = source as usize + done;
        let chunk = (mem::PAGE - at % mem::PAGE).min(n - done);
        if !mem::copy_in(at, &mut buf[done..done + chunk]) {
            break;
        }
        done += chunk;
    }
    if !mem::copy_out(target, &buf[..done]) {
        bugcheck::stop(Stop::new(
            bugcheck::PAGE_FAULT_IN_NONPAGED_AREA,
            [target as u64, 1, caller() as u64, 0],
            format!("MmCopyMemory's target {target:#x} is not writable"),
        ));
    }
    if transferred != 0 {
        mem::poke_u64(transferred, done as u64);
    }
    if done == n {
        STATUS_SUCCESS
    } else {
        STATUS_ACCESS_VIOLATION
    }
}

/// Reads a counted UTF-16 string the kernel was handed.
pub fn read_unicode_string(at: usize) -> Option<String> {
    let len = mem::peek_u16(at)? as usize;
    let buf = mem::peek_u64(at + 8)? as usize;
    let mut bytes = vec![0u8; len];
    if !mem::copy_in(buf, &mut bytes) {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Some(String::from_utf16_lossy(&units))
}

extern "win64" fn mm_get_system_routine_address(name: usize) -> usize {
    let m = machine::current();
    let Some(name) = read_unicode_string(name) else {
        bugcheck::stop(Stop::new(
            bugcheck::PAGE_FAULT_IN_NONPAGED_AREA,
            [name as u64, 0, caller() as u64, 0],
            "MmGetSystemRoutineAddress with an unreadable name",
        ));
    };
    m.exports
        .iter()
        .enumerate()
        .find(|(_, e)| (e.module == NT || e.module == "hal.dll") && e.name == name)
        .map_or(
            0,
            |(i, e)| if e.data { e.target } else { m.thunks.entry(i) },
        )
}

/// The compiler's memory routines. A fault inside them is the driver's (it passed the
/// pointers), so it is reported at the driver's call.
extern "win64" fn memcpy(dst: usize, src: usize, n: usize) -> usize {
    crate::count::copied(n);
    crate::count::unstepped(|| {
        crate::seh::attributed(caller(), || {
            // SAFETY: the driver's own pointers, as the C memmove contract takes them; an
            // invalid one faults here and is reported at the driver's call (`seh::attributed`).
            unsafe { std::ptr::copy(src as *const u8, dst as *mut u8, n) }
        })
    });
    dst
}

extern "win64" fn memset(dst: usize, c: i32, n: usize) -> usize {
    crate::count::copied(n);
    crate::count::unstepped(|| {
        crate::seh::attributed(caller(), || {
            // SAFETY: as in memcpy.
            unsafe { std::ptr::write_bytes(dst as *mut u8, c as u8, n) }
        })
    });
    dst
}

extern "win64" fn memcmp(a: usize, b: usize, n: usize) -> i32 {
    crate::count::compared(n);
    crate::count::unstepped(|| {
        crate::seh::attributed(caller(), || {
            // SAFETY: as in memcpy; both ranges are only read.
            let (x, y) = unsafe {
                (
                    std::slice::from_raw_parts(a as *const u8, n),
                    std::slice::from_raw_parts(b as *const u8, n),
                )
            };
            x.iter()
                .zip(y)
                .find(|(p, q)| p != q)
                .map_or(0, |(p, q)| i32::from(*p) - i32::from(*q))
        })
    })
}

extern "win64" fn strlen(s: usize) -> usize {
    crate::seh::attributed(caller(), || {
        // SAFETY: as in memcpy: a NUL-terminated string of the driver's.
        unsafe { std::ffi::CStr::from_ptr(s as *const std::ffi::c_char) }.count_bytes()
    })
}

/// `DbgPrintEx(ComponentId, Level, Format, ...)`: a printf subset (%s %S %d %i %u %x %X %p %c
/// %%, with l/ll/I64 size prefixes), with the arguments read the way a win64 variadic callee
/// reads them: the first in R9, the rest from the caller's stack.
#[allow(clippy::too_many_arguments)]
extern "win64" fn dbg_print_ex(
    component: u32,
    level: u32,
    format: usize,
    a0: u64,
    a1: u64,
    a2: u64,
    a3: u64,
    a4: u64,
    a5: u64,
) -> u32 {
    let m = machine::current();
    let args = [a0, a1, a2, a3, a4, a5];
    let text = crate::ntos_print::format(format, &args);
    if m.config.echo_debug_print {
        bugcheck::write_stderr(&format!("[dbg {component}/{level}] {text}"));
    }
    m.debug_log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(text);
    0
}
