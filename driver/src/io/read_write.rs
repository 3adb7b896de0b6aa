//! `IRP_MJ_READ` (a message at once, or the read pends) and `IRP_MJ_WRITE` (one message,
//! delivered straight to a pending read when one waits).

use super::pending_read::{complete_read, read_timer_dpc, ReadCtx, Winners, Won};
use super::*;

/// `IRP_MJ_READ`: a whole message into the system buffer, or the IRP pends.
///
/// # Safety
/// The IRP is ours; `file` its file object.
pub(super) unsafe fn read(
    engine: &Engine,
    irp: *mut IRP,
    file: *mut FILE_OBJECT,
    length: u32,
) -> NTSTATUS {
    // SAFETY: per the contract.
    let (handle, buffer) = match unsafe { handle_and_buffer(file, irp, length) } {
        Ok(pair) => pair,
        Err(s) => return unsafe { complete(irp, Reply::error(s)) },
    };
    // Where a write that finds this read pending will copy its message (see `pending_read`).
    let (buffer_start, buffer_len) = (buffer.as_mut_ptr(), buffer.len());
    // A user's waiting read is charged to its process's pool quota while it waits.
    let charged = requestor_is_user(irp);
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
            let ctx = pool_new_charged(
                ReadCtx {
                    state: ReadState::new(timed),
                    irp,
                    buffer: buffer_start,
                    length: buffer_len,
                    timed,
                    due,
                    id: UnsafeCell::new(None),
                    won: UnsafeCell::new(Won::Fail(NtStatus::CANCELLED)),
                    next: UnsafeCell::new(null_mut()),
                    timer: UnsafeCell::new(KTIMER([0; 64])),
                    dpc: UnsafeCell::new(KDPC([0; 64])),
                },
                charged,
            )
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
            // Never report more than the buffer holds (msfs_io::fits), whatever the engine
            // promised.
            let fitted = msfs_io::fits(bytes.len(), buffer.len())
                .and_then(|n| buffer.get_mut(..n).ok_or(NtStatus::BUFFER_TOO_SMALL));
            let reply = match fitted {
                Ok(dst) => {
                    dst.copy_from_slice(bytes);
                    Reply::success(bytes.len())
                }
                Err(status) => Reply::error(status),
            };
            // SAFETY: not pending; ours.
            unsafe { complete(irp, reply) }
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

/// `IRP_MJ_WRITE`: one message from the system buffer, in two short holds of the lock with
/// nothing proportional to the message inside either: the first lets a waiting read take the
/// message (copied into its buffer after the lock) or refuses the write; otherwise the message
/// is allocated and copied outside the lock and handed to the engine in the second.
///
/// # Safety
/// The IRP is ours; `file` its file object.
pub(super) unsafe fn write(
    engine: &Engine,
    irp: *mut IRP,
    file: *mut FILE_OBJECT,
    length: u32,
) -> Reply {
    // SAFETY: per the contract.
    let (handle, data) = match unsafe { handle_and_buffer(file, irp, length) } {
        Ok(pair) => pair,
        Err(s) => return Reply::error(s),
    };
    let data: &[u8] = data;
    let mut winners = Winners::default();
    // SAFETY: the handle is read under the lock.
    let admitted = engine.with(|m| m.write_or_admit(unsafe { &*handle }, data, winners.sink()));
    // SAFETY: the engine withdrew every listed read for this write.
    unsafe { winners.settle(data) };
    match admitted {
        Err(status) => return Reply::error(status),
        Ok(Written::Delivered(n)) => return Reply::success(n),
        Ok(Written::NeedsMessage) => {}
    }
    let message = match Message::copy_from(data) {
        Ok(m) => m,
        Err(status) => return Reply::error(status),
    };
    let mut winners = Winners::default();
    // SAFETY: the handle is read under the lock.
    let (result, unused) =
        engine.with(|m| m.write_message(unsafe { &*handle }, message, winners.sink()));
    // SAFETY: the engine withdrew every listed read for this write.
    unsafe { winners.settle(data) };
    // A message refused, or taken by a read that arrived between the two holds, is freed here,
    // after the lock.
    drop(unused);
    result.into()
}
