//! IRPs: allocation, IoCallDriver, IofCompleteRequest with Verifier's checks, the completion
//! work (IopCompleteRequest: copy a buffered read back, write the caller's status block, set
//! the events, free the IRP, drop the file object's reference), and IoCancelIrp.
//!
//! What the emulator knows about each IRP is kept beside it, keyed by its address (pool
//! addresses are never reused, so an address names one IRP for good): whether it was completed
//! (a second IofCompleteRequest is MULTIPLE_IRP_COMPLETE_REQUESTS), whether the dispatch routine
//! has returned (its memory is freed only then, as the APC that finishes a pended IRP on
//! Windows runs only after), and who may cancel it.
//!
//! Completion work that Windows does in an APC of the requesting thread is done here on the
//! completing thread, which for user memory makes no difference the driver can observe.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::bugcheck::{self, Stop};
use crate::cpu;
use crate::ke::Event;
use crate::layout::{flags as fl, irp as ir, stack as st, IO_TYPE_IRP};
use crate::machine::{self, Machine};
use crate::mem::{self, Raw};
use crate::pool::Owner;
use crate::se::Token;

use super::file::FileObj;
use super::objects::Device;
use super::{nt_error, Mode, STATUS_PENDING};

/// Where a status block goes: the caller's memory, or the I/O manager's own for a request it
/// waits on itself.
#[derive(Clone, Debug)]
pub enum Iosb {
    None,
    User(usize),
    Kernel(Arc<Mutex<Option<(i32, usize)>>>),
}

#[derive(Debug)]
pub struct IrpInfo {
    pub len: usize,
    pub major: u8,
    pub requestor: Mode,
    pub file: Option<Arc<FileObj>>,
    pub iosb: Iosb,
    /// The caller's event (NtReadFile's Event argument), or the I/O manager's own.
    pub event: Option<Arc<Event>>,
    pub process: u32,
    /// The requesting thread's token, for a request made in a process's thread (none for the
    /// I/O manager's own cleanup and close): its dispatch runs as that thread.
    pub token: Option<Token>,
    pub thread: std::thread::ThreadId,
    pub wow64: bool,
    /// Length of the buffer a buffered read or query carries: the most Information may be.
    pub output_len: Option<usize>,
    /// A synchronous API (the I/O manager waits for it itself).
    pub synchronous_api: bool,
    /// IRP_DEFER_IO_COMPLETION and not yet returned pending.
    pub deferred: bool,
    pub dispatching: bool,
    pub completed: bool,
    pub pending_returned: bool,
    pub finished: bool,
    pub freed: bool,
    pub status: i32,
    pub information: usize,
    pins: u32,
}

#[derive(Debug, Default)]
pub struct Irps {
    map: Mutex<HashMap<usize, IrpInfo>>,
    /// Completions by (major function, returned pending, priority boost), for tests.
    boosts: Mutex<HashMap<(u8, bool, i8), u64>>,
}

impl Irps {
    fn lock(&self) -> MutexGuard<'_, HashMap<usize, IrpInfo>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn note_boost(&self, major: u8, pending: bool, boost: i8) {
        *self
            .boosts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((major, pending, boost))
            .or_default() += 1;
    }

    /// How many IRPs of `major` the driver completed with `boost`, among those it returned
    /// pending (`pending`) or completed at once.
    pub fn completions_with_boost(&self, major: u8, pending: bool, boost: i8) -> u64 {
        self.boosts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(major, pending, boost))
            .copied()
            .unwrap_or(0)
    }

    /// Marks an IRP as a synchronous API the I/O manager waits for itself.
    pub fn set_synchronous_api(&self, irp: usize) {
        if let Some(i) = self.lock().get_mut(&irp) {
            i.synchronous_api = true;
        }
    }
}

