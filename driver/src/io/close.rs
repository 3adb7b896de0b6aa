//! `IRP_MJ_CLEANUP` (the last handle: a server's mailslot goes, its reads are cancelled) and
//! `IRP_MJ_CLOSE` (the last reference: the handle's state goes).

use super::pending_read::Winners;
use super::*;

/// `IRP_MJ_CLEANUP`: for a server, the mailslot goes and its pending reads are cancelled.
///
/// # Safety
/// `file` is the request's file object.
pub(super) unsafe fn cleanup(engine: &Engine, file: *mut FILE_OBJECT) -> Reply {
    // SAFETY: per the contract.
    let handle = match unsafe { handle_of(file) } {
        Ok(h) => h,
        Err(s) => return Reply::error(s),
    };
    let mut winners = Winners::default();
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
pub(super) unsafe fn close(engine: &Engine, file: *mut FILE_OBJECT) -> Reply {
    // SAFETY: per the contract.
    let handle = match unsafe { handle_of(file) } {
        Ok(h) => h,
        Err(s) => return Reply::error(s),
    };
    let mut winners = Winners::default();
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
