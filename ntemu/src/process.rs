//! Emulated processes: who they run as (a token), their handle table, and their user memory.
//!
//! User memory is page-granular mappings below `MmUserProbeAddress`, each with unmapped space
//! around it and never reused, so a buffer freed by the caller, or an address just past one,
//! is invalid for real: the I/O manager's captures fail on it and the driver's probes see it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::io::file::FileObj;
use crate::io::{STATUS_ACCESS_DENIED, STATUS_INVALID_HANDLE, STATUS_OBJECT_TYPE_MISMATCH};
use crate::ke::Event;
use crate::machine::Machine;
use crate::mem;
use crate::se::Token;

/// `NtCurrentProcess()`: the pseudo handle -1 (also INVALID_HANDLE_VALUE).
pub const CURRENT_PROCESS: u64 = u64::MAX;

#[derive(Clone, Debug)]
pub enum Object {
    File(Arc<FileObj>),
    Event(Arc<Event>),
}

#[derive(Clone, Debug)]
struct Entry {
    object: Object,
    access: u32,
}

#[derive(Debug, Default)]
struct Table {
    next: u32,
    entries: HashMap<u32, Entry>,
}

#[derive(Debug)]
pub struct Process {
    pub id: u32,
    pub token: Token,
    pub machine: &'static Machine,
    /// A 32-bit (WoW64) process.
    pub wow64: bool,
    handles: Mutex<Table>,
}

static NEXT_PID: AtomicU32 = AtomicU32::new(0x100);

impl Process {
    pub fn new(machine: &'static Machine, token: Token) -> Arc<Process> {
        Self::with_width(machine, token, false)
    }

    /// A 32-bit process on the 64-bit machine (WoW64) when `wow64`.
    pub fn with_width(machine: &'static Machine, token: Token, wow64: bool) -> Arc<Process> {
        Arc::new(Process {
            id: NEXT_PID.fetch_add(4, Ordering::Relaxed),
            token,
            machine,
            wow64,
            handles: Mutex::new(Table {
                next: 1,
                entries: HashMap::new(),
            }),
        })
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.handles.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Inserts an object with its granted access; the handle value.
    pub fn insert(&self, object: Object, access: u32) -> u64 {
        let mut t = self.table();
        let h = t.next * 4;
        t.next += 1;
        t.entries.insert(h, Entry { object, access });
        u64::from(h)
    }

    fn entry(&self, handle: u64) -> Result<Entry, i32> {
        if handle == CURRENT_PROCESS {
            // A process object: never a file or an event.
            return Err(STATUS_OBJECT_TYPE_MISMATCH);
        }
        let h = u32::try_from(handle).map_err(|_| STATUS_INVALID_HANDLE)? & !3;
        self.table()
            .entries
            .get(&h)
            .cloned()
            .ok_or(STATUS_INVALID_HANDLE)
    }

    /// ObReferenceObjectByHandle for a file: the object and the handle's granted access; a
    /// user-mode caller must hold every bit of `desired`.
    pub fn file(&self, handle: u64, desired: u32, user: bool) -> Result<(Arc<FileObj>, u32), i32> {
        let e = self.entry(handle)?;
        let Object::File(f) = e.object else {
            return Err(STATUS_OBJECT_TYPE_MISMATCH);
        };
        if user && e.access & desired != desired {
            return Err(STATUS_ACCESS_DENIED);
        }
        Ok((f, e.access))
    }

    pub fn event(&self, handle: u64) -> Result<Arc<Event>, i32> {
        match self.entry(handle)?.object {
            Object::Event(e) => Ok(e),
            Object::File(_) => Err(STATUS_OBJECT_TYPE_MISMATCH),
        }
    }

    /// The object behind a handle, whatever its type (for waits).
    pub fn object(&self, handle: u64) -> Result<Object, i32> {
        Ok(self.entry(handle)?.object)
    }

    /// NtClose: removes the handle; the object loses one handle.
    pub fn close(&self, handle: u64) -> i32 {
        let removed = u32::try_from(handle)
            .ok()
            .and_then(|h| self.table().entries.remove(&(h & !3)));
        match removed {
            None => STATUS_INVALID_HANDLE,
            Some(Entry {
                object: Object::File(f),
                ..
            }) => {
                f.handle_closed(self.machine);
                0
            }
            Some(_) => 0,
        }
    }

    /// NtDuplicateObject within the process with the same access.
    pub fn duplicate(&self, handle: u64) -> Result<u64, i32> {
        let e = self.entry(handle)?;
        if let Object::File(f) = &e.object {
            f.handle_opened();
        }
        Ok(self.insert(e.object, e.access))
    }

    /// Handles still open (for tests that check everything was closed).
    pub fn handle_count(&self) -> usize {
        self.table().entries.len()
    }

    /// Closes every handle (process exit).
    pub fn close_all(&self) {
        let handles: Vec<u32> = self.table().entries.keys().copied().collect();
        for h in handles {
            self.close(u64::from(h));
        }
    }
}

/// A block of emulated user memory, unmapped when dropped.
#[derive(Debug)]
pub struct UserMem {
    pub addr: usize,
    pub len: usize,
    mapped: usize,
}

static NEXT_USER: AtomicUsize = AtomicUsize::new(mem::USER_BASE);
static NEXT_USER32: AtomicUsize = AtomicUsize::new(mem::USER32_BASE);

impl UserMem {
    /// `len` bytes (at least one page is mapped), zeroed.
    pub fn new(len: usize) -> UserMem {
        Self::map_from(&NEXT_USER, mem::USER_LIMIT, len)
    }