/// A fresh IRP for a device of `stack_size` locations (IoAllocateIrp), with its record.
pub fn allocate(m: &Machine, stack_size: u8, mut info: IrpInfo) -> Raw {
    let len = ir::SIZE + st::SIZE * usize::from(stack_size);
    let addr = m
        .pool
        .allocate(
            len,
            u32::from_le_bytes(*b"Irp "),
            Owner::System,
            false,
            0,
            true,
        )
        .expect("pool for an IRP");
    // SAFETY: a live pool block of `len` bytes, freed only by `free_irp`.
    let raw = unsafe { Raw::new(addr, len) };
    raw.w16(ir::TYPE, IO_TYPE_IRP);
    raw.w16(ir::SIZE_FIELD, len as u16);
    raw.w8(ir::STACK_COUNT, stack_size);
    raw.w8(ir::CURRENT_LOCATION, stack_size + 1);
    raw.w64(
        ir::CURRENT_STACK_LOCATION,
        (addr + ir::SIZE + st::SIZE * usize::from(stack_size)) as u64,
    );
    raw.w8(ir::REQUESTOR_MODE, info.requestor.as_byte());
    // The thread list entry points at itself (an empty list), as IoAllocateIrp leaves it.
    raw.w64(ir::THREAD_LIST_ENTRY, (addr + ir::THREAD_LIST_ENTRY) as u64);
    raw.w64(
        ir::THREAD_LIST_ENTRY + 8,
        (addr + ir::THREAD_LIST_ENTRY) as u64,
    );
    info.len = len;
    m.io.irps.lock().insert(addr, info);
    raw
}

impl IrpInfo {
    pub fn new(
        requestor: Mode,
        file: Option<Arc<FileObj>>,
        iosb: Iosb,
        event: Option<Arc<Event>>,
        process: u32,
    ) -> IrpInfo {
        IrpInfo {
            len: 0,
            major: 0,
            requestor,
            file,
            iosb,
            event,
            process,
            token: None,
            thread: std::thread::current().id(),
            wow64: false,
            output_len: None,
            synchronous_api: false,
            deferred: false,
            dispatching: false,
            completed: false,
            pending_returned: false,
            finished: false,
            freed: false,
            status: 0,
            information: 0,
            pins: 0,
        }
    }
}

/// The stack location the I/O manager fills before IoCallDriver (IoGetNextIrpStackLocation).
pub fn next_stack(irp: &Raw) -> Raw {
    let at = irp.r64(ir::CURRENT_STACK_LOCATION) as usize - st::SIZE;
    // SAFETY: inside the IRP block (allocated with StackCount locations after the header).
    unsafe { Raw::new(at, st::SIZE) }
}

fn current_stack_addr(irp: usize) -> Option<usize> {
    mem::peek_u64(irp + ir::CURRENT_STACK_LOCATION).map(|a| a as usize)
}

type Dispatch = unsafe extern "win64" fn(usize, usize) -> i32;

