//! What a processor knows about the thread running on it: its IRQL, the machine it belongs
//! to, the last call the driver made into the kernel, the spin locks it holds, and the paged
//! memory it must not touch at DISPATCH_LEVEL.
//!
//! Force IRQL checking: Driver Verifier makes pageable memory unreachable whenever a processor
//! raises to DISPATCH_LEVEL, so a driver that touches it there bugchecks at once instead of
//! only when the page happens to be out. The emulator does the same for the paged buffers a
//! request carries (a create's FileName, a kernel-mode caller's directory pattern, a
//! METHOD_NEITHER caller buffer): while the dispatching thread is at DISPATCH_LEVEL or above,
//! their pages are PROT_NONE, and a touch faults into `seh`, which reports it as Verifier would.

use std::cell::{Cell, RefCell};

use crate::mem;

pub const PASSIVE_LEVEL: u8 = 0;
pub const APC_LEVEL: u8 = 1;
pub const DISPATCH_LEVEL: u8 = 2;

/// What kind of thread this is, for reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Not one of the machine's: a test thread before it enters a machine.
    Foreign,
    /// A thread of an emulated process, in a system service or its own code.
    User,
    /// The machine's DPC thread (one per emulated processor).
    Dpc,
    /// The machine's timer and worker threads.
    System,
}

struct State {
    irql: Cell<u8>,
    machine: Cell<usize>,
    role: Cell<Role>,
    /// Return address and export index of the driver's last call into the kernel, and the
    /// driver's RSP (as it will be after the return) and RBP at the call, to unwind its stack.
    caller: Cell<usize>,
    export: Cell<u32>,
    caller_rsp: Cell<usize>,
    caller_rbp: Cell<usize>,
    spin_locks: Cell<u32>,
    /// Paged regions this thread's current request carries: (address, length), page-aligned.
    paged: RefCell<Vec<(usize, usize)>>,
    /// Set while the regions are PROT_NONE.
    paged_out: Cell<bool>,
}

thread_local! {
    static STATE: State = const {
        State {
            irql: Cell::new(PASSIVE_LEVEL),
            machine: Cell::new(0),
            role: Cell::new(Role::Foreign),
            caller: Cell::new(0),
            export: Cell::new(u32::MAX),
            caller_rsp: Cell::new(0),
            caller_rbp: Cell::new(0),
            spin_locks: Cell::new(0),
            paged: RefCell::new(Vec::new()),
            paged_out: Cell::new(false),
        }
    };
}

pub fn irql() -> u8 {
    STATE.with(|s| s.irql.get())
}

/// Sets the IRQL, paging this thread's registered paged regions out on the way up to
/// DISPATCH_LEVEL and back in on the way down.
pub fn set_irql(new: u8) {
    STATE.with(|s| {
        s.irql.set(new);
        let out = new >= DISPATCH_LEVEL;
        if out != s.paged_out.get() {
            let prot = if out { mem::PROT_NONE } else { mem::PROT_RW };
            for &(addr, len) in s.paged.borrow().iter() {
                // The regions are whole pages the I/O manager mapped for this request.
                let _ = mem::protect(addr, len, prot);
            }
            s.paged_out.set(out);
        }
    });
}

/// Raises to `new` (which must not be lower); the previous IRQL.
pub fn raise(new: u8) -> u8 {
    let old = irql();
    set_irql(new.max(old));
    old
}

pub fn role() -> Role {
    STATE.with(|s| s.role.get())
}

pub fn set_role(role: Role) {
    STATE.with(|s| s.role.set(role));
}

/// The machine this thread works for (an address; `machine::current` turns it back).
pub fn machine_addr() -> usize {
    STATE.with(|s| s.machine.get())
}

pub fn set_machine_addr(addr: usize) {
    STATE.with(|s| s.machine.set(addr));
}

pub fn note_call(caller: usize, export: u32, rsp: usize, rbp: usize) {
    STATE.with(|s| {
        s.caller.set(caller);
        s.export.set(export);
        s.caller_rsp.set(rsp);
        s.caller_rbp.set(rbp);
    });
}

/// The driver's registers as they will be when its last call into the kernel returns: enough
/// to unwind the driver's stack from inside an export (the unwinder reads the rest from the
/// stack). `None` before any call.
pub fn last_call_frame() -> Option<crate::unwind::Regs> {
    STATE.with(|s| {
        let rip = s.caller.get();
        (rip != 0 && s.caller_rsp.get() != 0).then(|| {
            let mut r = crate::unwind::Regs {
                rip: rip as u64,
                ..Default::default()
            };
            r.r[crate::unwind::RSP] = s.caller_rsp.get() as u64;
            r.r[crate::unwind::RBP] = s.caller_rbp.get() as u64;
            r
        })
    })
}

/// The driver's last call into the kernel: (return address, export index).
pub fn last_call() -> (usize, u32) {
    STATE.with(|s| (s.caller.get(), s.export.get()))
}

pub fn spin_locks_held() -> u32 {
    STATE.with(|s| s.spin_locks.get())
}

pub fn adjust_spin_locks(delta: i32) {
    STATE.with(|s| {
        s.spin_locks
            .set(s.spin_locks.get().saturating_add_signed(delta))
    });
}

/// Registers the paged regions of the request this thread is about to dispatch.
pub fn set_paged(regions: Vec<(usize, usize)>) {
    STATE.with(|s| {
        debug_assert!(
            !s.paged_out.get(),
            "paged regions replaced at DISPATCH_LEVEL"
        );
        *s.paged.borrow_mut() = regions;
    });
}

pub fn take_paged() -> Vec<(usize, usize)> {
    STATE.with(|s| std::mem::take(&mut *s.paged.borrow_mut()))
}

/// Whether `addr` lies in one of this thread's paged regions (read from the fault handler,
/// which runs on this thread while its own code is not using the list).
pub fn in_paged(addr: usize) -> bool {
    STATE.with(|s| {
        s.paged
            .try_borrow()
            .map(|p| p.iter().any(|&(a, l)| addr >= a && addr < a + l))
            .unwrap_or(false)
    })
}
