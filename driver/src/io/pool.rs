//! Single values in non-paged pool: the driver's own contexts (the engine, pending reads,
//! handles) live at fixed addresses the kernel may hold on to.

use core::mem::size_of;
use core::ptr::NonNull;

use crate::ffi::*;

/// Moves `value` into non-paged pool; `None` when the pool is exhausted.
pub(super) fn pool_new<T>(value: T) -> Option<NonNull<T>> {
    pool_new_charged(value, false)
}

/// [`pool_new`], charged to the current process's pool quota when `charge` (for what a
/// user-mode request makes in its own thread and keeps for as long as the request or handle
/// lives: its handle block, its waiting read): the charge returns when the block is freed, and
/// `None` past the process's quota too.
pub(super) fn pool_new_charged<T>(value: T, charge: bool) -> Option<NonNull<T>> {
    const { assert!(core::mem::align_of::<T>() <= 16) };
    let flags = if charge {
        POOL_FLAG_NON_PAGED | POOL_FLAG_USE_QUOTA
    } else {
        POOL_FLAG_NON_PAGED
    };
    // SAFETY: a plain allocation; pool blocks are 16-byte aligned, enough for T (above).
    let raw = unsafe { ExAllocatePool2(flags, size_of::<T>(), POOL_TAG) };
    let ptr = NonNull::new(raw.cast::<T>())?;
    // SAFETY: freshly allocated, sized and aligned for T.
    unsafe { ptr.as_ptr().write(value) };
    Some(ptr)
}

/// Drops and frees a [`pool_new`] block.
///
/// # Safety
/// `ptr` came from [`pool_new`] and nothing uses it afterwards.
pub(super) unsafe fn pool_free<T>(ptr: NonNull<T>) {
    // SAFETY: per the contract, a live T in a block of ours.
    unsafe {
        core::ptr::drop_in_place(ptr.as_ptr());
        ExFreePoolWithTag(ptr.as_ptr().cast(), POOL_TAG);
    }
}
