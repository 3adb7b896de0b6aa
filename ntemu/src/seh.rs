//! Faults in the driver: the processor's view of them (SIGSEGV, SIGBUS and SIGILL on this
//! process), turned into what Windows would do.
//!
//! - A touch of a paged region this thread's request carries, at DISPATCH_LEVEL or above:
//!   DRIVER_IRQL_NOT_LESS_OR_EQUAL (0xD1), as Verifier's Force IRQL checking reports it.
//! - An invalid kernel address (pool, image, stacks): no exception handler can catch it; a
//!   freed special-pool block gives 0xD5, a guard page 0xD6, a write to a read-only section
//!   0xBE, anything else 0x50.
//! - A user address: at DISPATCH_LEVEL 0xD1 again (a page fault cannot be taken there);
//!   otherwise an access violation is dispatched through the driver's own unwind data and
//!   scope tables (`unwind`), calling the language handler the driver names, which is the
//!   emulator's `__C_specific_handler`. Unhandled, it is KMODE_EXCEPTION_NOT_HANDLED (0x1E).
//!
//! A fault anywhere else (the emulator's own code) goes to the handler that was installed
//! before, so Rust's stack-overflow report and ordinary crashes are unchanged.

use std::cell::Cell;
use std::sync::OnceLock;

use crate::bugcheck::{self, Stop};
use crate::cpu;
use crate::image::Image;
use crate::machine::{self, Machine};
use crate::mem;
use crate::unwind::{self, Regs};

pub const STATUS_ACCESS_VIOLATION: u32 = 0xC000_0005;
pub const STATUS_ILLEGAL_INSTRUCTION: u32 = 0xC000_001D;
const EXCEPTION_EXECUTE_HANDLER: i32 = 1;

/// x64 CONTEXT (1232 bytes): the offsets the emulator fills (winnt.h).
mod context {
    pub const SIZE: usize = 1232;
    pub const CONTEXT_FLAGS: usize = 0x30;
    pub const EFLAGS: usize = 0x44;
    /// Rax..R15 in register-number order start here.
    pub const RAX: usize = 0x78;
    pub const RIP: usize = 0xF8;
}
/// x64 EXCEPTION_RECORD (152 bytes).
mod record {
    pub const SIZE: usize = 152;
    pub const CODE: usize = 0x00;
    pub const FLAGS: usize = 0x04;
    pub const ADDRESS: usize = 0x10;
    pub const NUMBER_PARAMETERS: usize = 0x18;
    pub const INFORMATION: usize = 0x20;
}
/// x64 DISPATCHER_CONTEXT (80 bytes).
pub mod dispatcher {
    pub const SIZE: usize = 80;
    pub const CONTROL_PC: usize = 0x00;
    pub const IMAGE_BASE: usize = 0x08;
    pub const FUNCTION_ENTRY: usize = 0x10;
    pub const ESTABLISHER_FRAME: usize = 0x18;
    pub const TARGET_IP: usize = 0x20;
    pub const CONTEXT_RECORD: usize = 0x28;
    pub const LANGUAGE_HANDLER: usize = 0x30;
    pub const HANDLER_DATA: usize = 0x38;
}

/// What `__C_specific_handler` decided for the frame it was called for: resume at `target`
/// in the frame whose establisher is `establisher`, with `code` in RAX.
#[derive(Clone, Copy, Debug)]
pub struct Resume {
    pub establisher: u64,
    pub target: u64,
    pub code: u64,
}

thread_local! {
    static RESUME: Cell<Option<Resume>> = const { Cell::new(None) };
}

pub fn request_resume(r: Resume) {
    RESUME.with(|c| c.set(Some(r)));
}

