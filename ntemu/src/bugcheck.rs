//! Stopping the machine: what a bugcheck is in the emulator.
//!
//! A bugcheck ends the whole process (as it ends a Windows machine), after writing a report to
//! standard error: the stop code and its parameters, what the check found in words, where in
//! the driver (function and offset, from `.pdata` and the `.pdb`), on which kind of thread and
//! at which IRQL. Tests that expect one run the scenario in a child process and read the
//! report; the line `*** STOP 0x...` is the machine-readable part.
//!
//! Stop codes are Windows' where Microsoft documents one for the condition (the bug check
//! reference on learn.microsoft.com, and Driver Verifier's 0xC4 subcodes); a check Windows
//! makes without a documented code reports [`NTEMU_CHECK`] and says what it found.

use std::fmt::Write as _;

use crate::cpu;

/// The process exit status of a bugcheck (distinct from a test failure's 101).
pub const EXIT_STATUS: i32 = 66;

pub const IRQL_NOT_LESS_OR_EQUAL: u32 = 0x0A;
pub const KMODE_EXCEPTION_NOT_HANDLED: u32 = 0x1E;
pub const MULTIPLE_IRP_COMPLETE_REQUESTS: u32 = 0x44;
pub const CANCEL_STATE_IN_COMPLETED_IRP: u32 = 0x48;
pub const PAGE_FAULT_IN_NONPAGED_AREA: u32 = 0x50;
pub const ATTEMPTED_WRITE_TO_READONLY_MEMORY: u32 = 0xBE;
pub const SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION: u32 = 0xC1;
pub const BAD_POOL_CALLER: u32 = 0xC2;
pub const DRIVER_VERIFIER_DETECTED_VIOLATION: u32 = 0xC4;
pub const TIMER_OR_DPC_INVALID: u32 = 0xC7;
pub const DRIVER_VERIFIER_IOMANAGER_VIOLATION: u32 = 0xC9;
pub const DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS: u32 = 0xCE;
pub const DRIVER_IRQL_NOT_LESS_OR_EQUAL: u32 = 0xD1;
pub const DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL: u32 = 0xD5;
pub const DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION: u32 = 0xD6;
pub const SYSTEM_THREAD_EXCEPTION_NOT_HANDLED: u32 = 0x7E;
/// rsmailslot.sys's own stop code for a panic ('RSMP'): line, column, file name address and
/// length (driver/src/kernel.rs).
pub const RSMAILSLOT_PANIC: u32 = 0x5253_4D50;
/// A check of the emulator's for which Windows documents no stop code of its own.
pub const NTEMU_CHECK: u32 = 0xE000_0001;

pub fn name(code: u32) -> &'static str {
    match code {
        IRQL_NOT_LESS_OR_EQUAL => "IRQL_NOT_LESS_OR_EQUAL",
        KMODE_EXCEPTION_NOT_HANDLED => "KMODE_EXCEPTION_NOT_HANDLED",
        MULTIPLE_IRP_COMPLETE_REQUESTS => "MULTIPLE_IRP_COMPLETE_REQUESTS",
        CANCEL_STATE_IN_COMPLETED_IRP => "CANCEL_STATE_IN_COMPLETED_IRP",
        PAGE_FAULT_IN_NONPAGED_AREA => "PAGE_FAULT_IN_NONPAGED_AREA",
        ATTEMPTED_WRITE_TO_READONLY_MEMORY => "ATTEMPTED_WRITE_TO_READONLY_MEMORY",
        SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION => "SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION",
        BAD_POOL_CALLER => "BAD_POOL_CALLER",
        DRIVER_VERIFIER_DETECTED_VIOLATION => "DRIVER_VERIFIER_DETECTED_VIOLATION",
        TIMER_OR_DPC_INVALID => "TIMER_OR_DPC_INVALID",
        DRIVER_VERIFIER_IOMANAGER_VIOLATION => "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
        DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS => {
            "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS"
        }
        DRIVER_IRQL_NOT_LESS_OR_EQUAL => "DRIVER_IRQL_NOT_LESS_OR_EQUAL",
        DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL => "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL",
        DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION => "DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION",
        SYSTEM_THREAD_EXCEPTION_NOT_HANDLED => "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED",
        RSMAILSLOT_PANIC => "RSMAILSLOT_PANIC (the driver panicked)",
        NTEMU_CHECK => "NTEMU_CHECK",
        _ => "(unnamed)",
    }
}