/// IoCallDriver and the checks around the dispatch routine; then, for a request that did not
/// pend, the deferred completion (IopPerformSynchronousRequest with Deferred).
pub fn call_driver(
    m: &'static Machine,
    device: &Device,
    irp: &Raw,
    paged: Vec<(usize, usize)>,
) -> i32 {
    let loc = irp.r8(ir::CURRENT_LOCATION);
    if loc <= 1 {
        bugcheck::stop(Stop::new(
            0x35,
            [irp.addr as u64, 0, 0, 0],
            "NO_MORE_IRP_STACK_LOCATIONS: the IRP ran out of stack locations",
        ));
    }
    irp.w8(ir::CURRENT_LOCATION, loc - 1);
    let stack = irp.r64(ir::CURRENT_STACK_LOCATION) as usize - st::SIZE;
    irp.w64(ir::CURRENT_STACK_LOCATION, stack as u64);
    // SAFETY: the stack location just made current, inside the IRP.
    let sl = unsafe { Raw::new(stack, st::SIZE) };
    sl.w64(st::DEVICE_OBJECT, device.addr() as u64);
    let major = sl.r8(st::MAJOR);
    let requester = m.io.irps.lock().get_mut(&irp.addr).and_then(|i| {
        i.dispatching = true;
        i.major = major;
        i.token.clone().map(|t| (i.process, t))
    });
    let routine = mem::peek_u64(
        device.driver + crate::layout::driver::MAJOR_FUNCTION + usize::from(major) * 8,
    )
    .unwrap_or(0);
    let before = cpu::irql();
    let at_dispatch = m.faults.dispatch_at_dispatch_level.load(Ordering::Relaxed);
    cpu::set_paged(paged);
    if at_dispatch {
        cpu::set_irql(cpu::DISPATCH_LEVEL);
    }
    let entered = cpu::irql();
    let dispatch = || {
        // SAFETY: the routine the device's driver put in its DRIVER_OBJECT for this major
        // function (KMDF's dispatcher, the emulator's, or IopInvalidDeviceRequest's), called
        // with the device and the IRP as IoCallDriver calls it.
        unsafe {
            let f: Dispatch = std::mem::transmute(routine as usize);
            f(device.addr(), irp.addr)
        }
    };
    // The routine runs in the requester's thread: its process's context (pool quota) and its
    // token (what SeCaptureSubjectContext would capture).
    let status = match requester {
        Some((pid, token)) => {
            crate::quota::in_process(pid, || crate::token::acting_as(&token, dispatch))
        }
        None => dispatch(),
    };
    let after = cpu::irql();
    if after != entered {
        bugcheck::stop(
            Stop::new(
                bugcheck::DRIVER_VERIFIER_IOMANAGER_VIOLATION,
                [0x05, device.addr() as u64, u64::from(entered), u64::from(after)],
                format!("the dispatch routine for major function {major:#x} returned at IRQL {after}, entered at {entered}"),
            )
            .at(routine as usize),
        );
    }
    cpu::set_irql(before);
    cpu::take_paged();
    after_dispatch(m, irp.addr, status, routine as usize);
    status
}

/// Verifier's checks of a dispatch routine's return, then deferred completion or release.
fn after_dispatch(m: &'static Machine, irp: usize, status: i32, routine: usize) {
    let mut map = m.io.irps.lock();
    let Some(info) = map.get_mut(&irp) else {
        return;
    };
    info.dispatching = false;
    if status == STATUS_PENDING {
        let marked = if info.completed {
            info.pending_returned
        } else {
            current_stack_addr(irp)
                .and_then(|s| mem::peek_u8(s + st::CONTROL))
                .is_some_and(|c| c & fl::SL_PENDING_RETURNED as u8 != 0)
        };
        if !marked {
            drop(map);
            bugcheck::stop(
                Stop::new(
                    bugcheck::NTEMU_CHECK,
                    [irp as u64, status as u32 as u64, 0, 0],
                    "the dispatch routine returned STATUS_PENDING without marking the IRP pending (IoMarkIrpPending; DDI rule MarkIrpPending2)",
                )
                .at(routine),
            );
        }
        let free_now = info.finished && !info.freed && info.pins == 0;
        if free_now {
            info.freed = true;
        }
        drop(map);
        if free_now {
            free_irp(m, irp);
        }
        return;
    }
    if !info.completed {
        drop(map);
        bugcheck::stop(
            Stop::new(
                bugcheck::NTEMU_CHECK,
                [irp as u64, status as u32 as u64, 0, 0],
                format!("the dispatch routine returned {status:#010x} without completing the IRP"),
            )
            .at(routine),
        );
    }
    if info.status != status {
        let recorded = info.status;
        drop(map);
        bugcheck::stop(
            Stop::new(
                bugcheck::NTEMU_CHECK,
                [irp as u64, status as u32 as u64, recorded as u32 as u64, 0],
                format!("the dispatch routine returned {status:#010x} but completed the IRP with {recorded:#010x}"),
            )
            .at(routine),
        );
    }
    if info.pending_returned {
        drop(map);
        bugcheck::stop(
            Stop::new(
                bugcheck::NTEMU_CHECK,
                [irp as u64, status as u32 as u64, 0, 0],
                format!("the dispatch routine marked the IRP pending but returned {status:#010x} (DDI rule MarkIrpPending)"),
            )
            .at(routine),
        );
    }
    let deferred = info.deferred && !info.finished;
    let free_now = info.finished && !info.freed && info.pins == 0;
    if free_now {
        info.freed = true;
    }
    drop(map);
    if deferred {
        finish(m, irp);
    } else if free_now {
        free_irp(m, irp);
    }
}

