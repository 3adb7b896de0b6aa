//! Deterministic instruction counts of the driver's own code, for BENCHMARKS.md.
//!
//! [`count`] runs an operation with the x86 trap flag (EFLAGS.TF) set on the calling thread:
//! the processor raises a debug exception after every instruction, which Linux delivers as
//! SIGTRAP, and the handler counts the instruction by where it was: in the driver image (and,
//! separately, while the driver holds a spin lock) or anywhere else (the emulated kernel). The
//! signal's own instructions are not stepped (the kernel clears TF for the handler and
//! restores it on return). The copy routines the driver imports (memcpy, memmove, memset) are
//! the kernel's: the bytes they move are counted, and they run unstepped ([`unstepped`]), as
//! do the special pool's fills, which model no cost Windows has; the kernel instructions
//! counted are the rest of the emulated kernel's work.
//!
//! Only the calling thread is stepped: an operation's figures are the work done on its
//! thread (a write completing a pending read on the writer's thread counts it; a timer's DPC
//! runs on a DPC thread and does not).

use std::cell::Cell;
use std::sync::Once;

use crate::cpu;
use crate::machine;

/// What one operation cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Instructions executed in the driver image.
    pub driver: u64,
    /// Of those, instructions executed while the driver held a spin lock.
    pub driver_locked: u64,
    /// Instructions executed elsewhere (the emulated kernel and I/O manager).
    pub kernel: u64,
    /// Instructions executed anywhere while the driver held a spin lock: its own and those of
    /// the kernel routines it called under it.
    pub all_locked: u64,
    /// Pool allocations the driver made while it held a spin lock, and their bytes.
    pub allocations_locked: u64,
    pub allocated_locked: u64,
    /// Bytes the driver had the kernel copy or fill for it (memcpy, memmove, memset).
    pub copied: u64,
    /// Of those, bytes moved while the driver held a spin lock.
    pub copied_locked: u64,
    /// Bytes the driver had the kernel compare for it (memcmp), and of those under its lock.
    pub compared: u64,
    pub compared_locked: u64,
}

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static COUNTS: Cell<Counts> = const {
        Cell::new(Counts {
            driver: 0,
            driver_locked: 0,
            kernel: 0,
            all_locked: 0,
            allocations_locked: 0,
            allocated_locked: 0,
            copied: 0,
            copied_locked: 0,
            compared: 0,
            compared_locked: 0,
        })
    };
}

static INSTALL: Once = Once::new();

extern "C" fn on_trap(_sig: i32, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    if !ACTIVE.with(Cell::get) {
        return;
    }
    // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO handler for its duration.
    let rip =
        unsafe { (*(ctx as *const libc::ucontext_t)).uc_mcontext.gregs[libc::REG_RIP as usize] }
            as usize;
    let in_driver = cpu::machine_addr() != 0 && machine::current().image.contains(rip);
    COUNTS.with(|c| {
        let mut n = c.get();
        if cpu::spin_locks_held() > 0 {
            n.all_locked += 1;
        }
        if in_driver {
            n.driver += 1;
            if cpu::spin_locks_held() > 0 {
                n.driver_locked += 1;
            }
        } else {
            n.kernel += 1;
        }
        c.set(n);
    });
}

fn install() {
    INSTALL.call_once(|| {
        // SAFETY: a zeroed sigaction filled with a valid SA_SIGINFO handler; SIGTRAP is not
        // used by anything else in the emulator.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_trap as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGTRAP, &sa, std::ptr::null_mut());
        }
    });
}

fn set_trap_flag(on: bool) {
    // SAFETY: toggles EFLAGS.TF (bit 8) of this thread only; with the SIGTRAP handler
    // installed each instruction then traps into `on_trap`, which returns normally.
    unsafe {
        if on {
            std::arch::asm!("pushfq", "or qword ptr [rsp], 0x100", "popfq");
        } else {
            std::arch::asm!("pushfq", "and qword ptr [rsp], ~0x100", "popfq");
        }
    }
}

/// Runs `f` on this thread (a machine's thread, attached) and counts its instructions.
pub fn count<R>(f: impl FnOnce() -> R) -> (R, Counts) {
    install();
    crate::seh::ensure_signal_stack();
    COUNTS.with(|c| c.set(Counts::default()));
    ACTIVE.with(|a| a.set(true));
    set_trap_flag(true);
    let r = f();
    set_trap_flag(false);
    ACTIVE.with(|a| a.set(false));
    (r, COUNTS.with(Cell::get))
}

/// Called by ExAllocatePool2: the driver asks for `size` bytes.
pub fn allocating(size: usize) {
    if !ACTIVE.with(Cell::get) || cpu::spin_locks_held() == 0 {
        return;
    }
    COUNTS.with(|c| {
        let mut v = c.get();
        v.allocations_locked += 1;
        v.allocated_locked += size as u64;
        c.set(v);
    });
}

/// Runs `f` without single-stepping it: the copy routines the driver imports run this way
/// (their bytes are counted, not their instructions), so a large copy costs no traps.
pub fn unstepped<R>(f: impl FnOnce() -> R) -> R {
    if !ACTIVE.with(Cell::get) {
        return f();
    }
    set_trap_flag(false);
    let r = f();
    set_trap_flag(true);
    r
}

/// Called by memcmp: `n` bytes compared for the driver.
pub fn compared(n: usize) {
    if !ACTIVE.with(Cell::get) {
        return;
    }
    COUNTS.with(|c| {
        let mut v = c.get();
        v.compared += n as u64;
        if cpu::spin_locks_held() > 0 {
            v.compared_locked += n as u64;
        }
        c.set(v);
    });
}

/// Called by the copy routines the driver imports: `n` bytes moved for it.
pub fn copied(n: usize) {
    if !ACTIVE.with(Cell::get) {
        return;
    }
    COUNTS.with(|c| {
        let mut v = c.get();
        v.copied += n as u64;
        if cpu::spin_locks_held() > 0 {
            v.copied_locked += n as u64;
        }
        c.set(v);
    });
}
