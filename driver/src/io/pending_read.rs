//! A pending read's context and the kernel's side of `msfs_io::pending`: its timer DPC, its
//! cancel routine, its completion, and the list of reads a write or cleanup won.

use super::*;

/// How a winning write or cleanup ends a read, noted under the lock, carried out after it.
#[derive(Clone, Copy)]
pub(super) enum Won {
    Deliver,
    Fail(NtStatus),
}

/// A pending read's context, in non-paged pool at a fixed address (its timer and DPC live in
/// it). The engine's token for the read is this address.
pub(super) struct ReadCtx {
    pub(super) state: ReadState,
    pub(super) irp: *mut IRP,
    /// The read's system buffer and its length, as the request gave them: a message is copied
    /// into it only when it fits (`msfs_io::fits`).
    pub(super) buffer: *mut u8,
    pub(super) length: usize,
    pub(super) timed: bool,
    pub(super) due: i64,
    /// Written under the engine lock before the timer or the cancel routine is armed.
    pub(super) id: UnsafeCell<Option<ReadId>>,
    /// Used only by the one party the engine let win, which alone reaches the context then.
    pub(super) won: UnsafeCell<Won>,
    pub(super) next: UnsafeCell<*mut ReadCtx>,
    pub(super) timer: UnsafeCell<KTIMER>,
    pub(super) dpc: UnsafeCell<KDPC>,
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
pub(super) unsafe fn complete_read(ctx: NonNull<ReadCtx>) {
    // SAFETY: per the contract, nothing else reaches the context or the IRP any more.
    unsafe {
        let (status, information) = ctx.as_ref().state.outcome();
        let irp = ctx.as_ref().irp;
        pool_free(ctx);
        (*irp).IoStatus.Anonymous.Status = status.0;
        (*irp).IoStatus.Information = information;
        // The reader waited: the boost MSFS gives a thread whose mailslot read completes.
        IofCompleteRequest(irp, IO_MAILSLOT_INCREMENT);
    }
}

/// The timer's DPC.
pub(super) unsafe extern "system" fn read_timer_dpc(
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
pub(super) unsafe extern "system" fn cancel_read(_device: *mut DEVICE_OBJECT, irp: *mut IRP) {
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

/// Collects the reads a write or cleanup won, under the lock, into an intrusive list.
pub(super) struct Winners(*mut ReadCtx);

impl Default for Winners {
    fn default() -> Self {
        Winners(null_mut())
    }
}

impl Winners {
    pub(super) fn sink(&mut self) -> impl FnMut(ReadId, Completion<'_>) + '_ {
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
    pub(super) unsafe fn settle(self, data: &[u8]) {
        let mut next = self.0;
        while let Some(ctx) = NonNull::new(next) {
            // SAFETY: per the contract we hold the engine's reference of each context, so it and
            // its IRP are live; its buffer is the IRP's system buffer of `length` bytes
            // (non-null when `length` is not 0), which `n <= length` bytes fit.
            unsafe {
                let c = ctx.as_ref();
                next = *c.next.get();
                let last = match *c.won.get() {
                    // The engine chose this read because its buffer holds the message; checked
                    // again before the copy, so a read never reports more than it holds.
                    Won::Deliver => match msfs_io::fits(data.len(), c.length) {
                        Ok(n) => {
                            if n != 0 {
                                core::ptr::copy_nonoverlapping(data.as_ptr(), c.buffer, n);
                            }
                            pending::settle(c, NtStatus::SUCCESS, n)
                        }
                        Err(status) => pending::settle(c, status, 0),
                    },
                    Won::Fail(status) => pending::settle(c, status, 0),
                };
                if last {
                    complete_read(ctx);
                }
            }
        }
    }
}
