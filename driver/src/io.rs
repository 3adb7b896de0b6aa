//! The I/O path: every mailslot IRP, from KMDF's WDM preprocess callback to the engine and
//! back.
//!
//! This module holds the raw kernel calls and nothing else: it copies fields out of the IRP,
//! hands them to `msfs_io` (decoding, replies, the pending-read protocol) and `msfs` (the
//! rules), and carries out what they decide. Rules it keeps:
//! - the engine is behind one spin lock ([`Engine`]); under it the driver touches only
//!   non-paged kernel memory (system buffers, its own contexts), never a caller's buffer, and
//!   it never completes an IRP while holding it;
//! - a caller's own memory (METHOD_NEITHER peek output, the ReadTimeout pointer of
//!   FileMailslotSetInformation) is reached only at PASSIVE_LEVEL and, for user-mode callers,
//!   only after a range check against `MmUserProbeAddress` and through a copy that cannot fault
//!   the system (`MmCopyMemory` for reads, the exception-guarded `rsms_guarded_copy` for writes);
//! - every allocation is fallible and made before the engine changes anything;
//! - a pending read is completed once, by whoever drops the last reference to its context
//!   (`msfs_io::pending`).

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::mem::{size_of, MaybeUninit};
use core::ptr::{addr_of_mut, null_mut, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use alloc::vec::Vec;

use msfs::wire::FSCTL_MAILSLOT_PEEK;
use msfs::{
    Completion, Config, CreateParameters, DirQuery, Handle, Msfs, NtStatus, Peek, ReadId,
    ReadOutcome, Wait,
};
use msfs_io::pending::{self, Armed, EngineLock, PendingRead, ReadState};
use msfs_io::stack::{self, Request, StackWords};
use msfs_io::{access, info, Region, Reply};

use crate::ffi::*;
use crate::kernel::trace;

core::arch::global_asm!(include_str!("asm/guarded_copy.s"), options(att_syntax));

extern "system" {
    /// `driver/src/asm/guarded_copy.s`: copies `len` bytes; STATUS_ACCESS_VIOLATION instead of
    /// a bugcheck when either side faults. Checked under Wine by tools/test-guarded-copy.sh.
    fn rsms_guarded_copy(dst: *mut c_void, src: *const c_void, len: usize) -> NTSTATUS;
}

/// The bytes all mailslots together may hold queued (payload plus 24 bytes per message).
const BUDGET_BYTES: u64 = 64 << 20;
/// `MM_HIGHEST_USER_ADDRESS + 1` on x64, used if `MmUserProbeAddress` cannot be resolved.
const DEFAULT_USER_PROBE_ADDRESS: u64 = 0x7FFF_FFFF_0000;
/// How often a peek re-sizes its bounce buffer when the head message keeps changing.
const PEEK_ATTEMPTS: usize = 4;

const FILE_OPENED: usize = 1;
const FILE_CREATED: usize = 2;

// ------------------------------------------------------------------------- pool boxes

/// Moves `value` into non-paged pool; `None` when the pool is exhausted.
fn pool_new<T>(value: T) -> Option<NonNull<T>> {
    const { assert!(core::mem::align_of::<T>() <= 16) };
    // SAFETY: a plain allocation; pool blocks are 16-byte aligned, enough for T (above).
    let raw = unsafe { ExAllocatePool2(POOL_FLAG_NON_PAGED, size_of::<T>(), POOL_TAG) };
    let ptr = NonNull::new(raw.cast::<T>())?;
    // SAFETY: freshly allocated, sized and aligned for T.
    unsafe { ptr.as_ptr().write(value) };
    Some(ptr)
}

/// Drops and frees a [`pool_new`] block.
///
/// # Safety
/// `ptr` came from [`pool_new`] and nothing uses it afterwards.
unsafe fn pool_free<T>(ptr: NonNull<T>) {
    // SAFETY: per the contract, a live T in a block of ours.
    unsafe {
        core::ptr::drop_in_place(ptr.as_ptr());
        ExFreePoolWithTag(ptr.as_ptr().cast(), POOL_TAG);
    }
}

// ------------------------------------------------------------------------- the engine

/// The engine and the spin lock that guards it.
pub struct Engine {
    lock: UnsafeCell<usize>,
    msfs: UnsafeCell<Msfs>,
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
static USER_PROBE_ADDRESS: AtomicU64 = AtomicU64::new(DEFAULT_USER_PROBE_ADDRESS);

fn engine() -> Option<&'static Engine> {
    // SAFETY: set by `start` before the device exists, freed by `stop` after it is gone.
    unsafe { ENGINE.load(Ordering::Acquire).as_ref() }
}

/// SipHash keys for the name table: RDRAND where the processor has it, mixed with the cycle
/// counter, the time and the (randomised) load address, so names cannot be chosen to collide.
fn hash_keys() -> [u64; 2] {
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
unsafe fn rdrand(value: &mut u64) -> bool {
    core::arch::x86_64::_rdrand64_step(value) == 1
}

/// Creates the engine; from DriverEntry, before the device exists.
pub fn start() -> Result<(), NTSTATUS> {
    let probe = crate::kernel::system_routine("MmUserProbeAddress");
    if !probe.is_null() {
        // SAFETY: MmUserProbeAddress is an exported ULONG_PTR variable of ntoskrnl.
        let value = unsafe { probe.cast::<usize>().read() } as u64;
        USER_PROBE_ADDRESS.store(value, Ordering::Relaxed);
    }
    let msfs = Msfs::new(Config {
        budget_bytes: BUDGET_BYTES,
        hash_keys: hash_keys(),
    });
    let engine = pool_new(Engine {
        lock: UnsafeCell::new(0),
        msfs: UnsafeCell::new(msfs),
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

// ------------------------------------------------------------------------- IRP access

/// # Safety
/// `irp` is an IRP this driver owns, at its own stack location.
unsafe fn current_stack(irp: *mut IRP) -> *mut IO_STACK_LOCATION {
    // SAFETY: per the contract.
    unsafe {
        (*irp)
            .Tail
            .Overlay
            .Anonymous2
            .Anonymous
            .CurrentStackLocation
            .cast()
    }
}

/// The IRP's system buffer as `length` bytes (empty for a zero length).
///
/// # Safety
/// `irp` is owned by this driver and its system buffer, if any, holds `length` bytes: the I/O
/// manager's contract for buffered reads and writes (the device is DO_BUFFERED_IO) and for
/// information, volume and directory requests.
unsafe fn system_buffer<'a>(irp: *mut IRP, length: u32) -> Result<&'a mut [u8], NtStatus> {
    // SAFETY: per the contract.
    let buffer = unsafe { (*irp).AssociatedIrp.SystemBuffer }.cast::<u8>();
    match msfs_io::region(
        buffer as u64,
        length as usize,
        msfs_io::REGION_SYSTEM_BUFFER,
    )? {
        Region::Empty => Ok(&mut []),
        // SAFETY: per the contract: non-paged, `len` bytes, ours until completion.
        Region::Bytes(len) => Ok(unsafe { core::slice::from_raw_parts_mut(buffer, len) }),
    }
}

/// Completes `irp` with `reply` and returns its status for the dispatch routine.
///
/// # Safety
/// `irp` is owned by this driver and not pending.
unsafe fn complete(irp: *mut IRP, reply: Reply) -> NTSTATUS {
    // SAFETY: per the contract; IofCompleteRequest hands the IRP back for good.
    unsafe {
        (*irp).IoStatus.Anonymous.Status = reply.status.0;
        (*irp).IoStatus.Information = reply.information;
        IofCompleteRequest(irp, IO_NO_INCREMENT);
    }
    reply.status.0
}

fn requestor_is_user(irp: *mut IRP) -> bool {
    // SAFETY: reads one byte of an IRP the caller owns.
    unsafe { (*irp).RequestorMode == USER_MODE }
}

fn user_probe_address() -> u64 {
    USER_PROBE_ADDRESS.load(Ordering::Relaxed)
}

/// The engine handle of a file object (FsContext), set by our create.
///
/// # Safety
/// `file` is null or a file object on our device; the handle is only dereferenced under the
/// engine lock.
unsafe fn handle_of(file: *mut FILE_OBJECT) -> Result<*mut Handle, NtStatus> {
    if file.is_null() {
        return Err(NtStatus::INVALID_DEVICE_REQUEST);
    }
    // SAFETY: per the contract.
    let handle = unsafe { (*file).FsContext }.cast::<Handle>();
    if handle.is_null() {
        Err(NtStatus::INVALID_DEVICE_REQUEST)
    } else {
        Ok(handle)
    }
}

/// A request's engine handle and its system buffer of `length` bytes.
///
/// # Safety
/// As [`handle_of`] and [`system_buffer`].
unsafe fn handle_and_buffer<'a>(
    file: *mut FILE_OBJECT,
    irp: *mut IRP,
    length: u32,
) -> Result<(*mut Handle, &'a mut [u8]), NtStatus> {
    // SAFETY: per the contract.
    unsafe { Ok((handle_of(file)?, system_buffer(irp, length)?)) }
}

// ------------------------------------------------------------------------- dispatch

/// `EvtDeviceWdmIrpPreprocess` for every major function the driver registered.
///
/// # Safety
/// Called by KMDF with an IRP for our control device, which we now own.
pub unsafe extern "system" fn preprocess(_device: WDFDEVICE, irp: *mut IRP) -> NTSTATUS {
    let Some(engine) = engine() else {
        // SAFETY: ours to complete.
        return unsafe { complete(irp, Reply::error(NtStatus::INVALID_DEVICE_REQUEST)) };
    };
    // SAFETY: KMDF passes the IRP at our stack location.
    let (words, file) = unsafe {
        let sl = &*current_stack(irp);
        (
            StackWords {
                major: sl.MajorFunction,
                minor: sl.MinorFunction,
                flags: sl.Flags,
                params: sl.Parameters,
            },
            sl.FileObject,
        )
    };
    // SAFETY (for every arm): the IRP is ours, `file` is its file object, and each helper
    // keeps the contracts it states.
    let reply = unsafe {
        match stack::decode(&words) {
            Request::Create { security_context } => create(engine, file, security_context, None),
            Request::CreateMailslot {
                security_context,
                parameters,
            } => create(engine, file, security_context, Some(parameters)),
            Request::Read { length } => return read(engine, irp, file, length),
            Request::Write { length } => write(engine, irp, file, length),
            Request::QueryInformation { length, class } => {
                query_information(engine, irp, file, length, class)
            }
            Request::SetInformation { length, class } => {
                set_information(engine, irp, file, length, class)
            }
            Request::QueryVolume { length, class } => match system_buffer(irp, length) {
                // The device's characteristics: none (device::open_namespace clears the one
                // KMDF sets).
                Ok(out) => info::query_volume(class, 0, out),
                Err(s) => Reply::error(s),
            },
            Request::QueryDirectory {
                length,
                file_name,
                class,
                restart_scan,
                return_single_entry,
            } => query_directory(
                engine,
                irp,
                file,
                length,
                file_name,
                DirQuery {
                    class,
                    restart_scan,
                    return_single_entry,
                    pattern: None,
                },
            ),
            Request::FsControl {
                output_length,
                code,
                ..
            } => fs_control(engine, irp, file, output_length, code),
            Request::Cleanup => cleanup(engine, file),
            Request::Close => close(engine, file),
            Request::Refused(status) => Reply::error(status),
        }
    };
    // SAFETY: every path but a read's returned a reply for an IRP still ours.
    unsafe { complete(irp, reply) }
}

/// `IRP_MJ_CREATE` (`parameters` None) and `IRP_MJ_CREATE_MAILSLOT`.
///
/// # Safety
/// PASSIVE_LEVEL; `file` is the create's file object; the pointers come from the stack
/// location the I/O manager built (kernel memory it captured).
unsafe fn create(
    engine: &Engine,
    file: *mut FILE_OBJECT,
    security_context: u64,
    parameters: Option<u64>,
) -> Reply {
    if file.is_null() {
        return Reply::error(NtStatus::INVALID_PARAMETER);
    }
    // SAFETY: the I/O manager's file object and its captured name.
    let (name, related) = unsafe {
        let f = &*file;
        let buffer = f.FileName.Buffer.cast::<u8>();
        let name: &[u8] = match msfs_io::region(
            buffer as u64,
            usize::from(f.FileName.Length),
            msfs_io::REGION_FILE_NAME,
        ) {
            Ok(Region::Empty) => &[],
            Ok(Region::Bytes(len)) => core::slice::from_raw_parts(buffer, len),
            Err(s) => return Reply::error(s),
        };
        (name, f.RelatedFileObject)
    };
    // SAFETY: the create's security context, when present, and its access state.
    let mask = unsafe {
        let sc = security_context as *const IO_SECURITY_CONTEXT;
        if sc.is_null() {
            0
        } else {
            let state = (*sc).AccessState;
            let granted = if state.is_null() {
                0
            } else {
                (*state).OriginalDesiredAccess | (*state).PreviouslyGrantedAccess
            };
            (*sc).DesiredAccess | granted
        }
    };
    let access = access::from_mask(mask);
    let params = match parameters {
        None => None,
        Some(address) => {
            let len = CreateParameters::WIRE_SIZE;
            if let Err(s) = msfs_io::region(address, len, msfs_io::REGION_CREATE_PARAMETERS) {
                return Reply::error(s);
            }
            // SAFETY: NtCreateMailslotFile's MAILSLOT_CREATE_PARAMETERS, 24 bytes the I/O
            // manager built in kernel memory, at a non-null address (checked above).
            let bytes = unsafe { core::slice::from_raw_parts(address as *const u8, len) };
            match CreateParameters::decode(bytes) {
                Ok(p) => Some(p),
                Err(s) => return Reply::error(s),
            }
        }
    };
    let mut now = 0i64;
    // SAFETY: writes one i64.
    unsafe { KeQuerySystemTimePrecise(&mut now) };
    // The name is paged pool (the I/O manager allocates it from PagedPool): it is copied into
    // non-paged memory here, before the lock, and never touched under it. A name relative to
    // another file object needs that object's role, which is read under the lock first.
    let related_role = if related.is_null() {
        None
    } else {
        // SAFETY: a file object on our device (the I/O manager sends relative opens to the
        // related object's device).
        let handle = match unsafe { handle_of(related) } {
            Ok(h) => h,
            Err(s) => return Reply::error(s),
        };
        // SAFETY: the handle is read under the lock.
        Some(engine.with(|_| unsafe { (*handle).role() }))
    };
    let name = match info::create_name(related_role, name) {
        Ok(n) => n,
        Err(s) => return Reply::error(s),
    };
    let Some(slot) = pool_new(MaybeUninit::<Handle>::uninit()) else {
        return Reply::error(NtStatus::INSUFFICIENT_RESOURCES);
    };
    let result = engine.with(|m| match &params {
        Some(p) => m.create_server(&name, p, access, now),
        None => m.open(&name, access),
    });
    match result {
        Ok(handle) => {
            // Every file object of a mailslot file system carries FO_MAILSLOT: without it the
            // I/O manager refuses a read or write without a byte offset on an asynchronous
            // handle (NtReadFile/NtWriteFile), as CreateMailslotW's handle is.
            // SAFETY: `slot` is ours; the file object is the create's and not yet visible to
            // any other request.
            unsafe {
                (*slot.as_ptr()).write(handle);
                (*file).FsContext = slot.as_ptr().cast();
                (*file).Flags |= FO_MAILSLOT;
            }
            Reply::success(if params.is_some() {
                FILE_CREATED
            } else {
                FILE_OPENED
            })
        }
        Err(status) => {
            // SAFETY: never handed out; MaybeUninit drops nothing.
            unsafe { pool_free(slot) };
            Reply::error(status)
        }
    }
}

// ------------------------------------------------------------------------- pending reads

/// How a winning write or cleanup ends a read, noted under the lock, carried out after it.
#[derive(Clone, Copy)]
enum Won {
    Deliver,
    Fail(NtStatus),
}

/// A pending read's context, in non-paged pool at a fixed address (its timer and DPC live in
/// it). The engine's token for the read is this address.
struct ReadCtx {
    state: ReadState,
    irp: *mut IRP,
    timed: bool,
    due: i64,
    /// Written under the engine lock before the timer or the cancel routine is armed.
    id: UnsafeCell<Option<ReadId>>,
    /// Used only by the one party the engine let win, which alone reaches the context then.
    won: UnsafeCell<Won>,
    next: UnsafeCell<*mut ReadCtx>,
    timer: UnsafeCell<KTIMER>,
    dpc: UnsafeCell<KDPC>,
}

impl ReadCtx {
    /// `Irp->CancelRoutine`, as the interlocked pointer `IoSetCancelRoutine` exchanges.
    fn cancel_routine(&self) -> &AtomicPtr<c_void> {
        // SAFETY: the IRP is live while any reference to this context is held, and the field
        // is pointer-sized and aligned; every access to it is atomic.
        unsafe { AtomicPtr::from_ptr(addr_of_mut!((*self.irp).CancelRoutine).cast()) }
    }
}

impl PendingRead for ReadCtx {
    fn state(&self) -> &ReadState {
        &self.state
    }

    fn id(&self) -> ReadId {
        // SAFETY: written once under the lock before the read could be seen by a timer or
        // cancel routine (which run after arming) or a write (which takes the lock).
        let id = unsafe { *self.id.get() };
        // A pending read always has its id before anyone asks: a bugcheck naming this line is
        // the honest answer to the broken invariant.
        match id {
            Some(id) => id,
            None => crate::kernel::stop(),
        }
    }

    fn start_timer(&self) {
        // SAFETY: initialised timer and DPC in this context, which outlives the DPC (it holds
        // the timer's reference).
        unsafe { KeSetTimer(self.timer.get(), self.due, self.dpc.get()) };
    }

    fn stop_timer(&self) -> bool {
        // SAFETY: an initialised timer; cancelling an unset or expired one returns FALSE.
        self.timed && unsafe { KeCancelTimer(self.timer.get()) } != 0
    }

    fn set_cancel(&self) {
        let routine = cancel_read as DRIVER_CANCEL as *mut c_void;
        self.cancel_routine().swap(routine, Ordering::AcqRel);
    }

    fn disarm_cancel(&self) -> bool {
        !self
            .cancel_routine()
            .swap(null_mut(), Ordering::AcqRel)
            .is_null()
    }

    fn cancel_requested(&self) -> bool {
        // SAFETY: `Irp->Cancel` is a BOOLEAN the I/O manager sets before it exchanges the
        // cancel routine; the exchange in `set_cancel` orders this read after it.
        unsafe { core::ptr::read_volatile(addr_of_mut!((*self.irp).Cancel).cast::<u8>()) != 0 }
    }
}

/// The last reference is gone: complete the IRP with the recorded outcome and free the
/// context.
///
/// # Safety
/// `ctx` is a live context whose references are all released, by the caller's last release.
unsafe fn complete_read(ctx: NonNull<ReadCtx>) {
    // SAFETY: per the contract, nothing else reaches the context or the IRP any more.
    unsafe {
        let (status, information) = ctx.as_ref().state.outcome();
        let irp = ctx.as_ref().irp;
        pool_free(ctx);
        (*irp).IoStatus.Anonymous.Status = status.0;
        (*irp).IoStatus.Information = information;
        IofCompleteRequest(irp, IO_NO_INCREMENT);
    }
}

/// The timer's DPC.
unsafe extern "system" fn read_timer_dpc(
    _dpc: *mut KDPC,
    context: *mut c_void,
    _a: *mut c_void,
    _b: *mut c_void,
) {
    let (Some(engine), Some(ctx)) = (engine(), NonNull::new(context.cast::<ReadCtx>())) else {
        return;
    };
    // SAFETY: the DPC holds the timer's reference, so the context is live.
    if pending::on_timer(engine, unsafe { ctx.as_ref() }) {
        // SAFETY: that was the last reference.
        unsafe { complete_read(ctx) };
    }
}

/// The read's cancel routine (`IoCancelIrp` calls it with the cancel spin lock held).
unsafe extern "system" fn cancel_read(_device: *mut DEVICE_OBJECT, irp: *mut IRP) {
    // SAFETY: the routine must release the cancel spin lock first, at the IRQL saved in the
    // IRP; the IRP is live because this routine's reference keeps it from completing.
    let ctx = unsafe {
        IoReleaseCancelSpinLock((*irp).CancelIrql);
        (*irp).Tail.Overlay.Anonymous1.Anonymous.DriverContext[0]
    };
    let (Some(engine), Some(ctx)) = (engine(), NonNull::new(ctx.cast::<ReadCtx>())) else {
        return;
    };
    // SAFETY: the cancel routine's reference keeps the context live.
    if pending::on_cancel(engine, unsafe { ctx.as_ref() }) {
        // SAFETY: that was the last reference.
        unsafe { complete_read(ctx) };
    }
}

/// `IRP_MJ_READ`: a whole message into the system buffer, or the IRP pends.
///
/// # Safety
/// The IRP is ours; `file` its file object.
unsafe fn read(engine: &Engine, irp: *mut IRP, file: *mut FILE_OBJECT, length: u32) -> NTSTATUS {
    // SAFETY: per the contract.
    let (handle, buffer) = match unsafe { handle_and_buffer(file, irp, length) } {
        Ok(pair) => pair,
        Err(s) => return unsafe { complete(irp, Reply::error(s)) },
    };
    let mut created: Option<NonNull<ReadCtx>> = None;
    let mut cancelled_early = false;
    let outcome = engine.with(|m| {
        // SAFETY: the handle is read under the lock.
        let handle = unsafe { &*handle };
        let outcome = m.read_or_pend(handle, buffer.len(), |wait| {
            let (timed, due) = match wait {
                Wait::Forever => (false, 0),
                Wait::Until(due) => (true, due),
            };
            let ctx = pool_new(ReadCtx {
                state: ReadState::new(timed),
                irp,
                timed,
                due,
                id: UnsafeCell::new(None),
                won: UnsafeCell::new(Won::Fail(NtStatus::CANCELLED)),
                next: UnsafeCell::new(null_mut()),
                timer: UnsafeCell::new(KTIMER([0; 64])),
                dpc: UnsafeCell::new(KDPC([0; 64])),
            })
            .ok_or(NtStatus::INSUFFICIENT_RESOURCES)?;
            // SAFETY: the context's final address; KeInitialize* run at any IRQL <= DISPATCH.
            // The engine queues the read once this returns Ok, so the IRP is marked pending
            // now, before anyone else can complete it.
            unsafe {
                let c = ctx.as_ptr();
                KeInitializeTimer((*c).timer.get());
                KeInitializeDpc((*c).dpc.get(), read_timer_dpc, c.cast());
                (*current_stack(irp)).Control |= SL_PENDING_RETURNED;
            }
            created = Some(ctx);
            Ok(ctx.as_ptr() as usize)
        });
        if let (Ok(ReadOutcome::Pending { id, .. }), Some(ctx)) = (&outcome, created) {
            // SAFETY: our new context; nothing else can see it before the lock is released.
            unsafe {
                *ctx.as_ref().id.get() = Some(*id);
                (*irp).Tail.Overlay.Anonymous1.Anonymous.DriverContext[0] = ctx.as_ptr().cast();
            }
            // SAFETY: as above.
            let c = unsafe { ctx.as_ref() };
            if pending::arm(c, c.timed) == Armed::CancelledEarly {
                cancelled_early = matches!(m.cancel(*id), msfs::Arbitration::Won(_));
            }
        }
        outcome
    });
    match outcome {
        Ok(ReadOutcome::Message(message)) => {
            let bytes = message.as_bytes();
            let n = bytes.len();
            if let Some(dst) = buffer.get_mut(..n) {
                dst.copy_from_slice(bytes);
            }
            // SAFETY: not pending; ours.
            unsafe { complete(irp, Reply::success(n)) }
        }
        // SAFETY: not pending; ours.
        Err(status) => unsafe { complete(irp, Reply::error(status)) },
        Ok(ReadOutcome::Pending { .. }) => {
            if let (true, Some(ctx)) = (cancelled_early, created) {
                // SAFETY: we withdrew the read from the engine, so we hold its reference.
                if pending::settle(unsafe { ctx.as_ref() }, NtStatus::CANCELLED, 0) {
                    // SAFETY: that was the last reference.
                    unsafe { complete_read(ctx) };
                }
            }
            // The IRP may be completed already on another processor: not touched again.
            NtStatus::PENDING.0
        }
    }
}

/// Collects the reads a write or cleanup won, under the lock, into an intrusive list.
struct Winners(*mut ReadCtx);

impl Winners {
    fn sink(&mut self) -> impl FnMut(ReadId, Completion<'_>) + '_ {
        move |id, completion| {
            let ctx = id.token() as *mut ReadCtx;
            // SAFETY: the token is a live context's address: the engine's entry held its
            // reference until this very withdrawal, which only we observe.
            unsafe {
                *(*ctx).won.get() = match completion {
                    Completion::Delivered(_) => Won::Deliver,
                    Completion::Failed(status) => Won::Fail(status),
                };
                *(*ctx).next.get() = self.0;
            }
            self.0 = ctx;
        }
    }

    /// After the lock: writes each delivered message into its read's buffer and settles every
    /// read. `data` is the write's message.
    ///
    /// # Safety
    /// Every context in the list was withdrawn by the engine for us.
    unsafe fn settle(self, data: &[u8]) {
        let mut next = self.0;
        while let Some(ctx) = NonNull::new(next) {
            // SAFETY: per the contract we hold the engine's reference of each context.
            unsafe {
                let c = ctx.as_ref();
                next = *c.next.get();
                let last = match *c.won.get() {
                    Won::Deliver => {
                        // The engine chose this read because its buffer holds the message.
                        let dst = (*c.irp).AssociatedIrp.SystemBuffer.cast::<u8>();
                        if !data.is_empty() && !dst.is_null() {
                            core::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len());
                        }
                        pending::settle(c, NtStatus::SUCCESS, data.len())
                    }
                    Won::Fail(status) => pending::settle(c, status, 0),
                };
                if last {
                    complete_read(ctx);
                }
            }
        }
    }
}

/// `IRP_MJ_WRITE`: one message from the system buffer.
///
/// # Safety
/// The IRP is ours; `file` its file object.
unsafe fn write(engine: &Engine, irp: *mut IRP, file: *mut FILE_OBJECT, length: u32) -> Reply {
    // SAFETY: per the contract.
    let (handle, data) = match unsafe { handle_and_buffer(file, irp, length) } {
        Ok(pair) => pair,
        Err(s) => return Reply::error(s),
    };
    let mut winners = Winners(null_mut());
    // SAFETY: the handle is read under the lock.
    let result = engine.with(|m| m.write(unsafe { &*handle }, data, winners.sink()));
    // SAFETY: the engine withdrew every listed read for this write.
    unsafe { winners.settle(data) };
    result.into()
}

/// `IRP_MJ_CLEANUP`: for a server, the mailslot goes and its pending reads are cancelled.
///
/// # Safety
/// `file` is the request's file object.
unsafe fn cleanup(engine: &Engine, file: *mut FILE_OBJECT) -> Reply {
    // SAFETY: per the contract.
    let handle = match unsafe { handle_of(file) } {
        Ok(h) => h,
        Err(s) => return Reply::error(s),
    };
    let mut winners = Winners(null_mut());
    // SAFETY: the handle is read under the lock.
    engine.with(|m| m.cleanup(unsafe { &*handle }, winners.sink()));
    // SAFETY: the engine withdrew every listed read for this cleanup.
    unsafe { winners.settle(&[]) };
    Reply::success(0)
}

/// `IRP_MJ_CLOSE`: the handle's state goes away.
///
/// # Safety
/// `file` is the request's file object, whose last reference is going.
unsafe fn close(engine: &Engine, file: *mut FILE_OBJECT) -> Reply {
    // SAFETY: per the contract.
    let handle = match unsafe { handle_of(file) } {
        Ok(h) => h,
        Err(s) => return Reply::error(s),
    };
    let mut winners = Winners(null_mut());
    engine.with(|m| {
        // SAFETY: the last request on this file object: the handle moves out, under the lock.
        let owned = unsafe { handle.read() };
        m.close(owned, winners.sink());
    });
    // SAFETY: the handle was moved out; the block is freed without dropping it again, and the
    // file object forgets it.
    unsafe {
        (*file).FsContext = null_mut();
        ExFreePoolWithTag(handle.cast(), POOL_TAG);
        winners.settle(&[]);
    }
    Reply::success(0)
}

/// `IRP_MJ_QUERY_INFORMATION`, answered into the system buffer under the lock.
///
/// # Safety
/// The IRP is ours; `file` its file object.
unsafe fn query_information(
    engine: &Engine,
    irp: *mut IRP,
    file: *mut FILE_OBJECT,
    length: u32,
    class: u32,
) -> Reply {
    // SAFETY: per the contract.
    match unsafe { handle_and_buffer(file, irp, length) } {
        // SAFETY: the handle is read under the lock.
        Ok((h, out)) => engine.with(|m| info::query_information(m, unsafe { &*h }, class, out)),
        Err(s) => Reply::error(s),
    }
}

/// `IRP_MJ_SET_INFORMATION`: FileMailslotSetInformation, whose ReadTimeout is a pointer into
/// the caller's memory, captured under the requestor's mode.
///
/// # Safety
/// PASSIVE_LEVEL; the IRP is ours; `file` its file object.
unsafe fn set_information(
    engine: &Engine,
    irp: *mut IRP,
    file: *mut FILE_OBJECT,
    length: u32,
    class: u32,
) -> Reply {
    // SAFETY: per the contract.
    let (handle, input) = match unsafe { handle_and_buffer(file, irp, length) } {
        Ok(pair) => pair,
        Err(s) => return Reply::error(s),
    };
    let address = match info::set_information(class, input) {
        Ok(a) => a,
        Err(s) => return Reply::error(s),
    };
    let value = if requestor_is_user(irp) {
        match capture_user_i64(address) {
            Ok(v) => v,
            Err(s) => return Reply::error(s),
        }
    } else {
        // SAFETY: a kernel-mode caller's own pointer to its LARGE_INTEGER, trusted as the
        // I/O manager trusts kernel callers.
        unsafe { (address as *const i64).read_unaligned() }
    };
    // SAFETY: the handle is read under the lock.
    engine
        .with(|m| m.set_read_timeout(unsafe { &*handle }, value))
        .map(|()| 0)
        .into()
}

/// Reads a user-mode caller's 8 bytes without trusting the pointer: a range check, then
/// `MmCopyMemory` into non-paged pool (it fails instead of faulting).
fn capture_user_i64(address: u64) -> Result<i64, NtStatus> {
    if !msfs_io::user_range_ok(address, 8, user_probe_address()) {
        return Err(NtStatus::ACCESS_VIOLATION);
    }
    let bounce = pool_new([0u8; 8]).ok_or(NtStatus::INSUFFICIENT_RESOURCES)?;
    let mut copied = 0usize;
    // SAFETY: the target is our non-paged block of 8 bytes; the source is a user address
    // checked above, which MmCopyMemory reads safely at PASSIVE_LEVEL.
    let status = unsafe {
        MmCopyMemory(
            bounce.as_ptr().cast(),
            address,
            8,
            MM_COPY_MEMORY_VIRTUAL,
            &mut copied,
        )
    };
    // SAFETY: our block, read then freed.
    let bytes = unsafe { bounce.as_ptr().read() };
    // SAFETY: as above.
    unsafe { pool_free(bounce) };
    if status < 0 || copied != 8 {
        return Err(NtStatus::ACCESS_VIOLATION);
    }
    Ok(info::read_timeout_value(bytes))
}

/// `IRP_MJ_DIRECTORY_CONTROL` / `IRP_MN_QUERY_DIRECTORY` on the root.
///
/// # Safety
/// The IRP is ours; `file` its file object; `file_name` is null or the UNICODE_STRING the I/O
/// manager captured.
unsafe fn query_directory(
    engine: &Engine,
    irp: *mut IRP,
    file: *mut FILE_OBJECT,
    length: u32,
    file_name: u64,
    query: DirQuery<'_>,
) -> Reply {
    // SAFETY: per the contract.
    let (handle, out) = match unsafe { handle_and_buffer(file, irp, length) } {
        Ok(pair) => pair,
        Err(s) => return Reply::error(s),
    };
    let name = file_name as *const UNICODE_STRING;
    // SAFETY: the pattern string the I/O manager passed: captured into non-paged pool for a
    // user-mode caller, but a kernel-mode caller's own (paged) memory. Either way it is copied
    // into non-paged memory here, before the lock.
    let pattern = unsafe {
        if name.is_null() {
            None
        } else {
            let s = &*name;
            let buffer = s.Buffer.cast::<u8>();
            match msfs_io::region(
                buffer as u64,
                usize::from(s.Length),
                msfs_io::REGION_PATTERN,
            ) {
                Ok(Region::Empty) => None,
                Ok(Region::Bytes(len)) => {
                    let mut copy = Vec::new();
                    if copy.try_reserve_exact(len).is_err() {
                        return Reply::error(NtStatus::INSUFFICIENT_RESOURCES);
                    }
                    copy.extend_from_slice(core::slice::from_raw_parts(buffer, len));
                    Some(copy)
                }
                Err(status) => return Reply::error(status),
            }
        }
    };
    let query = DirQuery {
        pattern: pattern.as_deref(),
        ..query
    };
    // SAFETY: the handle is read and updated under the lock.
    let reply = engine.with(|m| m.query_directory(unsafe { &mut *handle }, &query, out));
    Reply::new(reply.status, reply.information)
}

/// `IRP_MJ_FILE_SYSTEM_CONTROL`: FSCTL_MAILSLOT_PEEK, METHOD_NEITHER, so the output buffer is
/// the caller's own memory (`Irp->UserBuffer`): the head message is copied into a bounce
/// buffer under the lock and to the caller after it.
///
/// # Safety
/// PASSIVE_LEVEL; the IRP is ours; `file` its file object.
unsafe fn fs_control(
    engine: &Engine,
    irp: *mut IRP,
    file: *mut FILE_OBJECT,
    output_length: u32,
    code: u32,
) -> Reply {
    if code != FSCTL_MAILSLOT_PEEK {
        return Reply::error(NtStatus::INVALID_DEVICE_REQUEST);
    }
    // SAFETY: per the contract.
    let handle = match unsafe { handle_of(file) } {
        Ok(h) => h,
        Err(s) => return Reply::error(s),
    };
    let capacity = match info::peek_data_capacity(output_length) {
        Ok(c) => c,
        Err(s) => return Reply::error(s),
    };
    // SAFETY: reads a field of our IRP.
    let user_buffer = unsafe { (*irp).UserBuffer } as u64;
    let from_user = requestor_is_user(irp);
    if user_buffer == 0
        || (from_user
            && !msfs_io::user_range_ok(user_buffer, u64::from(output_length), user_probe_address()))
    {
        return Reply::error(NtStatus::ACCESS_VIOLATION);
    }
    let (peek, bounce) = match peek_into_bounce(engine, handle, capacity) {
        Ok(p) => p,
        Err(s) => return Reply::error(s),
    };
    let mut header = [0u8; 12];
    let reply = info::peek_reply(&peek, &mut header);
    let data = bounce.get(..peek.copied).unwrap_or(&[]);
    let dst = user_buffer as *mut u8;
    // SAFETY: `dst` holds output_length >= 12 + copied bytes: in user space (checked above) and
    // written through the exception-guarded copy, or a kernel caller's own buffer.
    let status = unsafe {
        let a = rsms_guarded_copy(dst.cast(), header.as_ptr().cast(), header.len());
        if a < 0 {
            a
        } else {
            rsms_guarded_copy(
                dst.add(header.len()).cast(),
                data.as_ptr().cast(),
                data.len(),
            )
        }
    };
    if status < 0 {
        return Reply::error(NtStatus(status));
    }
    reply
}

/// Sizes a bounce buffer from the head message's length, peeks into it under the lock, and
/// sizes again (a few times at most) if a longer message became the head meanwhile.
fn peek_into_bounce(
    engine: &Engine,
    handle: *mut Handle,
    capacity: usize,
) -> Result<(Peek, Vec<u8>), NtStatus> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        // SAFETY: the handle is read under the lock.
        let next = engine
            .with(|m| m.query_info(unsafe { &*handle }))?
            .next_message_size;
        let len = info::peek_bounce_len(capacity, next);
        let mut bounce = Vec::new();
        bounce
            .try_reserve_exact(len)
            .map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
        bounce.resize(len, 0);
        // SAFETY: the handle is read under the lock.
        let peek = engine.with(|m| m.peek(unsafe { &*handle }, &mut bounce))?;
        if attempt >= PEEK_ATTEMPTS || !info::peek_needs_retry(&peek, len, capacity) {
            return Ok((peek, bounce));
        }
    }
}
