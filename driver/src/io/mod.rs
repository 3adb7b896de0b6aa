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
//!
//! One file per IRP family: `create`, `read_write`, `information`, `directory`, `fsctl`,
//! `close`; the pending-read protocol's kernel side in `pending_read`; the engine and its lock in
//! `engine`; pool boxes in `pool`.

mod close;
mod create;
mod directory;
mod engine;
mod fsctl;
mod information;
mod pending_read;
mod pool;
mod read_write;
mod requester;
mod security;

use close::{cleanup, close};
use create::create;
use directory::query_directory;
use engine::{engine, Engine};
pub use engine::{start, stop};
use fsctl::fs_control;
use information::{query_information, set_information};
use pool::{pool_free, pool_new, pool_new_charged};
use read_write::{read, write};

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::ptr::{addr_of_mut, null_mut, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};

use alloc::vec::Vec;

use msfs::wire::FSCTL_MAILSLOT_PEEK;
use msfs::{
    Completion, Config, CreateParameters, DirQuery, Handle, Message, Msfs, NtStatus, Peek,
    PreparedName, ReadId, ReadOutcome, Wait, Written,
};
use msfs_io::pending::{self, Armed, EngineLock, PendingRead, ReadState};
use msfs_io::stack::{self, Request, StackWords};
use msfs_io::{access, info, Region, Reply};

use crate::ffi::*;
use crate::kernel::trace;

const FILE_OPENED: usize = 1;
const FILE_CREATED: usize = 2;

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
    // SAFETY: a ULONG_PTR ntoskrnl sets at boot and never changes.
    unsafe { MmUserProbeAddress as u64 }
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
            Request::Create { security_context } => {
                create(engine, irp, words.flags, file, security_context, None)
            }
            Request::CreateMailslot {
                security_context,
                parameters,
            } => create(
                engine,
                irp,
                words.flags,
                file,
                security_context,
                Some(parameters),
            ),
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
            // Nothing is buffered: a live mailslot's flush succeeds at once (Msfs::flush).
            Request::QuerySecurity {
                information,
                length,
            } => security::query_security(engine, irp, file, information, length),
            Request::SetSecurity {
                information,
                descriptor,
            } => security::set_security(engine, file, information, descriptor),
            Request::Flush => match handle_of(file) {
                // SAFETY: the handle is read under the lock.
                Ok(h) => engine.with(|m| m.flush(&*h)).map(|()| 0).into(),
                Err(s) => Reply::error(s),
            },
            Request::Cleanup => cleanup(engine, file),
            Request::Close => close(engine, file),
            Request::Refused(status) => Reply::error(status),
        }
    };
    // SAFETY: every path but a read's returned a reply for an IRP still ours.
    unsafe { complete(irp, reply) }
}