/// `IofCompleteRequest`, as the driver calls it.
pub extern "win64" fn iof_complete_request(irp: usize, boost: i8) {
    complete(machine::current(), irp, boost, cpu::last_call().0);
}

/// Completion by the emulator itself (KMDF's default handling, the emulated disk).
pub fn complete_from_kernel(irp: usize, status: i32, information: usize) {
    mem::poke_u32(irp + ir::IO_STATUS, status as u32);
    mem::poke_u64(irp + ir::IO_STATUS_INFORMATION, information as u64);
    complete(machine::current(), irp, 0, 0);
}

fn complete(m: &'static Machine, irp: usize, boost: i8, caller: usize) {
    let mut map = m.io.irps.lock();
    let Some(info) = map.get_mut(&irp) else {
        drop(map);
        bugcheck::stop(
            Stop::new(
                bugcheck::NTEMU_CHECK,
                [irp as u64, 0, 0, 0],
                format!("IofCompleteRequest on {irp:#x}, which is no IRP the I/O manager issued"),
            )
            .at(caller),
        );
    };
    if info.completed {
        drop(map);
        bugcheck::stop(
            Stop::new(
                bugcheck::MULTIPLE_IRP_COMPLETE_REQUESTS,
                [irp as u64, 0, 0, 0],
                "the IRP was completed a second time",
            )
            .at(caller),
        );
    }
    // SAFETY: a live IRP (its record says not completed, and only completion frees it).
    let raw = unsafe { Raw::new(irp, info.len) };
    let cancel_routine = raw.r64(ir::CANCEL_ROUTINE);
    if cancel_routine != 0 {
        drop(map);
        bugcheck::stop(
            Stop::new(
                bugcheck::DRIVER_VERIFIER_IOMANAGER_VIOLATION,
                [0x07, cancel_routine, irp as u64, 0],
                "IoCompleteRequest on an IRP whose cancel routine is still set",
            )
            .at(caller),
        );
    }
    let status = raw.r32(ir::IO_STATUS) as i32;
    if status == STATUS_PENDING || status == -1 {
        drop(map);
        bugcheck::stop(
            Stop::new(
                bugcheck::DRIVER_VERIFIER_IOMANAGER_VIOLATION,
                [0x06, status as u32 as u64, irp as u64, 0],
                format!("IoCompleteRequest with the status {status:#010x}"),
            )
            .at(caller),
        );
    }
    let information = raw.r64(ir::IO_STATUS_INFORMATION) as usize;
    if let (Some(max), false) = (info.output_len, nt_error(status)) {
        if information > max {
            let major = info.major;
            drop(map);
            bugcheck::stop(
                Stop::new(
                    bugcheck::NTEMU_CHECK,
                    [irp as u64, information as u64, max as u64, 0],
                    format!(
                        "the IRP (major function {major:#x}) completed with Information {information}, more than its {max}-byte buffer: the I/O manager would copy {information} bytes of pool to the caller"
                    ),
                )
                .at(caller),
            );
        }
    }
    // The one stack location: PendingReturned from its control bits, then it is cleared.
    let stack = raw.r64(ir::CURRENT_STACK_LOCATION) as usize;
    let pending =
        mem::peek_u8(stack + st::CONTROL).is_some_and(|c| c & fl::SL_PENDING_RETURNED as u8 != 0);
    raw.w8(ir::PENDING_RETURNED, u8::from(pending));
    raw.w8(ir::CURRENT_LOCATION, raw.r8(ir::CURRENT_LOCATION) + 1);
    raw.w64(ir::CURRENT_STACK_LOCATION, (stack + st::SIZE) as u64);
    info.completed = true;
    info.deferred = raw.r32(ir::FLAGS) & fl::IRP_DEFER_IO_COMPLETION as u32 != 0;
    info.pending_returned = pending;
    info.status = status;
    info.information = information;
    m.io.irps.note_boost(info.major, pending, boost);
    if info.deferred && !pending {
        // IRP_DEFER_IO_COMPLETION: the dispatching thread finishes it when the routine returns.
        return;
    }
    drop(map);
    finish(m, irp);
}

