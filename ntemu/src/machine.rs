//! One emulated Windows machine with the driver loaded: its image, pool, timers and DPCs,
//! KMDF, I/O manager and processes, and the entry points that start and stop it.
//!
//! A machine lives for the rest of the process once booted (it is leaked: the driver's code
//! may run on its threads until they are stopped, and the reports name its image), so every
//! thread that runs for it can reach it through a plain reference. Several machines can exist
//! side by side; each thread knows the one it works for (`cpu`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::bugcheck::{self, Stop};
use crate::cpu;
use crate::exports::{self, Export};
use crate::image::Image;
use crate::io::Io;
use crate::ke::Dispatcher;
use crate::kmdf::Framework;
use crate::layout::{self, driver};
use crate::mem::Raw;
use crate::pool::{Owner, Pool};
use crate::se::Sid;
use crate::thunks::Thunks;
use crate::{kmdf, ntos, pool};

/// What a machine is booted with.
#[derive(Clone, Debug)]
pub struct Config {
    /// The driver image (its `.pdb` beside it is used when present).
    pub image: PathBuf,
    /// DPC threads: the emulated processors.
    pub processors: usize,
    /// The owner the object manager gives a device whose SDDL names none. Windows takes it from
    /// the creating thread's token (the System process), which public sources do not settle
    /// between SYSTEM and Administrators, so tests boot with each.
    pub device_owner: Sid,
    /// Copy the driver's DbgPrintEx output to standard error as it happens.
    pub echo_debug_print: bool,
    /// The service's registry path DriverEntry receives ([`REGISTRY_PATH`] unless a test
    /// needs another, such as one longer than MAX_PATH).
    pub registry_path: String,
    /// The REG_DWORD values of the service's `Parameters` key, as the driver reads them at
    /// load (none unless a test sets some).
    pub parameters: Vec<(String, u32)>,
}

impl Config {
    pub fn new(image: impl Into<PathBuf>) -> Config {
        Config {
            image: image.into(),
            processors: 2,
            device_owner: Sid::local_system(),
            echo_debug_print: std::env::var_os("NTEMU_ECHO").is_some(),
            registry_path: REGISTRY_PATH.to_string(),
            parameters: Vec::new(),
        }
    }
}

/// Switches that break one kernel behaviour at a time, so `tests/instrument.rs` can show each
/// check catches what it is for.
#[derive(Debug, Default)]
pub struct Faults {
    /// IoCancelIrp calls the cancel routine a second time.
    pub cancel_routine_twice: AtomicBool,
    /// The I/O manager calls dispatch routines at DISPATCH_LEVEL.
    pub dispatch_at_dispatch_level: AtomicBool,
    /// System buffers come from paged pool (and are registered as paged).
    pub paged_system_buffers: AtomicBool,
}

#[derive(Debug)]
pub struct Machine {
    pub config: Config,
    pub image: Image,
    pub thunks: Thunks,
    pub exports: Vec<Export>,
    pub pool: Pool,
    pub ke: Arc<Dispatcher>,
    pub kmdf: Framework,
    pub io: Io,
    pub faults: Faults,
    /// The driver's DbgPrintEx output.
    pub debug_log: Mutex<Vec<String>>,
    /// The DRIVER_OBJECT and the registry path DriverEntry received.
    pub driver_object: Raw,
    pub registry_path: Raw,
    /// The I/O system's cancel spin lock.
    pub cancel_lock: AtomicU64,
    pub loaded: AtomicBool,
    /// The access tokens requests carry, as kernel objects.
    pub tokens: crate::token::Objects,
    /// Each process's pool quota (POOL_FLAG_USE_QUOTA).
    pub quotas: crate::quota::Quotas,
}

static MACHINES: RwLock<Vec<&'static Machine>> = RwLock::new(Vec::new());

/// The machine the calling thread works for.
pub fn current() -> &'static Machine {
    let addr = cpu::machine_addr();
    assert!(
        addr != 0,
        "emulator bug: a thread outside any machine reached the kernel"
    );
    // SAFETY: the address was set from a `&'static Machine` (machines are leaked, never freed).
    unsafe { &*(addr as *const Machine) }
}

