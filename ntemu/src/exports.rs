//! What the emulated kernel exports: every routine of ntoskrnl.exe, hal.dll and wdfldr.sys the
//! emulator implements, each with the highest IRQL its documentation allows, and the KMDF
//! function table's entries by index. Each export is reached through its own entry in
//! `thunks`, whose gate ([`gate`]) records the caller and checks the IRQL before the call.

use crate::bugcheck::{self, Stop};
use crate::cpu;
use crate::machine;

/// Highest IRQL a routine may be called at: HIGH_LEVEL means "any".
pub const HIGH_LEVEL: u8 = 15;

#[derive(Clone, Debug)]
pub struct Export {
    pub module: &'static str,
    pub name: &'static str,
    /// The implementation (for `Data` exports, the variable's address).
    pub target: usize,
    pub max_irql: u8,
    pub data: bool,
}

impl Export {
    pub const fn function(
        module: &'static str,
        name: &'static str,
        target: usize,
        max_irql: u8,
    ) -> Export {
        Export {
            module,
            name,
            target,
            max_irql,
            data: false,
        }
    }
}

/// Every call the driver makes into the kernel passes here first (see `thunks`).
pub extern "win64" fn gate(caller: usize, index: u32, rsp: usize, rbp: usize) {
    cpu::note_call(caller, index, rsp, rbp);
    let m = machine::current();
    let i = index as usize;
    let Some(e) = m.exports.get(i) else { return };
    let irql = cpu::irql();
    if irql > e.max_irql {
        bugcheck::stop(
            Stop::new(
                bugcheck::IRQL_NOT_LESS_OR_EQUAL,
                [0, u64::from(irql), 0, caller as u64],
                format!(
                    "{}!{} called at IRQL {irql}; its documented maximum is {}",
                    e.module, e.name, e.max_irql
                ),
            )
            .at(caller),
        );
    }
}

/// Whether a module name is one the emulator exports from (case-insensitively, as the
/// loader matches DLL names).
pub fn same_module(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}
