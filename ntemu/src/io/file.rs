//! File objects: the FILE_OBJECT the driver sees, and what the I/O manager keeps beside it.
//!
//! Two counts decide its end, as on Windows: when the last *handle* goes, the driver gets
//! IRP_MJ_CLEANUP (on the thread that closed it); when the last *reference* goes (handles,
//! IRPs in flight, related file objects), IRP_MJ_CLOSE, at PASSIVE_LEVEL (a reference dropped
//! at DISPATCH_LEVEL, by a DPC completing a read, hands the close to the system worker thread).

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::cpu;
use crate::ke::Event;
use crate::layout::{self, file};
use crate::machine::Machine;
use crate::mem::Raw;

use super::objects::Device;

#[derive(Debug)]
pub struct FileObj {
    pub raw: Raw,
    pub device: Arc<Device>,
    pub synchronous: bool,
    /// FileObject->Event: signalled when an I/O on it completes.
    pub event: Event,
    /// Serializes synchronous I/O on an FO_SYNCHRONOUS_IO file object (IopLockFileObject).
    pub lock: Mutex<()>,
    pub final_status: AtomicI32,
    pub related: Option<Arc<FileObj>>,
    /// The FileName buffer (paged pool), freed with the object.
    pub name_block: usize,
    handles: AtomicUsize,
    refs: AtomicUsize,
}

impl FileObj {
    pub fn new(
        raw: Raw,
        device: Arc<Device>,
        synchronous: bool,
        related: Option<Arc<FileObj>>,
        name_block: usize,
    ) -> FileObj {
        device.open_files.fetch_add(1, Ordering::SeqCst);
        if let Some(r) = &related {
            r.reference();
        }
        FileObj {
            raw,
            device,
            synchronous,
            event: Event::new(true, false),
            lock: Mutex::new(()),
            final_status: AtomicI32::new(0),
            related,
            name_block,
            handles: AtomicUsize::new(0),
            refs: AtomicUsize::new(1),
        }
    }

    pub fn addr(&self) -> usize {
        self.raw.addr
    }

    pub fn flags(&self) -> u32 {
        self.raw.r32(file::FLAGS)
    }

    pub fn fs_context(&self) -> u64 {
        self.raw.r64(file::FS_CONTEXT)
    }

    pub fn reference(&self) {
        self.refs.fetch_add(1, Ordering::SeqCst);
    }

    pub fn handle_opened(&self) {
        self.handles.fetch_add(1, Ordering::SeqCst);
        self.reference();
    }

    pub fn handles(&self) -> usize {
        self.handles.load(Ordering::SeqCst)
    }

    /// The last handle gone: IRP_MJ_CLEANUP, then the handle's reference.
    pub fn handle_closed(self: &Arc<Self>, m: &'static Machine) {
        if self.handles.fetch_sub(1, Ordering::SeqCst) == 1 {
            super::irp::send_cleanup_or_close(m, self, true);
        }
        self.dereference(m);
    }

    /// Drops one reference; the last one sends IRP_MJ_CLOSE (at PASSIVE_LEVEL) and frees the
    /// object.
    pub fn dereference(self: &Arc<Self>, m: &'static Machine) {
        if self.refs.fetch_sub(1, Ordering::SeqCst) != 1 {
            return;
        }
        let me = self.clone();
        if cpu::irql() >= cpu::DISPATCH_LEVEL {
            let addr = m as *const Machine as usize;
            m.io.defer(addr, Box::new(move || me.close(crate::machine::current())));
        } else {
            me.close(m);
        }
    }

    /// The create's reference becomes the first handle's (ObInsertObject).
    pub fn adopt_first_handle(&self) {
        self.handles.store(1, Ordering::SeqCst);
    }

    /// A file object whose create failed: freed without cleanup or close, as IopParseDevice
    /// drops one the driver refused.
    pub fn discard(self: Arc<Self>, m: &'static Machine) {
        self.release(m);
    }

    fn close(self: Arc<Self>, m: &'static Machine) {
        super::irp::send_cleanup_or_close(m, &self, false);
        self.release(m);
    }

    fn release(&self, m: &'static Machine) {
        if self.name_block != 0 {
            m.pool.free(self.name_block, None, 0, &|_, _| None);
        }
        self.raw.w16(file::TYPE, 0);
        m.pool.free(self.raw.addr, None, 0, &|_, _| None);
        if self.device.open_files.fetch_sub(1, Ordering::SeqCst) == 1
            && self.device.deleted.load(Ordering::SeqCst)
        {
            super::create::free_device_object(m, &self.device);
        }
        if let Some(r) = &self.related {
            r.dereference(m);
        }
    }
}

/// Initializes a FILE_OBJECT as IopParseDevice does.
pub fn fill_file_object(raw: &Raw, device: usize, related: usize, flags: u32) {
    raw.w16(file::TYPE, layout::IO_TYPE_FILE);
    raw.w16(file::SIZE_FIELD, file::SIZE as u16);
    raw.w64(file::DEVICE_OBJECT, device as u64);
    raw.w64(file::RELATED_FILE_OBJECT, related as u64);
    raw.w32(file::FLAGS, flags);
}