/// IopCompleteRequest's work: buffered data back to the caller, the status block, events, the
/// file object's reference; the IRP's memory once its dispatch routine has returned.
fn finish(m: &'static Machine, irp: usize) {
    let (file, iosb, event, status, information, pending, sync_api, len) = {
        let map = m.io.irps.lock();
        let Some(info) = map.get(&irp) else {
            return;
        };
        (
            info.file.clone(),
            info.iosb.clone(),
            info.event.clone(),
            info.status,
            info.information,
            info.pending_returned,
            info.synchronous_api,
            info.len,
        )
    };
    // SAFETY: the IRP's memory is freed only once `finished` is set, at the end of this
    // function (by it, or by whoever sees `finished` afterwards).
    let raw = unsafe { Raw::new(irp, len) };
    let flags = raw.r32(ir::FLAGS);
    let system_buffer = raw.r64(ir::SYSTEM_BUFFER) as usize;
    if flags & fl::IRP_BUFFERED_IO as u32 != 0 {
        if flags & fl::IRP_INPUT_OPERATION as u32 != 0 && !nt_error(status) && information > 0 {
            let user = raw.r64(ir::USER_BUFFER) as usize;
            let mut data = vec![0u8; information];
            if mem::copy_in(system_buffer, &mut data) {
                // The caller's buffer may be gone: Windows writes it under SEH and ignores that.
                mem::copy_out(user, &data);
            }
        }
        if flags & fl::IRP_DEALLOCATE_BUFFER as u32 != 0 && system_buffer != 0 {
            m.pool.free(system_buffer, None, 0, &|_, _| None);
            raw.w64(ir::SYSTEM_BUFFER, 0);
        }
    }
    let aux = raw.r64(ir::AUXILIARY_BUFFER) as usize;
    if aux != 0 {
        m.pool.free(aux, None, 0, &|_, _| None);
        raw.w64(ir::AUXILIARY_BUFFER, 0);
    }
    // Who learns of the completion, as IopCompleteRequest decides it: a success, or a failure
    // of a request that pended asynchronously, writes the status block and sets the caller's
    // event; a failure that did not pend leaves the status block untouched.
    let synchronous_file = file.as_ref().is_some_and(|f| f.synchronous);
    let synchronous_irp = sync_api || synchronous_file;
    match &file {
        None => {
            // The I/O manager's own requests (create, cleanup, close): it waits on its event.
            write_iosb(&iosb, status, information);
            if let Some(e) = &event {
                e.set();
            }
        }
        Some(f) if !nt_error(status) || (pending && !synchronous_irp) => {
            write_iosb(&iosb, status, information);
            match &event {
                Some(e) => {
                    e.set();
                    if synchronous_file {
                        f.final_status.store(status, Ordering::SeqCst);
                        f.event.set();
                    }
                }
                None => {
                    f.final_status.store(status, Ordering::SeqCst);
                    f.event.set();
                }
            }
        }
        Some(f) if pending => {
            if sync_api {
                write_iosb(&iosb, status, information);
                match &event {
                    Some(e) => e.set(),
                    None => f.event.set(),
                }
            } else {
                f.final_status.store(status, Ordering::SeqCst);
                f.event.set();
            }
        }
        Some(_) => {}
    }
    if let Some(f) = file {
        f.dereference(m);
    }
    // Only now is the IRP's memory done with: the dispatching thread (if it is still in the
    // driver) or the last IoCancelIrp frees it when they see `finished`, unless it is ours.
    let free_now = {
        let mut map = m.io.irps.lock();
        let Some(info) = map.get_mut(&irp) else {
            return;
        };
        info.finished = true;
        let free_now = !info.dispatching && info.pins == 0 && !info.freed;
        if free_now {
            info.freed = true;
        }
        free_now
    };
    if free_now {
        free_irp(m, irp);
    }
}