    /// `len` bytes below 4 GiB: memory a 32-bit process points to with a 4-byte pointer.
    pub fn below_4g(len: usize) -> UserMem {
        Self::map_from(&NEXT_USER32, mem::USER32_LIMIT, len)
    }

    fn map_from(next: &AtomicUsize, limit: usize, len: usize) -> UserMem {
        let mapped = mem::round_up(len.max(1), mem::PAGE);
        loop {
            // One unmapped page after each block: an overrun faults.
            let addr = next.fetch_add(mapped + mem::PAGE, Ordering::Relaxed);
            assert!(addr + mapped <= limit, "emulated user space exhausted");
            match mem::map_fixed(addr, mapped, mem::PROT_RW) {
                Ok(()) => return UserMem { addr, len, mapped },
                // Below 4 GiB the host process may have put something of its own: skip it.
                Err(e)
                    if e.kind() == std::io::ErrorKind::AddrInUse
                        || e.raw_os_error() == Some(libc::EEXIST) => {}
                Err(e) => panic!("mapping emulated user memory: {e}"),
            }
        }
    }

    /// A block holding `data`.
    pub fn with(data: &[u8]) -> UserMem {
        let m = UserMem::new(data.len());
        m.write(0, data);
        m
    }

    /// The whole pages of the block (for registering it as pageable memory).
    pub fn pages(&self) -> (usize, usize) {
        (self.addr, self.mapped)
    }

    pub fn write(&self, offset: usize, data: &[u8]) {
        assert!(offset + data.len() <= self.mapped);
        assert!(
            mem::copy_out(self.addr + offset, data),
            "writing emulated user memory"
        );
    }

    pub fn read(&self, offset: usize, len: usize) -> Vec<u8> {
        assert!(offset + len <= self.mapped);
        let mut out = vec![0u8; len];
        assert!(
            mem::copy_in(self.addr + offset, &mut out),
            "reading emulated user memory"
        );
        out
    }

    pub fn u32_at(&self, offset: usize) -> u32 {
        let b = self.read(offset, 4);
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    pub fn u64_at(&self, offset: usize) -> u64 {
        let b = self.read(offset, 8);
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    /// Keeps the memory mapped for good (an I/O that never finished may still write to it).
    pub fn leak(self) {
        std::mem::forget(self);
    }
}

impl Drop for UserMem {
    fn drop(&mut self) {
        mem::unmap(self.addr, self.mapped);
    }
}

/// The user block's page range holding `addr`, if `addr` is mapped user memory: what a
/// METHOD_NEITHER buffer is paged as.
pub fn user_pages_of(addr: usize, len: usize) -> Option<(usize, usize)> {
    let user = (mem::USER_BASE..mem::USER_LIMIT).contains(&addr)
        || (mem::USER32_BASE..mem::USER32_LIMIT).contains(&addr);
    if !user || len == 0 {
        return None;
    }
    let start = addr / mem::PAGE * mem::PAGE;
    let end = mem::round_up(addr + len, mem::PAGE);
    Some((start, end - start))
}
