//! The pending-read protocol: exactly one completion per read IRP, and no touch after it.
//!
//! A read that finds its mailslot empty waits. Four parties may then end it: a write (which
//! delivers a message or fails it as too small), its timer (STATUS_IO_TIMEOUT), its cancel
//! routine (STATUS_CANCELLED) and the server's cleanup (STATUS_CANCELLED). They run on
//! different processors at once. Two separate questions get two separate answers:
//!
//! 1. *Which outcome?* The engine decides, under the driver's lock: the read is withdrawn from
//!    its queue exactly once, by a write or cleanup (through their completion callback) or by
//!    [`msfs::Msfs::expire`] / [`msfs::Msfs::cancel`] returning `Won`. The winner records the
//!    outcome with [`settle`].
//! 2. *Who calls IoCompleteRequest, and when?* Whoever drops the last reference to the read's
//!    context. The context starts with one reference for each party that may still touch it:
//!    the engine's queue entry, the cancel routine while it is set, and the timer while it is
//!    queued (a DPC that is already queued or running holds the timer's reference, so the
//!    context outlives it). [`settle`] gives up the references of the timer and the cancel
//!    routine when it can stop them (`KeCancelTimer` returned TRUE, `IoSetCancelRoutine(NULL)`
//!    returned the routine) and the engine's; a timer DPC or cancel routine that runs anyway
//!    drops its own reference when it is done ([`on_timer`], [`on_cancel`]).
//!
//! So the IRP is completed once, with the winner's outcome, after the last party is finished
//! with it. The same code runs in the driver and in the host's model checks (`loom`) and
//! stress tests, where the kernel primitives are simulated.

#[cfg(not(loom))]
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering};
#[cfg(loom)]
use loom::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering};

use msfs::{Arbitration, Msfs, NtStatus, ReadId};

/// The shared part of a pending read's context: its reference count and recorded outcome.
#[derive(Debug)]
pub struct ReadState {
    refs: AtomicU32,
    status: AtomicI32,
    information: AtomicUsize,
}

impl ReadState {
    /// A context about to be queued: one reference for the engine's entry, one for the cancel
    /// routine, and one for the timer if the read has one.
    pub fn new(timed: bool) -> Self {
        ReadState {
            refs: AtomicU32::new(2u32.saturating_add(u32::from(timed))),
            status: AtomicI32::new(NtStatus::PENDING.0),
            information: AtomicUsize::new(0),
        }
    }

    fn record(&self, status: NtStatus, information: usize) {
        self.status.store(status.0, Ordering::Relaxed);
        self.information.store(information, Ordering::Relaxed);
    }

    /// Drops one reference. `true` when it was the last: the caller now completes the IRP with
    /// [`ReadState::outcome`] and frees the context, and nothing else will touch either.
    #[must_use]
    pub fn release(&self) -> bool {
        // Release publishes this party's writes (the outcome, the reply bytes); the last
        // party's Acquire sees all of them before it completes.
        self.refs.fetch_sub(1, Ordering::AcqRel) == 1
    }

    /// The recorded outcome: (status, IoStatus.Information).
    pub fn outcome(&self) -> (NtStatus, usize) {
        (
            NtStatus(self.status.load(Ordering::Relaxed)),
            self.information.load(Ordering::Relaxed),
        )
    }

    /// References still held (for tests and assertions).
    pub fn references(&self) -> u32 {
        self.refs.load(Ordering::Acquire)
    }
}

/// The kernel primitives a pending read is armed with. The driver implements them over the
/// IRP, its KTIMER and `Irp->CancelRoutine`; tests simulate them.
pub trait PendingRead {
    fn state(&self) -> &ReadState;
    /// The engine's identity of the read (set when it was queued).
    fn id(&self) -> ReadId;
    /// `KeSetTimer`, for a timed read. Called once, before the cancel routine is set.
    fn start_timer(&self);
    /// `KeCancelTimer`: `true` when the timer was still queued, so its DPC will never run.
    /// Always `false` for a read without a timer.
    fn stop_timer(&self) -> bool;
    /// `IoSetCancelRoutine(irp, routine)`.
    fn set_cancel(&self);
    /// `IoSetCancelRoutine(irp, NULL) != NULL`: `true` when the routine was still set, so it
    /// will never run.
    fn disarm_cancel(&self) -> bool;
    /// `Irp->Cancel`.
    fn cancel_requested(&self) -> bool;
}

/// Mutual exclusion over the engine: the driver's spin lock, a mutex in tests.
pub trait EngineLock {
    fn with<R>(&self, f: impl FnOnce(&mut Msfs) -> R) -> R;
}

/// Called by the party the engine let win, after it wrote the reply bytes (if any) into the
/// IRP's buffer: records the outcome, gives up the timer's and the cancel routine's
/// references where it can stop them, then the engine's. `true`: the caller completes now,
/// after releasing the engine lock if it holds it.
#[must_use]
pub fn settle<P: PendingRead + ?Sized>(read: &P, status: NtStatus, information: usize) -> bool {
    read.state().record(status, information);
    let mut last = false;
    if read.stop_timer() {
        last |= read.state().release();
    }
    if read.disarm_cancel() {
        last |= read.state().release();
    }
    last | read.state().release()
}

/// What [`arm`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Armed {
    /// The read waits; someone else completes it.
    Waiting,
    /// The IRP was cancelled before its cancel routine was set, and the routine will not
    /// run: the caller (still under the engine lock) must withdraw the read with
    /// [`msfs::Msfs::cancel`] and [`settle`] it.
    CancelledEarly,
}

/// Arms a read the engine just queued, under the engine lock (so no write or cleanup can see
/// it half-armed): the timer first, then the cancel routine, then the check of `Irp->Cancel`
/// that the cancel-routine pattern requires.
pub fn arm<P: PendingRead + ?Sized>(read: &P, timed: bool) -> Armed {
    if timed {
        read.start_timer();
    }
    read.set_cancel();
    if read.cancel_requested() && read.disarm_cancel() {
        // Our own reference for the routine that will never run; the engine's is still held,
        // so this is never the last.
        let last = read.state().release();
        debug_assert!(!last);
        return Armed::CancelledEarly;
    }
    Armed::Waiting
}

/// The timer's DPC. `true`: the caller completes the IRP now.
#[must_use]
pub fn on_timer<E: EngineLock, P: PendingRead + ?Sized>(engine: &E, read: &P) -> bool {
    withdraw_then_release(engine, read, Msfs::expire)
}

/// The cancel routine (after it released the cancel spin lock). `true`: the caller completes
/// the IRP now.
#[must_use]
pub fn on_cancel<E: EngineLock, P: PendingRead + ?Sized>(engine: &E, read: &P) -> bool {
    withdraw_then_release(engine, read, Msfs::cancel)
}

/// A timer or cancel routine: asks the engine for the read (settling it if this party won),
/// then drops the party's own reference.
fn withdraw_then_release<E: EngineLock, P: PendingRead + ?Sized>(
    engine: &E,
    read: &P,
    withdraw: fn(&mut Msfs, ReadId) -> Arbitration,
) -> bool {
    let id = read.id();
    let won = engine.with(|m| withdraw(m, id));
    let mut last = false;
    if let Arbitration::Won(status) = won {
        last |= settle(read, status, 0);
    }
    last | read.state().release()
}