fn write_iosb(iosb: &Iosb, status: i32, information: usize) {
    match iosb {
        Iosb::None => {}
        Iosb::User(addr) => {
            // Written under SEH on Windows: a status block the caller freed is ignored.
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&status.to_le_bytes());
            b[8..].copy_from_slice(&(information as u64).to_le_bytes());
            mem::copy_out(*addr, &b);
        }
        Iosb::Kernel(slot) => {
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some((status, information))
        }
    }
}

fn free_irp(m: &Machine, irp: usize) {
    let ready =
        m.io.irps
            .lock()
            .get(&irp)
            .is_some_and(|i| i.completed && i.finished && i.freed && i.pins == 0 && !i.dispatching);
    if !ready {
        bugcheck::stop(Stop::new(
            bugcheck::NTEMU_CHECK,
            [irp as u64, 0, 0, 0],
            format!("emulator bug: the IRP at {irp:#x} freed before everyone was done with it"),
        ));
    }
    mem::poke_u16(irp + ir::TYPE, 0);
    m.pool.free(irp, None, 0, &|_, _| None);
}

/// Keeps a live IRP's memory from being freed while the caller uses it (IoCancelIrp).
fn pin(m: &Machine, irp: usize) -> bool {
    let mut map = m.io.irps.lock();
    match map.get_mut(&irp) {
        Some(i) if !i.freed => {
            i.pins += 1;
            true
        }
        _ => false,
    }
}

fn unpin(m: &Machine, irp: usize) {
    let free_now = {
        let mut map = m.io.irps.lock();
        let Some(i) = map.get_mut(&irp) else { return };
        i.pins -= 1;
        let f = i.pins == 0 && i.finished && !i.dispatching && !i.freed;
        if f {
            i.freed = true;
        }
        f
    };
    if free_now {
        free_irp(m, irp);
    }
}

type CancelRoutine = unsafe extern "win64" fn(usize, usize);

/// IoCancelIrp: TRUE when a cancel routine was called.
pub fn cancel(m: &'static Machine, irp: usize) -> bool {
    if !pin(m, irp) {
        return false;
    }
    let len = m.io.irps.lock().get(&irp).map_or(0, |i| i.len);
    // SAFETY: pinned: the IRP's memory stays until `unpin`.
    let raw = unsafe { Raw::new(irp, len) };
    let old = crate::ntos::acquire_cancel_spin_lock();
    raw.w8(ir::CANCEL, 1);
    let routine = raw.atomic64(ir::CANCEL_ROUTINE).swap(0, Ordering::AcqRel);
    let called = if routine != 0 {
        if m.io.irps.lock().get(&irp).is_some_and(|i| i.completed) {
            bugcheck::stop(Stop::new(
                bugcheck::CANCEL_STATE_IN_COMPLETED_IRP,
                [irp as u64, routine, 0, 0],
                "a cancel routine is set in an IRP that was already completed",
            ));
        }
        let device = current_stack_addr(irp)
            .and_then(|s| mem::peek_u64(s + st::DEVICE_OBJECT))
            .unwrap_or(0) as usize;
        raw.w8(ir::CANCEL_IRQL, old);
        call_cancel(routine as usize, device, irp, old);
        if m.faults.cancel_routine_twice.load(Ordering::Relaxed) {
            // The broken kernel of the self-check: the same routine a second time.
            let old = crate::ntos::acquire_cancel_spin_lock();
            raw.w8(ir::CANCEL_IRQL, old);
            call_cancel(routine as usize, device, irp, old);
        }
        true
    } else {
        crate::ntos::release_cancel_spin_lock(old);
        false
    };
    unpin(m, irp);
    called
}