/// The machine whose driver image holds `addr`.
pub fn owning(addr: usize) -> Option<&'static Machine> {
    MACHINES
        .try_read()
        .ok()?
        .iter()
        .copied()
        .find(|m| m.image.contains(addr))
}

/// `rsmailslot.sys!function+0x12` for an address in any machine's driver, the export name for
/// a thunk, or the bare address.
pub fn describe(addr: usize) -> String {
    let Ok(all) = MACHINES.try_read() else {
        return format!("{addr:#x}");
    };
    for m in all.iter() {
        if m.image.contains(addr) {
            return m.image.describe(addr);
        }
        if let Some(i) = m.thunks.index_of(addr) {
            if let Some(e) = m.exports.get(i) {
                return format!("{}!{}", e.module, e.name);
            }
        }
    }
    format!("{addr:#x}")
}

/// The driver's stack from its last call into the kernel, when that call returns to `at`.
pub fn stack_at_call(at: usize) -> Option<String> {
    let regs = cpu::last_call_frame().filter(|r| r.rip as usize == at)?;
    let m = owning(at)?;
    Some(crate::unwind::stack(&m.image, regs).join(" <- "))
}

/// Called once a bugcheck's report is written: the driver's recent debug output helps.
pub fn on_stop(_stop: &Stop) {
    if cpu::machine_addr() == 0 {
        return;
    }
    let m = current();
    if let Ok(log) = m.debug_log.try_lock() {
        let tail: Vec<&String> = log.iter().rev().take(8).collect();
        if !tail.is_empty() {
            let mut text = String::from("    the driver's last DbgPrintEx lines:\n");
            for l in tail.into_iter().rev() {
                text.push_str(&format!("      {}\n", l.trim_end()));
            }
            bugcheck::write_stderr(&text);
        }
    }
}

/// `\Registry\Machine\System\CurrentControlSet\Services\<service>`, as the service control
/// manager hands it to DriverEntry.
pub const REGISTRY_PATH: &str = r"\Registry\Machine\System\CurrentControlSet\Services\RsMailslot";
pub const DRIVER_NAME: &str = r"\Driver\RsMailslot";

type DriverEntry = unsafe extern "win64" fn(usize, usize) -> i32;
type DriverUnload = unsafe extern "win64" fn(usize);