/// A stop, as the report prints it.
#[derive(Clone, Debug)]
pub struct Stop {
    pub code: u32,
    pub params: [u64; 4],
    /// What the check found, in words.
    pub what: String,
    /// The driver address responsible (the faulting instruction, or the return address of the
    /// driver's call into the kernel); 0 when there is none.
    pub at: usize,
    /// Further lines: a stack, an allocation site.
    pub detail: Vec<String>,
}

impl Stop {
    pub fn new(code: u32, params: [u64; 4], what: impl Into<String>) -> Stop {
        Stop {
            code,
            params,
            what: what.into(),
            at: cpu::last_call().0,
            detail: Vec::new(),
        }
    }

    pub fn at(mut self, at: usize) -> Stop {
        self.at = at;
        self
    }

    pub fn detail(mut self, line: impl Into<String>) -> Stop {
        self.detail.push(line.into());
        self
    }

    pub fn report(&self) -> String {
        let mut s = String::new();
        let [a, b, c, d] = self.params;
        let _ = writeln!(
            s,
            "*** STOP 0x{:08X} {} (0x{a:X}, 0x{b:X}, 0x{c:X}, 0x{d:X})",
            self.code,
            name(self.code)
        );
        let _ = writeln!(s, "    {}", self.what);
        if self.at != 0 {
            let _ = writeln!(s, "    at {}", crate::machine::describe(self.at));
        }
        let _ = writeln!(
            s,
            "    on a {:?} thread at IRQL {}",
            cpu::role(),
            cpu::irql()
        );
        for line in &self.detail {
            let _ = writeln!(s, "    {line}");
        }
        s
    }
}

/// Stops the machine: the report to standard error, then the process ends with
/// [`EXIT_STATUS`]. Safe to call from the fault handler: it only formats and writes.
pub fn stop(mut stop: Stop) -> ! {
    if stop.at != 0 && !stop.detail.iter().any(|l| l.starts_with("stack:")) {
        if let Some(stack) = crate::machine::stack_at_call(stop.at) {
            stop.detail.insert(0, format!("stack: {stack}"));
        }
    }
    let text = stop.report();
    write_stderr(&text);
    if std::env::var_os("NTEMU_BACKTRACE").is_some() {
        // For debugging the emulator itself: where in it the stop was raised (not
        // async-signal-safe, so only on request).
        write_stderr(&format!("{}\n", std::backtrace::Backtrace::force_capture()));
    }
    crate::machine::on_stop(&stop);
    // SAFETY: _exit ends the process at once without running any handler that could touch
    // the state the bugcheck found broken.
    unsafe { libc::_exit(EXIT_STATUS) }
}

pub fn write_stderr(text: &str) {
    let bytes = text.as_bytes();
    let mut done = 0;
    while done < bytes.len() {
        // SAFETY: writes from a live buffer to fd 2; no Rust state is involved.
        let n = unsafe {
            libc::write(
                2,
                bytes[done..].as_ptr() as *const libc::c_void,
                bytes.len() - done,
            )
        };
        if n <= 0 {
            break;
        }
        done += n as usize;
    }
}

/// The panic parameters of rsmailslot.sys, decoded: `file:line:column`.
pub fn decode_rsmp(params: [u64; 4]) -> String {
    let [line, column, file, len] = params;
    let len = (len as usize).min(512);
    let mut name = vec![0u8; len];
    let file_name = if len > 0 && crate::mem::copy_in(file as usize, &mut name) {
        String::from_utf8_lossy(&name).into_owned()
    } else {
        format!("(file name at {file:#x})")
    };
    format!("the driver panicked at {file_name}:{line}:{column}")
}