fn call_cancel(routine: usize, device: usize, irp: usize, old: u8) {
    // SAFETY: the routine the driver stored in Irp->CancelRoutine (exchanged out atomically,
    // so it runs once per cancel), called with the cancel spin lock held at DISPATCH_LEVEL, as
    // IoCancelIrp calls it; the routine releases the lock.
    unsafe {
        let f: CancelRoutine = std::mem::transmute(routine);
        f(device, irp);
    }
    if cpu::irql() != old || cpu::spin_locks_held() != 0 {
        bugcheck::stop(
            Stop::new(
                bugcheck::NTEMU_CHECK,
                [irp as u64, u64::from(cpu::irql()), u64::from(old), 0],
                format!(
                    "the cancel routine returned at IRQL {} holding {} spin lock(s); it must release the cancel spin lock, back to IRQL {old}",
                    cpu::irql(),
                    cpu::spin_locks_held()
                ),
            )
            .at(routine),
        );
    }
}

/// NtCancelIoFile(Ex): cancels the file object's uncompleted IRPs of this process (all of
/// them, those with this status block, or those of this thread).
pub fn cancel_matching(
    m: &'static Machine,
    file: &FileObj,
    process: u32,
    iosb: Option<usize>,
    this_thread: bool,
) -> usize {
    let me = std::thread::current().id();
    let targets: Vec<usize> =
        m.io.irps
            .lock()
            .iter()
            .filter(|(_, i)| {
                !i.completed
                    && i.process == process
                    && i.file.as_ref().is_some_and(|f| f.addr() == file.addr())
                    && iosb.is_none_or(|a| matches!(i.iosb, Iosb::User(u) if u == a))
                    && (!this_thread || i.thread == me)
            })
            .map(|(&a, _)| a)
            .collect();
    for &irp in &targets {
        cancel(m, irp);
    }
    targets.len()
}

/// `IoIs32bitProcess(Irp)`.
pub extern "win64" fn io_is_32bit_process(irp: usize) -> u8 {
    let m = machine::current();
    u8::from(m.io.irps.lock().get(&irp).is_some_and(|i| i.wow64))
}

/// IRP_MJ_CLEANUP (last handle) or IRP_MJ_CLOSE (last reference) for a file object, sent
/// synchronously as IopCloseFile and IopDeleteFile do.
pub fn send_cleanup_or_close(m: &'static Machine, file: &Arc<FileObj>, cleanup: bool) {
    let done = Arc::new(Event::new(true, false));
    let slot = Arc::new(Mutex::new(None));
    let mut info = IrpInfo::new(
        Mode::Kernel,
        None,
        Iosb::Kernel(slot),
        Some(done.clone()),
        0,
    );
    info.synchronous_api = true;
    let irp = allocate(m, file.device.stack_size(), info);
    irp.w32(
        ir::FLAGS,
        (fl::IRP_SYNCHRONOUS_API | if cleanup { 0 } else { fl::IRP_CLOSE_OPERATION }) as u32,
    );
    irp.w64(ir::ORIGINAL_FILE_OBJECT, file.addr() as u64);
    let sl = next_stack(&irp);
    sl.w8(st::MAJOR, if cleanup { 0x12 } else { 0x02 });
    sl.w64(st::FILE_OBJECT, file.addr() as u64);
    let status = call_driver(m, &file.device, &irp, Vec::new());
    if status == STATUS_PENDING {
        done.wait(None);
    }
}
