//! KMDF as the driver sees it: the loader's bind protocol (`bind`), the function table whose
//! every entry is named from the public `wdffuncenum.h` (`names`), the functions the driver
//! calls with the checks the public framework source makes (`api`), and the framework's
//! dispatch of IRPs to a device's WDM preprocess callbacks (`dispatch`).
//!
//! The emulated framework is KMDF 1.33 (Windows 11's); a 1.15 client binds to it with its 444
//! entries, as the framework source allows for a released table size. An entry the emulator
//! does not implement stops the machine naming the function the driver called.

pub mod api;
pub mod bind;
pub mod dispatch;
pub mod names;
pub mod registry;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::bugcheck::{self, Stop};
use crate::cpu::{DISPATCH_LEVEL, PASSIVE_LEVEL};
use crate::exports::Export;
use crate::machine;
use crate::se::SecurityDescriptor;
use crate::thunks::Thunks;

/// The framework's minor version.
pub const FRAMEWORK_MINOR: u32 = 33;

/// A device being described by the driver (PWDFDEVICE_INIT).
#[derive(Clone, Debug)]
pub struct DeviceInit {
    pub sd: SecurityDescriptor,
    pub name: Option<String>,
    pub device_type: u32,
    pub characteristics: u32,
    pub io_type: u32,
    pub exclusive: bool,
    /// Per major function: the callback and the minor functions it wants (all when empty).
    pub preprocess: Vec<Option<(usize, Vec<u8>)>>,
}

/// A WDFDEVICE: the WDM device object behind it and its preprocess callbacks.
#[derive(Clone, Debug)]
pub struct FxDevice {
    pub handle: usize,
    pub device_object: usize,
    pub preprocess: Vec<Option<(usize, Vec<u8>)>>,
    pub links: Vec<String>,
}

/// The WDFDRIVER.
#[derive(Clone, Debug)]
pub struct FxDriver {
    pub handle: usize,
    pub driver_object: usize,
    pub evt_unload: usize,
}

#[derive(Debug, Default)]
pub struct State {
    /// (bind info, registry path, globals) while bound.
    pub binding: Option<(usize, usize, usize)>,
    pub driver: Option<FxDriver>,
    pub inits: HashMap<usize, DeviceInit>,
    pub devices: HashMap<usize, FxDevice>,
    /// Device objects by address, to their WDFDEVICE.
    pub by_object: HashMap<usize, usize>,
    /// Open WDFKEYs.
    pub keys: std::collections::HashSet<usize>,
}

#[derive(Debug)]
pub struct Framework {
    /// The first KMDF entry's index in the machine's export table.
    pub base: usize,
    /// The function table handed to the driver at bind: one thunk address per entry.
    pub table: &'static [u64],
    state: Mutex<State>,
    /// When non-zero, the framework call with this number (1-based, counting the calls that
    /// can fail, and the bind) fails: the self-check of DriverEntry's error paths.
    pub fail_call: AtomicU32,
    calls: AtomicU32,
}

impl Framework {
    pub fn new(base: usize, thunks: &Thunks) -> Framework {
        let table: Vec<u64> = (0..names::COUNT_1_33)
            .map(|i| thunks.entry(base + i) as u64)
            .collect();
        Framework {
            base,
            table: Box::leak(table.into_boxed_slice()),
            state: Mutex::new(State::default()),
            fail_call: AtomicU32::new(0),
            calls: AtomicU32::new(0),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_bound(&self) -> bool {
        self.lock().binding.is_some()
    }

    /// Counts a call that can fail; true when this one is to fail.
    pub fn fails_now(&self) -> bool {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.fail_call.load(Ordering::SeqCst) == n
    }

    /// Fallible framework calls made so far.
    pub fn fallible_calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }

    /// Checks the globals a call passes are the ones bind handed out.
    pub fn check_globals(&self, globals: usize) {
        let bound = self.lock().binding.map(|b| b.2);
        if bound != Some(globals) {
            bugcheck::stop(Stop::new(
                bugcheck::NTEMU_CHECK,
                [globals as u64, bound.unwrap_or(0) as u64, 0, 0],
                format!(
                    "a KMDF call with the driver globals {globals:#x}; bind handed out {}",
                    bound.map_or("none (not bound)".into(), |g| format!("{g:#x}"))
                ),
            ));
        }
    }
}

/// A unique handle value for a framework object (never reused).
pub fn new_handle() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    0x7FF0_0000_0000_0000usize.wrapping_add(NEXT.fetch_add(0x10, Ordering::Relaxed)) | 0x8
}

/// The table entries, in index order: implemented functions with their documented IRQL
/// bound, the rest bound to [`unimplemented`].
pub fn exports() -> Vec<Export> {
    let implemented: HashMap<&str, (usize, u8)> = api::implemented()
        .into_iter()
        .chain(registry::implemented())
        .collect();
    names::NAMES
        .iter()
        .map(|&name| {
            let (target, irql) = implemented.get(name).copied().unwrap_or((
                unimplemented as *const () as usize,
                crate::exports::HIGH_LEVEL,
            ));
            Export::function("WdfFunctions", name, target, irql)
        })
        .collect()
}

/// Every entry the emulator does not implement is bound here.
extern "win64" fn unimplemented() -> ! {
    let (caller, index) = crate::cpu::last_call();
    let m = machine::current();
    let name = m.exports.get(index as usize).map_or("?", |e| e.name);
    let table_index = (index as usize).wrapping_sub(m.kmdf.base);
    bugcheck::stop(
        Stop::new(
            bugcheck::NTEMU_CHECK,
            [table_index as u64, 0, 0, 0],
            format!("the driver called KMDF function #{table_index} {name}, which the emulated framework does not implement"),
        )
        .at(caller),
    );
}

pub const IRQL_PASSIVE: u8 = PASSIVE_LEVEL;
pub const IRQL_DISPATCH: u8 = DISPATCH_LEVEL;