thread_local! {
    /// Set while an export copies memory for the driver (memcpy and friends): the driver
    /// address of that call, to which a fault inside the copy is attributed.
    static ATTRIBUTED: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f` (an export touching memory the driver named) so that a fault in it is reported
/// as the driver's, at `caller`.
pub fn attributed<R>(caller: usize, f: impl FnOnce() -> R) -> R {
    let outer = ATTRIBUTED.with(|c| c.replace(caller));
    let r = f();
    ATTRIBUTED.with(|c| c.set(outer));
    r
}

// gregs indices of the Linux x86-64 ucontext, and the register numbers they hold.
const GREG_OF_REG: [usize; 16] = [
    libc::REG_RAX as usize,
    libc::REG_RCX as usize,
    libc::REG_RDX as usize,
    libc::REG_RBX as usize,
    libc::REG_RSP as usize,
    libc::REG_RBP as usize,
    libc::REG_RSI as usize,
    libc::REG_RDI as usize,
    libc::REG_R8 as usize,
    libc::REG_R9 as usize,
    libc::REG_R10 as usize,
    libc::REG_R11 as usize,
    libc::REG_R12 as usize,
    libc::REG_R13 as usize,
    libc::REG_R14 as usize,
    libc::REG_R15 as usize,
];

struct Previous {
    segv: libc::sigaction,
    bus: libc::sigaction,
    ill: libc::sigaction,
}

// SAFETY: plain signal-disposition records, written once before any fault can read them.
unsafe impl Sync for Previous {}
unsafe impl Send for Previous {}

static PREVIOUS: OnceLock<Previous> = OnceLock::new();

/// Size of the signal stack each machine thread gets: the handler formats reports and walks
/// unwind data, far more than the few kilobytes of Rust's own signal stacks.
const SIGNAL_STACK: usize = 1 << 20;

struct SignalStack {
    base: usize,
}

impl Drop for SignalStack {
    fn drop(&mut self) {
        // SAFETY: disables this thread's alternate stack before its memory goes; a signal
        // after this runs on the thread's own stack.
        unsafe {
            let ss = libc::stack_t {
                ss_sp: std::ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            };
            libc::sigaltstack(&ss, std::ptr::null_mut());
        }
        mem::unmap(self.base, SIGNAL_STACK + mem::PAGE);
    }
}

thread_local! {
    static STACK: std::cell::RefCell<Option<SignalStack>> = const { std::cell::RefCell::new(None) };
}

/// Gives the calling thread a signal stack large enough for the fault handler (once).
pub fn ensure_signal_stack() {
    STACK.with(|s| {
        if s.borrow().is_some() {
            return;
        }
        let Ok(base) = mem::map_anywhere(SIGNAL_STACK + mem::PAGE, mem::PROT_RW) else {
            return;
        };
        // A guard page below the stack: an overflow of the handler faults, it does not
        // corrupt other memory.
        let _ = mem::protect(base, mem::PAGE, mem::PROT_NONE);
        let ss = libc::stack_t {
            ss_sp: (base + mem::PAGE) as *mut libc::c_void,
            ss_flags: 0,
            ss_size: SIGNAL_STACK,
        };
        // SAFETY: a stack this thread owns for as long as the thread-local lives (its Drop
        // disables it first).
        if unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) } == 0 {
            *s.borrow_mut() = Some(SignalStack { base });
        } else {
            mem::unmap(base, SIGNAL_STACK + mem::PAGE);
        }
    });
}

/// Installs the fault handler for the whole process, once.
pub fn install() {
    PREVIOUS.get_or_init(|| {
        let install_one = |sig: i32| -> libc::sigaction {
            // SAFETY: sigaction with a zeroed struct filled with a valid handler and flags;
            // the previous disposition is saved for chaining.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_fault as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
                libc::sigemptyset(&mut sa.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                libc::sigaction(sig, &sa, &mut old);
                old
            }
        };
        Previous {
            segv: install_one(libc::SIGSEGV),
            bus: install_one(libc::SIGBUS),
            ill: install_one(libc::SIGILL),
        }
    });
}

fn regs_of(uc: &libc::ucontext_t) -> Regs {
    let g = &uc.uc_mcontext.gregs;
    let mut r = Regs::default();
    for (reg, &gi) in GREG_OF_REG.iter().enumerate() {
        r.r[reg] = g[gi] as u64;
    }
    r.rip = g[libc::REG_RIP as usize] as u64;
    r
}

fn set_regs(uc: &mut libc::ucontext_t, r: &Regs) {
    let g = &mut uc.uc_mcontext.gregs;
    for (reg, &gi) in GREG_OF_REG.iter().enumerate() {
        g[gi] = r.r[reg] as i64;
    }
    g[libc::REG_RIP as usize] = r.rip as i64;
}

extern "C" fn on_fault(sig: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo and ucontext for a SA_SIGINFO handler; they
    // live for the duration of the handler, which is the only code using them here.
    let (addr, uc) = unsafe {
        (
            (*info).si_addr() as usize,
            &mut *(ctx as *mut libc::ucontext_t),
        )
    };
    let regs = regs_of(uc);
    let rip = regs.rip as usize;
    let write = uc.uc_mcontext.gregs[libc::REG_ERR as usize] & 2 != 0;
    let attributed = ATTRIBUTED.with(|c| c.get());
    // The driver instruction responsible: the faulting one, or the driver's call into a copy
    // routine of the kernel's that faulted on the driver's pointer.
    let culprit = if machine::owning(rip).is_none() && attributed != 0 {
        attributed
    } else {
        rip
    };
    if sig == libc::SIGSEGV && cpu::in_paged(addr) && cpu::irql() >= cpu::DISPATCH_LEVEL {
        bugcheck::stop(
            Stop::new(
                bugcheck::DRIVER_IRQL_NOT_LESS_OR_EQUAL,
                [addr as u64, u64::from(cpu::irql()), u64::from(write), culprit as u64],
                format!(
                    "paged memory at {addr:#x} ({}) touched at IRQL {}: pageable memory is out of reach at DISPATCH_LEVEL (Force IRQL checking)",
                    if write { "write" } else { "read" },
                    cpu::irql()
                ),
            )
            .at(culprit)
            .detail(format!("stack: {}", driver_stack(culprit, regs))),
        );
    }
    if machine::owning(rip).is_none() && attributed != 0 && cpu::machine_addr() != 0 {
        // A copy routine faulted on the driver's pointer: the driver's fault, at its call.
        let m = machine::current();
        // The driver's registers at its call, so the report unwinds the driver's stack.
        let at = cpu::last_call_frame()
            .filter(|r| r.rip as usize == attributed)
            .unwrap_or(Regs {
                rip: attributed as u64,
                ..regs
            });
        if addr >= mem::USER_PROBE_ADDRESS {
            kernel_address_fault(m, at, addr, write);
        }
        not_handled(m, STATUS_ACCESS_VIOLATION, at, addr, write);
    }
    if let Some(m) = machine::owning(rip) {
        if sig == libc::SIGILL {
            not_handled(m, STATUS_ILLEGAL_INSTRUCTION, regs, 0, false);
        }
        if let Some(resume) = driver_fault(m, regs, addr, write) {
            set_regs(uc, &resume);
            return;
        }
    }
    if cpu::machine_addr() != 0 && (mem::POOL_BASE..mem::POOL_BASE + mem::POOL_SIZE).contains(&addr)
    {
        emulator_fault(addr, write);
    }
    chain(sig, info, ctx);
}

fn driver_stack(culprit: usize, regs: Regs) -> String {
    match machine::owning(regs.rip as usize) {
        Some(m) => unwind::stack(&m.image, regs).join(" <- "),
        None => machine::stack_at_call(culprit).unwrap_or_else(|| machine::describe(culprit)),
    }
}

/// Handles a fault at a driver instruction: the registers to resume with, or a bugcheck.
fn driver_fault(m: &Machine, regs: Regs, addr: usize, write: bool) -> Option<Regs> {
    let rip = regs.rip as usize;
    if addr >= mem::USER_PROBE_ADDRESS {
        kernel_address_fault(m, regs, addr, write);
    }
    if cpu::irql() >= cpu::DISPATCH_LEVEL {
        bugcheck::stop(
            Stop::new(
                bugcheck::DRIVER_IRQL_NOT_LESS_OR_EQUAL,
                [
                    addr as u64,
                    u64::from(cpu::irql()),
                    u64::from(write),
                    rip as u64,
                ],
                format!(
                    "user address {addr:#x} touched at IRQL {} (no page fault can be taken there)",
                    cpu::irql()
                ),
            )
            .at(rip)
            .detail(format!(
                "stack: {}",
                unwind::stack(&m.image, regs).join(" <- ")
            )),
        );
    }
    match dispatch(
        m,
        regs,
        STATUS_ACCESS_VIOLATION,
        [u64::from(write), addr as u64],
    ) {
        Some(r) => Some(r),
        None => not_handled(m, STATUS_ACCESS_VIOLATION, regs, addr, write),
    }
}

fn kernel_address_fault(m: &Machine, regs: Regs, addr: usize, write: bool) -> ! {
    let rip = regs.rip as usize;
    let stack = format!("stack: {}", unwind::stack(&m.image, regs).join(" <- "));
    let access = if write { "write" } else { "read" };
    if let Some((block, freed_by)) = m.pool.who_owns(addr) {
        let site = format!(
            "the block ({} bytes, tag '{}') was allocated at {}",
            block.size,
            crate::pool::tag_text(block.tag),
            machine::describe(block.site)
        );
        let stop = match freed_by {
            Some(by) => Stop::new(
                bugcheck::DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL,
                [addr as u64, u64::from(write), rip as u64, 0],
                format!(
                    "{access} of {addr:#x}, {:+} bytes into a freed block",
                    addr as i64 - block.addr as i64
                ),
            )
            .detail(site)
            .detail(format!("freed at {}", machine::describe(by))),
            None => Stop::new(
                bugcheck::DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION,
                [addr as u64, u64::from(write), rip as u64, 0],
                format!(
                    "{access} of {addr:#x}, {} bytes past the end of a live block",
                    addr as i64 - (block.addr + block.size) as i64
                ),
            )
            .detail(site),
        };
        bugcheck::stop(stop.at(rip).detail(stack));
    }
    if write && m.image.contains(addr) {
        let section = m
            .image
            .section_at(addr)
            .map_or("?".into(), |s| s.name.clone());
        bugcheck::stop(
            Stop::new(
                bugcheck::ATTEMPTED_WRITE_TO_READONLY_MEMORY,
                [addr as u64, 0, 0, 0],
                format!("write to {addr:#x} in the read-only section {section} of the driver"),
            )
            .at(rip)
            .detail(stack),
        );
    }
    bugcheck::stop(
        Stop::new(
            bugcheck::PAGE_FAULT_IN_NONPAGED_AREA,
            [addr as u64, u64::from(write), rip as u64, 0],
            format!("{access} of the invalid kernel address {addr:#x}"),
        )
        .at(rip)
        .detail(stack),
    )
}

fn not_handled(m: &Machine, code: u32, regs: Regs, addr: usize, write: bool) -> ! {
    let rip = regs.rip as usize;
    bugcheck::stop(
        Stop::new(
            bugcheck::KMODE_EXCEPTION_NOT_HANDLED,
            [u64::from(code), rip as u64, u64::from(write), addr as u64],
            format!("exception {code:#010x} at {rip:#x} (address {addr:#x}) that no handler of the driver caught"),
        )
        .at(rip)
        .detail(format!("stack: {}", unwind::stack(&m.image, regs).join(" <- "))),
    )
}

type LanguageHandler = unsafe extern "win64" fn(*mut u8, u64, *mut u8, *mut u8) -> i32;

/// The first phase of x64 exception dispatch: walks the driver's frames from the fault,
/// calling each exception handler the unwind data names; the registers to resume with when
/// one asks to execute its handler.
fn dispatch(m: &Machine, fault: Regs, code: u32, info: [u64; 2]) -> Option<Regs> {
    let image: &Image = &m.image;
    let mut rec = vec![0u8; record::SIZE];
    put32(&mut rec, record::CODE, code);
    put32(&mut rec, record::FLAGS, 0);
    put64(&mut rec, record::ADDRESS, fault.rip);
    put32(&mut rec, record::NUMBER_PARAMETERS, 2);
    put64(&mut rec, record::INFORMATION, info[0]);
    put64(&mut rec, record::INFORMATION + 8, info[1]);
    let mut ctx = vec![0u8; context::SIZE];
    put32(&mut ctx, context::CONTEXT_FLAGS, 0x10_0003);
    for (i, v) in fault.r.iter().enumerate() {
        put64(&mut ctx, context::RAX + i * 8, *v);
    }
    put64(&mut ctx, context::RIP, fault.rip);
    put32(&mut ctx, context::EFLAGS, 0x202);

    let mut regs = fault;
    for _ in 0..64 {
        let pc = regs.rip as usize;
        if !image.contains(pc) {
            return None;
        }
        let inside = regs;
        let Some(f) = image.function_at(pc) else {
            unwind::step(image, &mut regs)?;
            continue;
        };
        let frame = unwind::unwind(image, f, &mut regs, true)?;
        let Some((handler, data)) = frame.handler else {
            continue;
        };
        let mut dc = vec![0u8; dispatcher::SIZE];
        put64(&mut dc, dispatcher::CONTROL_PC, pc as u64);
        put64(&mut dc, dispatcher::IMAGE_BASE, image.base as u64);
        put64(&mut dc, dispatcher::ESTABLISHER_FRAME, frame.establisher);
        put64(&mut dc, dispatcher::CONTEXT_RECORD, ctx.as_mut_ptr() as u64);
        put64(&mut dc, dispatcher::LANGUAGE_HANDLER, handler);
        put64(&mut dc, dispatcher::HANDLER_DATA, data);
        put64(&mut dc, dispatcher::FUNCTION_ENTRY, 0);
        RESUME.with(|c| c.set(None));
        // SAFETY: `handler` is the language handler the driver's own unwind data names for
        // this frame, inside its image (its import thunk of __C_specific_handler, bound to the
        // emulator); it is called with the four arguments of the x64 handler ABI, all valid
        // for the call.
        let disposition = unsafe {
            let f: LanguageHandler = std::mem::transmute(handler as usize);
            f(
                rec.as_mut_ptr(),
                frame.establisher,
                ctx.as_mut_ptr(),
                dc.as_mut_ptr(),
            )
        };
        if let Some(r) = RESUME.with(|c| c.take()) {
            if r.establisher != frame.establisher {
                return None;
            }
            let mut out = inside;
            out.rip = r.target;
            out.r[0] = r.code;
            return Some(out);
        }
        if disposition == 0 {
            // ExceptionContinueExecution for a non-continuable fault: not allowed.
            return None;
        }
    }
    None
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// `__C_specific_handler`, the language handler of C-style `__try/__except` scopes, as the
/// x64 ABI defines its scope table: for the first record around the faulting address with an
/// `__except` target, evaluate the filter (1 is EXCEPTION_EXECUTE_HANDLER; otherwise a filter
/// function of the driver's, called with the exception pointers and the establisher frame) and
/// on "execute" unwind to the target with the exception code in RAX.
///
/// # Safety
/// Called only by the driver's unwind data through the dispatcher above, with its records.
pub unsafe extern "win64" fn c_specific_handler(
    record_ptr: *mut u8,
    establisher: u64,
    context_ptr: *mut u8,
    dc: *mut u8,
) -> i32 {
    const CONTINUE_SEARCH: i32 = 1;
    let dcu = dc as usize;
    let (Some(pc), Some(base), Some(data)) = (
        mem::peek_u64(dcu + dispatcher::CONTROL_PC),
        mem::peek_u64(dcu + dispatcher::IMAGE_BASE),
        mem::peek_u64(dcu + dispatcher::HANDLER_DATA),
    ) else {
        return CONTINUE_SEARCH;
    };
    let flags = mem::peek_u32(record_ptr as usize + record::FLAGS).unwrap_or(0);
    if flags & 0x66 != 0 {
        // Unwinding: no termination handlers in this driver to run.
        return CONTINUE_SEARCH;
    }
    let code = mem::peek_u32(record_ptr as usize + record::CODE).unwrap_or(0);
    let Some(scopes) = unwind::scope_table(data as usize) else {
        return CONTINUE_SEARCH;
    };
    let rva = (pc - base) as u32;
    for s in scopes {
        if rva < s.begin || rva >= s.end || s.target == 0 {
            continue;
        }
        let verdict = if s.handler == 1 {
            EXCEPTION_EXECUTE_HANDLER
        } else {
            let pointers = [record_ptr as u64, context_ptr as u64];
            type Filter = unsafe extern "win64" fn(*const u64, u64) -> i32;
            // SAFETY: the filter's RVA comes from the driver's own scope table; it is called
            // with EXCEPTION_POINTERS (record, context) and the establisher frame.
            unsafe {
                let f: Filter = std::mem::transmute((base + u64::from(s.handler)) as usize);
                f(pointers.as_ptr(), establisher)
            }
        };
        if verdict == EXCEPTION_EXECUTE_HANDLER {
            request_resume(Resume {
                establisher,
                target: base + u64::from(s.target),
                code: u64::from(code),
            });
            return CONTINUE_SEARCH;
        }
        if verdict < 0 {
            return 0;
        }
    }
    CONTINUE_SEARCH
}

/// The emulator itself touched pool it must not (its own bug, or the driver's that it failed
/// to catch earlier): a report naming the block and the emulator's stack, never a bare crash.
fn emulator_fault(addr: usize, write: bool) -> ! {
    let m = machine::current();
    let mut stop = Stop::new(
        bugcheck::NTEMU_CHECK,
        [addr as u64, u64::from(write), 0, 0],
        format!(
            "the emulated kernel {} {addr:#x}, pool it does not own",
            if write { "wrote" } else { "read" }
        ),
    )
    .at(0);
    if let Some((block, freed_by)) = m.pool.who_owns(addr) {
        stop = stop.detail(format!(
            "the block at {:#x} ({} bytes, tag '{}'){}",
            block.addr,
            block.size,
            crate::pool::tag_text(block.tag),
            if freed_by.is_some() {
                " was freed"
            } else {
                " is live"
            }
        ));
    }
    stop = stop.detail(format!(
        "emulator stack:\n{}",
        std::backtrace::Backtrace::force_capture()
    ));
    bugcheck::stop(stop)
}

fn chain(sig: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let Some(prev) = PREVIOUS.get() else { return };
    let old = match sig {
        libc::SIGBUS => &prev.bus,
        libc::SIGILL => &prev.ill,
        _ => &prev.segv,
    };
    let handler = old.sa_sigaction;
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        // SAFETY: restores the default disposition and returns: the faulting instruction runs
        // again and the process dies of the signal as it would have without the emulator.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
        return;
    }
    // SAFETY: the previous handler was installed for this signal with these flags; it is
    // called with the same arguments the kernel gave us.
    unsafe {
        if old.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(i32, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(handler);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(i32) = std::mem::transmute(handler);
            f(sig);
        }
    }
}