impl Machine {
    /// Loads the image and builds the machine around it; the driver is not started yet.
    pub fn new(config: Config) -> Result<&'static Machine, String> {
        crate::seh::install();
        let pool = Pool::new()?;
        let mut table: Vec<Export> = ntos::exports();
        table.extend(crate::token::exports());
        table.extend(crate::seapi::exports());
        let kmdf_base = table.len();
        table.extend(kmdf::exports());
        let targets: Vec<usize> = table.iter().map(|e| e.target).collect();
        let thunks =
            Thunks::build(&targets, exports::gate).map_err(|e| format!("building thunks: {e}"))?;
        // A function import is bound to its export's gate entry; a data import (such as
        // MmUserProbeAddress) to the variable itself, as the loader fills the IAT with the
        // exported data's address.
        let image = Image::load(&config.image, &mut |module, name| {
            table
                .iter()
                .position(|e| exports::same_module(e.module, module) && e.name == name)
                .map(|i| {
                    if table[i].data {
                        table[i].target
                    } else {
                        thunks.entry(i)
                    }
                })
        })?;
        let kmdf = Framework::new(kmdf_base, &thunks);
        let driver_object = system_block_in(&pool, layout::driver::SIZE, *b"Drv ");
        let registry_path = unicode_in(&pool, &config.registry_path);
        let machine: &'static Machine = Box::leak(Box::new(Machine {
            config,
            image,
            thunks,
            exports: table,
            pool,
            ke: Arc::new(Dispatcher::new()),
            kmdf,
            io: Io::default(),
            faults: Faults::default(),
            debug_log: Mutex::new(Vec::new()),
            driver_object,
            registry_path,
            cancel_lock: AtomicU64::new(0),
            loaded: AtomicBool::new(false),
            tokens: crate::token::Objects::default(),
            quotas: crate::quota::Quotas::default(),
        }));
        MACHINES
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(machine);
        machine.attach(cpu::Role::System);
        let addr = machine as *const Machine as usize;
        machine.ke.start(addr, machine.config.processors.max(1));
        crate::io::create::install_disk(machine);
        Ok(machine)
    }

    /// Makes the calling thread one of this machine's.
    pub fn attach(&'static self, role: cpu::Role) {
        cpu::set_machine_addr(self as *const Machine as usize);
        cpu::set_role(role);
        crate::seh::ensure_signal_stack();
    }

    /// A zeroed block of system (non-driver) pool owned by the emulator for good.
    pub fn system_block(&self, len: usize, tag: [u8; 4]) -> Raw {
        system_block_in(&self.pool, len, tag)
    }

    /// A UNICODE_STRING header followed by its text, in system pool.
    pub fn unicode_string(&self, text: &str) -> Raw {
        unicode_in(&self.pool, text)
    }

    /// Runs the driver's entry point as the I/O manager does for a service start: a
    /// DRIVER_OBJECT for `\Driver\RsMailslot`, the service's registry path, PASSIVE_LEVEL.
    pub fn start(&'static self) -> i32 {
        self.attach(cpu::Role::System);
        let d = &self.driver_object;
        d.w16(driver::TYPE, layout::IO_TYPE_DRIVER);
        d.w16(driver::SIZE_FIELD, driver::SIZE as u16);
        d.w64(driver::DRIVER_START, self.image.base as u64);
        d.w64(driver::DRIVER_SIZE, self.image.size as u64);
        let ext = self.system_block(0x40, *b"DrvX");
        ext.w64(0, d.addr as u64);
        d.w64(driver::DRIVER_EXTENSION, ext.addr as u64);
        let name = self.unicode_string(DRIVER_NAME);
        d.write_bytes(driver::DRIVER_NAME, &name.read_bytes(0, 16));
        d.w64(driver::DRIVER_INIT, self.image.entry as u64);
        for i in 0..28 {
            d.w64(
                driver::MAJOR_FUNCTION + i * 8,
                crate::io::invalid_device_request as *const () as usize as u64,
            );
        }
        let before = cpu::irql();
        // SAFETY: the image's entry point is DriverEntry (the stub the driver links as its
        // entry), called as the I/O manager calls it: a DRIVER_OBJECT and the registry path.
        let status = unsafe {
            let entry: DriverEntry = std::mem::transmute(self.image.entry);
            entry(d.addr, self.registry_path.addr)
        };
        if cpu::irql() != before || cpu::spin_locks_held() != 0 {
            bugcheck::stop(Stop::new(
                bugcheck::IRQL_NOT_LESS_OR_EQUAL,
                [0, u64::from(cpu::irql()), u64::from(before), self.image.entry as u64],
                format!(
                    "DriverEntry returned at IRQL {} holding {} spin lock(s); it was called at {before}",
                    cpu::irql(),
                    cpu::spin_locks_held()
                ),
            ));
        }
        if status >= 0 {
            self.loaded.store(true, Ordering::SeqCst);
        } else {
            self.check_clean_after_failed_entry(status);
        }
        status
    }

    /// A failed DriverEntry must leave nothing behind: no pool, device, link or binding.
    fn check_clean_after_failed_entry(&self, status: i32) {
        let leaked = self.pool.driver_blocks();
        let devices = self.io.device_count();
        if !leaked.is_empty() || devices != 0 || self.kmdf.is_bound() {
            let what = format!(
                "DriverEntry failed with {status:#010x} but left {} allocation(s), {devices} device(s){} behind",
                leaked.len(),
                if self.kmdf.is_bound() { " and its KMDF binding" } else { "" }
            );
            bugcheck::stop(leak_report(what, &leaked));
        }
    }

    /// Unloads the driver as the I/O manager does once the service stops and nothing is open:
    /// DriverUnload at PASSIVE_LEVEL. Then checks Verifier's unload rules: nothing left in
    /// pool, no timer set, no DPC queued, no device left.
    pub fn unload(&'static self) {
        self.attach(cpu::Role::System);
        let routine = self.driver_object.r64(driver::DRIVER_UNLOAD) as usize;
        if routine == 0 {
            bugcheck::stop(Stop::new(
                bugcheck::NTEMU_CHECK,
                [0; 4],
                "the driver has no DriverUnload routine: it can never be unloaded",
            ));
        }
        // SAFETY: the routine the driver (or KMDF for it) stored in DriverUnload, called with
        // its driver object at PASSIVE_LEVEL.
        unsafe {
            let f: DriverUnload = std::mem::transmute(routine);
            f(self.driver_object.addr);
        }
        self.ke.flush();
        let (timers, dpcs) = self.ke.outstanding();
        let driver_mem = |a: usize| self.image.contains(a) || self.pool.live_block_holds(a, 1);
        let timers: Vec<usize> = timers.into_iter().filter(|&t| driver_mem(t)).collect();
        let dpcs: Vec<usize> = dpcs.into_iter().filter(|&d| driver_mem(d)).collect();
        if !timers.is_empty() || !dpcs.is_empty() {
            bugcheck::stop(Stop::new(
                bugcheck::DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
                [
                    timers.first().or(dpcs.first()).copied().unwrap_or(0) as u64,
                    0,
                    0,
                    0,
                ],
                format!(
                    "the driver unloaded with {} timer(s) set and {} DPC(s) queued",
                    timers.len(),
                    dpcs.len()
                ),
            ));
        }
        let leaked = self.pool.driver_blocks();
        if !leaked.is_empty() {
            let what = format!(
                "the driver unloaded without freeing {} pool allocation(s)",
                leaked.len()
            );
            bugcheck::stop(leak_report(what, &leaked));
        }
        if self.io.device_count() != 0 || self.kmdf.is_bound() {
            bugcheck::stop(Stop::new(
                bugcheck::NTEMU_CHECK,
                [self.io.device_count() as u64, 0, 0, 0],
                format!(
                    "after unload {} device object(s) remain{}",
                    self.io.device_count(),
                    if self.kmdf.is_bound() {
                        " and the driver is still bound to KMDF"
                    } else {
                        ""
                    }
                ),
            ));
        }
        self.loaded.store(false, Ordering::SeqCst);
    }

    /// Waits until no DPC is queued or running and the I/O worker is idle: what a test waits
    /// for before it counts what the driver holds.
    pub fn quiesce(&self) {
        loop {
            self.ke.flush();
            if self.io.worker_idle() {
                self.ke.flush();
                if self.io.worker_idle() {
                    return;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Stops the machine's threads (after unload, or to abandon it).
    pub fn shutdown(&self) {
        self.ke.shutdown();
    }
}

/// Verifier's 0xC4/0x62 (pool left allocated), naming up to 16 blocks by allocation site.
fn leak_report(what: String, leaked: &[pool::Block]) -> Stop {
    let mut stop = Stop::new(
        bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
        [0x62, 0, 0, leaked.len() as u64],
        what,
    )
    .at(0);
    for b in leaked.iter().take(16) {
        stop = stop.detail(format!(
            "{} bytes, tag '{}', allocated at {}",
            b.size,
            pool::tag_text(b.tag),
            describe(b.site)
        ));
    }
    stop
}

fn system_block_in(pool: &Pool, len: usize, tag: [u8; 4]) -> Raw {
    let addr = pool
        .allocate(len, u32::from_le_bytes(tag), Owner::System, false, 0, true)
        .expect("pool for the emulator's own structures");
    // SAFETY: a live pool block of `len` bytes that is never freed.
    unsafe { Raw::new(addr, len) }
}

fn unicode_in(pool: &Pool, text: &str) -> Raw {
    let units: Vec<u16> = text.encode_utf16().collect();
    let raw = system_block_in(pool, 16 + units.len() * 2 + 2, *b"Str ");
    let bytes = (units.len() * 2) as u16;
    raw.w16(0, bytes);
    raw.w16(2, bytes + 2);
    raw.w64(8, (raw.addr + 16) as u64);
    for (i, u) in units.iter().enumerate() {
        raw.w16(16 + i * 2, *u);
    }
    raw
}
