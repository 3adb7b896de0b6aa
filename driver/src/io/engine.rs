//! The engine behind its spin lock, its creation at entry and its end at unload, and the
//! facts of the machine it needs (the user-mode address limit, hash keys).

use super::*;

/// The engine and the spin lock that guards it.
pub struct Engine {
    lock: UnsafeCell<usize>,
    msfs: UnsafeCell<Msfs>,
    /// The name table's hash keys, fixed at start: names are hashed with them before the lock.
    name_keys: [u64; 2],
}

impl Engine {
    /// A create's or open's name, decoded, copied and hashed without the lock.
    pub(super) fn prepare_name(&self, name: &[u8]) -> Result<PreparedName, NtStatus> {
        PreparedName::prepare(name, self.name_keys)
    }

    /// The owner a user SID stands for, keyed like the names so nobody can choose a collision.
    pub(super) fn owner_of_sid(&self, sid: &[u8]) -> Result<msfs::Owner, NtStatus> {
        msfs::Owner::from_sid(self.name_keys, sid)
    }
}

// SAFETY: `msfs` is only reached through `with`, under `lock`.
unsafe impl Sync for Engine {}

impl EngineLock for Engine {
    fn with<R>(&self, f: impl FnOnce(&mut Msfs) -> R) -> R {
        // SAFETY: our own initialised KSPIN_LOCK; callers run at IRQL <= DISPATCH_LEVEL (every
        // dispatch routine, DPC and cancel routine of this driver).
        let irql = unsafe { KeAcquireSpinLockRaiseToDpc(self.lock.get()) };
        // SAFETY: the lock gives this closure the only access to the engine.
        let result = f(unsafe { &mut *self.msfs.get() });
        // SAFETY: released once, with the IRQL the acquire returned.
        unsafe { KeReleaseSpinLock(self.lock.get(), irql) };
        result
    }
}

static ENGINE: AtomicPtr<Engine> = AtomicPtr::new(null_mut());

pub(super) fn engine() -> Option<&'static Engine> {
    // SAFETY: set by `start` before the device exists, freed by `stop` after it is gone.
    unsafe { ENGINE.load(Ordering::Acquire).as_ref() }
}

/// SipHash keys for the name table: RDRAND where the processor has it, mixed with the cycle
/// counter, the time and the (randomised) load address, so names cannot be chosen to collide.
pub(super) fn hash_keys() -> [u64; 2] {
    let mut now = 0i64;
    // SAFETY: RDTSC has no preconditions on x86_64.
    let tsc = unsafe { core::arch::x86_64::_rdtsc() };
    // SAFETY: writes one i64.
    unsafe { KeQuerySystemTimePrecise(&mut now) };
    let image = hash_keys as fn() -> [u64; 2] as usize as u64;
    let mut keys = [
        image.rotate_left(17) ^ tsc,
        tsc.rotate_left(29) ^ (now as u64),
    ];
    // CPUID leaf 1 exists on every x86_64 processor.
    let has_rdrand = core::arch::x86_64::__cpuid(1).ecx & (1 << 30) != 0;
    if has_rdrand {
        for key in &mut keys {
            let mut value = 0u64;
            // SAFETY: RDRAND is present (CPUID.1:ECX[30]).
            if unsafe { rdrand(&mut value) } {
                *key ^= value;
            }
        }
    }
    keys
}

#[target_feature(enable = "rdrand")]
pub(super) unsafe fn rdrand(value: &mut u64) -> bool {
    core::arch::x86_64::_rdrand64_step(value) == 1
}

/// Creates the engine with `limits`; from DriverEntry, before the device exists.
pub fn start(limits: msfs_io::settings::Limits) -> Result<(), NTSTATUS> {
    let name_keys = hash_keys();
    let msfs = Msfs::new(Config {
        budget_bytes: limits.budget_bytes,
        hash_keys: name_keys,
        owner_limit_bytes: limits.owner_limit_bytes,
    });
    let engine = pool_new(Engine {
        lock: UnsafeCell::new(0),
        msfs: UnsafeCell::new(msfs),
        name_keys,
    })
    .ok_or(NtStatus::INSUFFICIENT_RESOURCES.0)?;
    ENGINE.store(engine.as_ptr(), Ordering::Release);
    Ok(())
}

/// Frees the engine; from unload, after the device is deleted (the I/O manager unloads only
/// once every file object on it is closed, so no handle and no slot remain).
pub fn stop() {
    // A timer DPC that completed the last read may still be returning.
    // SAFETY: PASSIVE_LEVEL, from unload.
    unsafe { KeFlushQueuedDpcs() };
    let Some(engine) = NonNull::new(ENGINE.swap(null_mut(), Ordering::AcqRel)) else {
        return;
    };
    // SAFETY: nothing can reach the engine any more (the device is gone).
    let idle = unsafe { (*(*engine.as_ptr()).msfs.get()).is_idle() };
    if idle {
        // SAFETY: ours, unused from now on.
        unsafe { pool_free(engine) };
    } else {
        // Never free state something may still reach; a leak is the lesser harm.
        trace(c"rsmailslot: engine not idle at unload; leaking it\n");
    }
}
