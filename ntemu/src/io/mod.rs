//! The I/O manager: the object namespace of devices and symbolic links, file objects and
//! their handles, IRPs and their completion, and the NT system services that turn a caller's
//! request into an IRP the way Windows builds it (ReactOS's `ntoskrnl/io/iomgr` read for the
//! facts: which checks come first, what is probed and captured, which IRP fields are set, when
//! the status block is written).
//!
//! - [`objects`]: devices, links and name lookup;
//! - [`file`]: file objects, their references, cleanup and close;
//! - [`irp`]: IRP allocation, IoCallDriver, IofCompleteRequest, completion, cancellation;
//! - [`create`]: NtCreateFile and NtCreateMailslotFile, with the parse and access check;
//! - [`rw`]: NtReadFile and NtWriteFile;
//! - [`info`]: query/set information, volume information, directory queries, FSCTLs;
//! - [`services`]: handles, events, waits and cancellation;
//! - [`locktime`]: how long the driver holds its spin locks.

pub mod create;
pub mod file;
pub mod info;
pub mod irp;
pub mod locktime;
pub mod objects;
pub mod rw;
pub mod security;
pub mod services;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex, OnceLock};

pub use objects::Namespace;

pub const STATUS_SUCCESS: i32 = 0;
pub const STATUS_PENDING: i32 = 0x103;
pub const STATUS_INVALID_HANDLE: i32 = 0xC000_0008u32 as i32;
pub const STATUS_INVALID_PARAMETER: i32 = 0xC000_000Du32 as i32;
pub const STATUS_NO_SUCH_DEVICE: i32 = 0xC000_000Eu32 as i32;
pub const STATUS_INVALID_DEVICE_REQUEST: i32 = 0xC000_0010u32 as i32;
pub const STATUS_ACCESS_DENIED: i32 = 0xC000_0022u32 as i32;
pub const STATUS_OBJECT_TYPE_MISMATCH: i32 = 0xC000_0024u32 as i32;
pub const STATUS_OBJECT_NAME_INVALID: i32 = 0xC000_0033u32 as i32;
pub const STATUS_OBJECT_NAME_NOT_FOUND: i32 = 0xC000_0034u32 as i32;
pub const STATUS_OBJECT_PATH_NOT_FOUND: i32 = 0xC000_003Au32 as i32;
pub const STATUS_OBJECT_PATH_SYNTAX_BAD: i32 = 0xC000_003Bu32 as i32;
pub const STATUS_ACCESS_VIOLATION: i32 = 0xC000_0005u32 as i32;
pub const STATUS_DATATYPE_MISALIGNMENT: i32 = 0x8000_0002u32 as i32;
pub const STATUS_INFO_LENGTH_MISMATCH: i32 = 0xC000_0004u32 as i32;
pub const STATUS_INVALID_INFO_CLASS: i32 = 0xC000_0003u32 as i32;
pub const STATUS_INSUFFICIENT_RESOURCES: i32 = 0xC000_009Au32 as i32;
pub const STATUS_NOT_FOUND: i32 = 0xC000_0225u32 as i32;
pub const STATUS_CANCELLED: i32 = 0xC000_0120u32 as i32;
pub const STATUS_BUFFER_TOO_SMALL: i32 = 0xC000_0023u32 as i32;
pub const STATUS_BUFFER_OVERFLOW: i32 = 0x8000_0005u32 as i32;

pub fn nt_error(status: i32) -> bool {
    (status as u32) >> 30 == 3
}

/// Whether a request comes from user mode (its pointers are probed and captured) or from a
/// kernel component (trusted, and its buffers may be paged).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Kernel,
    User,
}

impl Mode {
    pub fn as_byte(self) -> u8 {
        match self {
            Mode::Kernel => 0,
            Mode::User => 1,
        }
    }
}

/// A piece of work for the system worker thread.
type Work = Box<dyn FnOnce() + Send>;

/// The I/O manager of one machine.
#[derive(Debug, Default)]
pub struct Io {
    pub namespace: Namespace,
    pub irps: irp::Irps,
    /// Work that must run at PASSIVE_LEVEL but was found at DISPATCH_LEVEL (a file object's
    /// last reference dropped by a DPC), run by a system worker thread.
    worker: OnceLock<Mutex<Sender<Work>>>,
    /// Work handed to the worker and not yet done.
    deferred: Arc<AtomicUsize>,
}

impl Io {
    pub fn device_count(&self) -> usize {
        self.namespace.device_count()
    }

    /// Runs `work` on the machine's system worker thread (at PASSIVE_LEVEL).
    pub fn defer(&self, machine: usize, work: Work) {
        self.deferred.fetch_add(1, Ordering::SeqCst);
        let sender = self.worker.get_or_init(|| {
            let (tx, rx) = channel::<Work>();
            let deferred = self.deferred.clone();
            std::thread::Builder::new()
                .name("ntemu-worker".into())
                .spawn(move || {
                    crate::cpu::set_machine_addr(machine);
                    crate::cpu::set_role(crate::cpu::Role::System);
                    crate::seh::ensure_signal_stack();
                    while let Ok(job) = rx.recv() {
                        job();
                        deferred.fetch_sub(1, Ordering::SeqCst);
                    }
                })
                .expect("spawning the I/O worker thread");
            Mutex::new(tx)
        });
        let _ = sender.lock().unwrap_or_else(|e| e.into_inner()).send(work);
    }

    /// True once no deferred work is queued or running.
    pub fn worker_idle(&self) -> bool {
        self.deferred.load(Ordering::SeqCst) == 0
    }
}

/// The dispatch routine of a driver that has none for a major function
/// (`IopInvalidDeviceRequest`): STATUS_INVALID_DEVICE_REQUEST.
pub extern "win64" fn invalid_device_request(_device: usize, irp: usize) -> i32 {
    irp::complete_from_kernel(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    STATUS_INVALID_DEVICE_REQUEST
}
