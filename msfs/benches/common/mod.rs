//! Workloads shared by the criterion suite (`engine.rs`) and the ratio report (`report.rs`):
//! the engine's operations and, in the same process, what a user would use instead.
#![allow(dead_code)]

use std::hint::black_box;
use std::os::unix::net::UnixDatagram;

use msfs::{
    Access, Completion, Config, CreateParameters, DirQuery, Handle, Msfs, ReadId, ReadOutcome,
};

pub const SIZES: [usize; 4] = [0, 64, 424, 65_536];
pub const SLOT_COUNTS: [usize; 3] = [10, 1_000, 100_000];

pub fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

pub fn engine() -> Msfs {
    Msfs::new(Config {
        budget_bytes: u64::MAX,
        hash_keys: [0x5EED, 0xF00D],
        owner_limit_bytes: u64::MAX,
    })
}

fn params(timeout: Option<i64>) -> CreateParameters {
    CreateParameters {
        mailslot_quota: 0,
        maximum_message_size: 0,
        read_timeout: timeout,
    }
}

fn ignore(_: ReadId, _: Completion<'_>) {}

/// An engine with `slots` live mailslots (`\bench\<i>`), plus the server and a client of the
/// target slot `\target`.
pub struct World {
    pub e: Msfs,
    pub server: Handle,
    pub client: Handle,
    pub root: Handle,
    pub others: Vec<Handle>,
    pub target_name: Vec<u8>,
    pub spare_name: Vec<u8>,
}

impl World {
    pub fn new(slots: usize, timeout: Option<i64>) -> World {
        let mut e = engine();
        let others = (0..slots.saturating_sub(1))
            .map(|i| {
                e.create_server(
                    &utf16(&format!("\\bench\\{i}")),
                    &params(Some(0)),
                    Access::READ,
                    0,
                )
                .unwrap()
            })
            .collect();
        let target_name = utf16("\\target");
        let server = e
            .create_server(&target_name, &params(timeout), Access::READ, 0)
            .unwrap();
        let client = e.open(&target_name, Access::WRITE).unwrap();
        let root = e.open(&[], Access::READ).unwrap();
        World {
            e,
            server,
            client,
            root,
            others,
            target_name,
            spare_name: utf16("\\spare\\slot"),
        }
    }

    /// Fills the target slot with `n` messages of `len` bytes.
    pub fn queue(&mut self, n: usize, len: usize) {
        let data = vec![0x5Au8; len];
        for _ in 0..n {
            self.e.write(&self.client, &data, ignore).unwrap();
        }
    }

    /// One message through the engine, ending in the reader's buffer as the driver will copy
    /// it into the read request's buffer: the same two copies as [`copy_twice`].
    pub fn write_read(&mut self, data: &[u8], out: &mut [u8]) -> usize {
        self.e.write(&self.client, black_box(data), ignore).unwrap();
        match self.e.read(&self.server, out.len()).unwrap() {
            ReadOutcome::Message(m) => {
                out[..m.len()].copy_from_slice(m.as_bytes());
                black_box(&out[..m.len()]).len()
            }
            ReadOutcome::Pending { .. } => unreachable!(),
        }
    }

    /// A server create and its deletion, leaving the slot count as it was.
    pub fn create_delete(&mut self) {
        let h = self
            .e
            .create_server(
                black_box(&self.spare_name),
                &params(Some(0)),
                Access::READ,
                0,
            )
            .unwrap();
        self.e.close(h, ignore);
    }

    pub fn open_close(&mut self) {
        let h = self
            .e
            .open(black_box(&self.target_name), Access::WRITE)
            .unwrap();
        self.e.close(h, ignore);
    }

    /// A full scan of the root, `Names` records into a 64 KiB buffer; returns the entries seen.
    pub fn enumerate(&mut self, buf: &mut [u8]) -> usize {
        let mut q = DirQuery {
            class: 12,
            restart_scan: true,
            return_single_entry: false,
            pattern: None,
        };
        let mut entries = 0;
        loop {
            let r = self.e.query_directory(&mut self.root, &q, buf);
            q.restart_scan = false;
            if r.status != msfs::NtStatus::SUCCESS {
                return entries;
            }
            // Count records by walking NextEntryOffset.
            let mut offset = 0usize;
            loop {
                entries += 1;
                let next = u32::from_le_bytes(buf[offset..offset + 4].try_into().unwrap()) as usize;
                if next == 0 {
                    break;
                }
                offset += next;
            }
        }
    }

    /// A read that pends, then a write that completes it.
    pub fn pend_then_deliver(&mut self, data: &[u8]) -> usize {
        let ReadOutcome::Pending { .. } = self.e.read(&self.server, 1 << 16).unwrap() else {
            unreachable!()
        };
        let mut delivered = 0;
        self.e
            .write(&self.client, data, |_, c| {
                if let Completion::Delivered(d) = c {
                    delivered = d.len();
                }
            })
            .unwrap();
        delivered
    }

    /// A read that pends, then its timer's expiry.
    pub fn pend_then_expire(&mut self) -> bool {
        let ReadOutcome::Pending { id, .. } = self.e.read(&self.server, 64).unwrap() else {
            unreachable!()
        };
        matches!(self.e.expire(black_box(id)), msfs::Arbitration::Won(_))
    }
}

/// The floor: what any queue of whole messages must do, and no more: a block of its own for
/// the message, the bytes copied into it and out to the reader, the block freed. The engine
/// does all of this and its bookkeeping besides, so it cannot beat the floor.
pub fn copy_twice(src: &[u8], out: &mut [u8]) -> usize {
    let mut block = Vec::with_capacity(src.len());
    block.extend_from_slice(black_box(src));
    let block = black_box(block.into_boxed_slice());
    out[..src.len()].copy_from_slice(&block);
    drop(block);
    black_box(out[..src.len()].len())
}

/// An AF_UNIX datagram socket pair: a kernel round trip per message.
pub struct Dgram {
    tx: UnixDatagram,
    rx: UnixDatagram,
}

impl Dgram {
    pub fn new() -> Dgram {
        let (tx, rx) = UnixDatagram::pair().unwrap();
        Dgram { tx, rx }
    }

    pub fn send_recv(&self, data: &[u8], buf: &mut [u8]) -> usize {
        self.tx.send(black_box(data)).unwrap();
        self.rx.recv(buf).unwrap()
    }
}

/// A POSIX message queue; `None` when the system refuses the message size (msgsize_max).
pub struct Mq {
    q: libc::mqd_t,
    name: std::ffi::CString,
    size: usize,
}

impl Mq {
    pub fn new(size: usize) -> Option<Mq> {
        let name =
            std::ffi::CString::new(format!("/rsmailslot-bench-{}", std::process::id())).unwrap();
        // SAFETY: a zeroed mq_attr is valid; we set the two fields mq_open reads.
        let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
        attr.mq_maxmsg = 4;
        attr.mq_msgsize = size.max(1) as libc::c_long;
        // SAFETY: valid NUL-terminated name and attribute pointer.
        let q = unsafe {
            libc::mq_open(
                name.as_ptr(),
                libc::O_CREAT | libc::O_RDWR,
                0o600,
                &attr as *const libc::mq_attr,
            )
        };
        if q == -1 {
            return None;
        }
        Some(Mq {
            q,
            name,
            size: size.max(1),
        })
    }

    pub fn send_recv(&self, data: &[u8], buf: &mut [u8]) -> usize {
        // SAFETY: `data` and `buf` are valid for their lengths; buf holds mq_msgsize bytes.
        unsafe {
            let sent = libc::mq_send(self.q, data.as_ptr().cast(), data.len(), 0);
            assert_eq!(sent, 0);
            let n = libc::mq_receive(
                self.q,
                buf.as_mut_ptr().cast(),
                self.size.max(buf.len()),
                std::ptr::null_mut(),
            );
            assert!(n >= 0);
            n as usize
        }
    }
}

impl Drop for Mq {
    fn drop(&mut self) {
        // SAFETY: the descriptor and name this value opened.
        unsafe {
            libc::mq_close(self.q);
            libc::mq_unlink(self.name.as_ptr());
        }
    }
}
