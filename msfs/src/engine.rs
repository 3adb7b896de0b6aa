//! The mailslot namespace, its queues, and the arbitration of pending reads.
//!
//! Storage:
//! - a slab of slots; a slot is named by its index and a 64-bit serial that is never reused,
//!   so a handle to a deleted slot can never reach a new slot that reuses its index or name;
//! - a hash table of slab indices keyed by the case-folded name (SipHash-1-3 with keys the
//!   kernel draws at load, so callers cannot aim for collisions); the name itself lives once,
//!   in the slot;
//! - the live serials in creation order, for directory scans that resume after the last
//!   serial returned whatever was created or deleted in between.
//!
//! Every operation that can fail does its fallible work (validation, allocation) before it
//! changes anything, so a failure leaves the engine exactly as it was.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

use hashbrown::HashTable;

use crate::dir::{align8, write_record, DirClass, DirEntry};
use crate::fold::folded_units;
use crate::ledger::{Ledger, Owner};
#[cfg(feature = "audit")]
use crate::name::names_equal;
use crate::name::{parse_target, Target};
use crate::pattern::Pattern;
use crate::prepared::{hash_folded, hash_units, Prepared, PreparedName};
use crate::status::NtStatus;

mod security;
pub use security::SecurityBase;

use crate::wire::{
    CreateParameters, MailslotInfo, PeekHeader, MAILSLOT_NO_MESSAGE, READ_TIMEOUT_FOREVER,
};

/// Bytes charged to the driver-wide budget for each queued message on top of its payload: the
/// queue entry that holds it. Without it, zero-length messages would queue for free.
pub const MESSAGE_OVERHEAD: u64 = core::mem::size_of::<Message>() as u64;

/// The most reads that may wait on one mailslot at a time. Each holds the driver's context
/// (and the I/O manager's IRP and buffer) for as long as it waits, forever with
/// MAILSLOT_WAIT_FOREVER, so without a bound one caller could pin unbounded non-paged memory on
/// a single slot. The read past it fails with STATUS_INSUFFICIENT_RESOURCES, nothing queued.
/// Windows' MSFS documents no such bound; no program that reads its own mailslot needs more
/// than a few waiting reads.
pub const MAX_PENDING_READS: usize = 1024;

/// Engine settings, chosen by the kernel layer at load.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// The most bytes all slots together may hold queued: payload plus
    /// [`MESSAGE_OVERHEAD`] per message. A write past it fails with
    /// STATUS_INSUFFICIENT_RESOURCES.
    pub budget_bytes: u64,
    /// SipHash keys for the name table.
    pub hash_keys: [u64; 2],
    /// The most bytes one [`Owner`] may hold: its slots' names, their queued messages and
    /// the reads waiting on them (see [`Msfs::owner_used`]). Past it a create, write or
    /// waiting read fails with STATUS_QUOTA_EXCEEDED and changes nothing.
    pub owner_limit_bytes: u64,
}

/// What a slot costs its owner beyond its name's units (twice: as created and folded): the
/// slot itself and its places in the name table and the creation order.
pub const SLOT_CHARGE: u64 = core::mem::size_of::<Slot>() as u64 + 24;

/// What a waiting read costs its owner beyond its buffer: the engine's record and the kernel
/// layer's context (timer, DPC, links), rounded up.
pub const PENDING_CHARGE: u64 = 256;

/// Access the I/O manager granted a handle, reduced to what mailslots care about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// FILE_READ_DATA.
    pub read: bool,
    /// FILE_WRITE_DATA.
    pub write: bool,
}

impl Access {
    pub const READ: Access = Access {
        read: true,
        write: false,
    };
    pub const WRITE: Access = Access {
        read: false,
        write: true,
    };
    pub const READ_WRITE: Access = Access {
        read: true,
        write: true,
    };
    pub const NONE: Access = Access {
        read: false,
        write: false,
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct SlotRef {
    index: u32,
    serial: u64,
}

/// A slot as [`Msfs::lookup`] found it: refers to that slot only, never to a later one of the
/// same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotId(SlotRef);

/// A security descriptor in self-relative form, as the kernel layer gave it at the slot's
/// creation (made before the lock; at most [`MAX_SECURITY_BYTES`]).
pub type Security = Box<[u8]>;

/// The longest descriptor a slot keeps: a lookup copies it under the lock, so its length is
/// bounded by a constant, never by what a caller chose. Far above what a DACL of a few dozen
/// entries takes; a longer one fails the create with STATUS_INVALID_SECURITY_DESCR.
pub const MAX_SECURITY_BYTES: usize = 4096;

/// What a client open's name designates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    Root,
    Slot {
        slot: SlotId,
        /// The length of the descriptor the creator gave the slot, copied into the lookup's
        /// buffer; `None` when it gave none.
        security: Option<usize>,
    },
}

/// Identifies one pending read for as long as it is pending; never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReadId {
    slot: SlotRef,
    seq: u64,
    token: usize,
}

impl ReadId {
    /// The value the caller attached when the read was queued ([`Msfs::read_or_pend`]); the
    /// kernel layer keeps its per-read context there.
    pub fn token(&self) -> usize {
        self.token
    }
}

/// How long a pending read waits, as the kernel arms its timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// No timer.
    Forever,
    /// A `KeSetTimer` due time: negative is relative (100 ns units), positive absolute.
    Until(i64),
}

/// One whole message: made by a writer (outside any lock, [`Message::copy_from`]), queued as
/// it is, and handed to the read that takes it. A boxed slice, so a queue entry is a pointer
/// and a length (16 bytes) and a zero-length message allocates nothing.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Message(Box<[u8]>);

impl Message {
    /// A copy of `data` in memory of its own; STATUS_INSUFFICIENT_RESOURCES when there is none.
    pub fn copy_from(data: &[u8]) -> Result<Message, NtStatus> {
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(data.len()).map_err(no_memory)?;
        // An exact reservation has no spare capacity, so the conversion below never
        // reallocates (which could not fail gracefully).
        if bytes.capacity() != data.len() {
            return Err(NtStatus::INSUFFICIENT_RESOURCES);
        }
        bytes.extend_from_slice(data);
        Ok(Message(bytes.into_boxed_slice()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a read did.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// The head message, dequeued; IoStatus.Information is its length.
    Message(Message),
    /// Nothing queued: the read waits. The caller must later learn its fate from a write or
    /// cleanup completion, or win [`Msfs::expire`] or [`Msfs::cancel`] for it.
    Pending { id: ReadId, wait: Wait },
}

/// How a pending read ends when a write or a cleanup completes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion<'a> {
    /// The read takes this message: STATUS_SUCCESS, Information = its length.
    Delivered(&'a [u8]),
    /// The read fails with this status and Information 0.
    Failed(NtStatus),
}

/// What [`Msfs::write_or_admit`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// A pending read took the message: this many bytes were written.
    Delivered(usize),
    /// The write is admitted and the message must be queued: make it and call
    /// [`Msfs::write_message`].
    NeedsMessage,
}

/// How an admitted write goes: straight to the pending read at this position (those before it
/// fail as too small), or onto the queue with these new totals.
#[derive(Clone, Copy, Debug)]
enum Admission {
    Deliver { taker: usize },
    Queue { queued: u64, budget_used: u64 },
}

/// Who completes a pending read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arbitration {
    /// The caller won: it completes the read with this status.
    Won(NtStatus),
    /// Someone else already completed (or is completing) it: do nothing to the request.
    Lost,
}

/// Peek reply: the header, how many bytes of the head message were copied, and the status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peek {
    pub header: PeekHeader,
    pub copied: usize,
    /// STATUS_SUCCESS, or STATUS_BUFFER_OVERFLOW when the head message was cut short.
    pub status: NtStatus,
}

/// A directory query, decoded from the IRP.
#[derive(Clone, Copy, Debug)]
pub struct DirQuery<'a> {
    /// The raw `FILE_INFORMATION_CLASS`.
    pub class: u32,
    /// SL_RESTART_SCAN.
    pub restart_scan: bool,
    /// SL_RETURN_SINGLE_ENTRY.
    pub return_single_entry: bool,
    /// The FileName pattern, UTF-16LE bytes, if the caller gave one.
    pub pattern: Option<&'a [u8]>,
}

/// A directory reply: the status (possibly a warning) and IoStatus.Information.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirReply {
    pub status: NtStatus,
    pub information: usize,
}

impl DirReply {
    fn status(status: NtStatus) -> Self {
        DirReply {
            status,
            information: 0,
        }
    }
}

/// A handle's file facts ([`Msfs::describe`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileFacts<'a> {
    pub role: HandleRole,
    /// Creation time of the slot (100 ns since 1601); 0 for the root.
    pub created: i64,
    /// Payload bytes queued.
    pub queued_bytes: u64,
    /// The name relative to the root, without the leading backslash, in the creator's case;
    /// empty for the root.
    pub name: &'a [u16],
}

/// Scan state of a directory handle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct DirCursor {
    /// `None` matches every name.
    pattern: Option<Pattern>,
    /// Serial of the last record returned; serials start at 1.
    after: u64,
    /// Whether a query was made since the open or the last restart.
    queried: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum HandleKind {
    Root(DirCursor),
    Server { slot: SlotRef, access: Access },
    Client { slot: SlotRef, access: Access },
}

/// The engine's per-handle state; the kernel hangs it off the file object.
#[derive(Debug, PartialEq, Eq)]
pub struct Handle {
    kind: HandleKind,
}

/// What a handle designates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleRole {
    Root,
    Server,
    Client,
}

impl Handle {
    pub fn role(&self) -> HandleRole {
        match self.kind {
            HandleKind::Root(_) => HandleRole::Root,
            HandleKind::Server { .. } => HandleRole::Server,
            HandleKind::Client { .. } => HandleRole::Client,
        }
    }
}

#[derive(Debug)]
struct PendingRead {
    seq: u64,
    capacity: usize,
    token: usize,
}

impl PendingRead {
    fn id(&self, slot: SlotRef) -> ReadId {
        ReadId {
            slot,
            seq: self.seq,
            token: self.token,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Slot {
    serial: u64,
    /// Who created it, and is charged for it ([`Slot::owner_charge`]).
    owner: Owner,
    /// The descriptor its creator gave it (or a SetSecurityInfo since), if any; charged to
    /// the owner too.
    security: Option<Security>,
    /// Bumped by every change of `security`, so that a change prepared outside the lock
    /// applies only to the descriptor it started from.
    security_generation: u64,
    /// Relative name without the leading backslash, in the creator's case.
    name: Vec<u16>,
    /// The name case-folded, and its hash in the name table: made before the lock, so that
    /// under it a lookup compares plain units and a removal or the table's growth rehashes
    /// nothing.
    folded: Vec<u16>,
    hash: u64,
    max_message_size: u32,
    quota: u32,
    read_timeout: i64,
    created: i64,
    messages: VecDeque<Message>,
    /// Sum of the queued payload lengths.
    queued_bytes: u64,
    /// Oldest first; sequence numbers strictly increase.
    pending: VecDeque<PendingRead>,
}

impl Slot {
    /// Everything the slot costs its owner: name, queued messages, waiting reads.
    fn owner_charge(&self) -> u64 {
        let pending = self.pending.iter().fold(0u64, |sum, p| {
            sum.saturating_add(pending_charge(p.capacity))
        });
        name_charge(self.name.len(), self.folded.len())
            .saturating_add(security_charge(&self.security))
            .saturating_add(self.charge())
            .saturating_add(pending)
    }

    fn charge(&self) -> u64 {
        let count = u64::try_from(self.messages.len()).unwrap_or(u64::MAX);
        self.queued_bytes
            .saturating_add(count.saturating_mul(MESSAGE_OVERHEAD))
    }

    fn info(&self) -> MailslotInfo {
        MailslotInfo {
            maximum_message_size: self.max_message_size,
            mailslot_quota: self.quota,
            next_message_size: self.messages.front().map_or(MAILSLOT_NO_MESSAGE, |m| {
                u32::try_from(m.len()).unwrap_or(MAILSLOT_NO_MESSAGE)
            }),
            messages_available: u32::try_from(self.messages.len()).unwrap_or(u32::MAX),
            read_timeout: self.read_timeout,
        }
    }
}

#[derive(Debug)]
enum SlabEntry {
    Live(Slot),
    Free { next: Option<u32> },
}

/// Marks a deleted slot in [`Msfs::order`].
const TOMBSTONE: u32 = u32::MAX;

/// The Mailslot File System: every mailslot of one device, and their rules.
pub struct Msfs {
    entries: Vec<SlabEntry>,
    free_head: Option<u32>,
    names: HashTable<u32>,
    hash_keys: [u64; 2],
    /// `(serial, slab index or TOMBSTONE)`, sorted by serial.
    order: Vec<(u64, u32)>,
    tombstones: usize,
    next_serial: u64,
    next_read_seq: u64,
    budget_limit: u64,
    budget_used: u64,
    open_handles: usize,
    owner_limit: u64,
    ledger: Ledger,
}

impl core::fmt::Debug for Msfs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Msfs")
            .field("slots", &self.names.len())
            .field("open_handles", &self.open_handles)
            .field("budget_used", &self.budget_used)
            .field("budget_limit", &self.budget_limit)
            .finish_non_exhaustive()
    }
}

fn name_charge(units: usize, folded: usize) -> u64 {
    let bytes = u64::try_from(units.saturating_add(folded)).unwrap_or(u64::MAX);
    bytes.saturating_mul(2).saturating_add(SLOT_CHARGE)
}

/// `slot`'s descriptor copied into `out`: its length, `None` without one.
fn copy_descriptor(slot: &Slot, out: &mut [u8]) -> Result<Option<usize>, NtStatus> {
    let Some(sd) = slot.security.as_deref() else {
        return Ok(None);
    };
    out.get_mut(..sd.len())
        .ok_or(NtStatus::BUFFER_TOO_SMALL)?
        .copy_from_slice(sd);
    Ok(Some(sd.len()))
}

fn security_charge(security: &Option<Security>) -> u64 {
    security
        .as_ref()
        .map_or(0, |s| u64::try_from(s.len()).unwrap_or(u64::MAX))
}

/// A waiting read pins its buffer (the I/O manager's, of `capacity` bytes) and a context.
fn pending_charge(capacity: usize) -> u64 {
    u64::try_from(capacity)
        .unwrap_or(u64::MAX)
        .saturating_add(PENDING_CHARGE)
}

fn no_memory<E>(_: E) -> NtStatus {
    NtStatus::INSUFFICIENT_RESOURCES
}

fn live(entries: &[SlabEntry], r: SlotRef) -> Option<&Slot> {
    match entries.get(r.index as usize)? {
        SlabEntry::Live(s) if s.serial == r.serial => Some(s),
        _ => None,
    }
}

fn live_mut(entries: &mut [SlabEntry], r: SlotRef) -> Option<&mut Slot> {
    match entries.get_mut(r.index as usize)? {
        SlabEntry::Live(s) if s.serial == r.serial => Some(s),
        _ => None,
    }
}

fn hash_entry(entries: &[SlabEntry], index: u32) -> u64 {
    match entries.get(index as usize) {
        Some(SlabEntry::Live(s)) => s.hash,
        // The table only ever holds live indices.
        _ => 0,
    }
}

impl Msfs {
    /// An empty namespace. Allocates nothing.
    pub fn new(config: Config) -> Self {
        Msfs {
            entries: Vec::new(),
            free_head: None,
            names: HashTable::new(),
            hash_keys: config.hash_keys,
            order: Vec::new(),
            tombstones: 0,
            next_serial: 1,
            next_read_seq: 1,
            budget_limit: config.budget_bytes,
            budget_used: 0,
            open_handles: 0,
            owner_limit: config.owner_limit_bytes,
            ledger: Ledger::default(),
        }
    }

    /// What `owner` holds: its slots' names, queued messages and waiting reads' buffers.
    pub fn owner_used(&self, owner: Owner) -> u64 {
        self.ledger.used(owner)
    }

    /// How many owners hold something.
    pub fn owners(&self) -> usize {
        self.ledger.len()
    }

    /// Number of live mailslots.
    pub fn slot_count(&self) -> usize {
        self.names.len()
    }

    /// Handles created and not yet closed.
    pub fn open_handles(&self) -> usize {
        self.open_handles
    }

    /// Bytes charged against the driver-wide budget.
    pub fn budget_used(&self) -> u64 {
        self.budget_used
    }

    /// True when no mailslot and no handle exists: the driver may unload.
    pub fn is_idle(&self) -> bool {
        self.open_handles == 0 && self.names.is_empty()
    }

    /// The slot whose folded name is `folded`, hashed to `hash` (by [`PreparedName::rekeyed`]
    /// for this engine's keys).
    fn find(&self, folded: &[u16], hash: u64) -> Option<u32> {
        let entries = &self.entries;
        self.names
            .find(hash, |&index| match entries.get(index as usize) {
                Some(SlabEntry::Live(s)) => s.folded == folded,
                _ => false,
            })
            .copied()
    }

    fn slot_ref(&self, index: u32) -> Option<SlotRef> {
        match self.entries.get(index as usize)? {
            SlabEntry::Live(s) => Some(SlotRef {
                index,
                serial: s.serial,
            }),
            SlabEntry::Free { .. } => None,
        }
    }

    /// Server create (`IRP_MJ_CREATE_MAILSLOT`).
    ///
    /// `name` is the file object's name (UTF-16LE bytes, `\app\events`); `now` the system time
    /// reported as the slot's time stamps. Errors: the name's status from
    /// [`parse_target`], STATUS_OBJECT_PATH_SYNTAX_BAD for an empty name,
    /// STATUS_OBJECT_NAME_INVALID for the root itself, STATUS_OBJECT_NAME_COLLISION when the
    /// name (ignoring case) is taken, STATUS_INSUFFICIENT_RESOURCES when memory runs out.
    pub fn create_server(
        &mut self,
        name: &[u8],
        params: &CreateParameters,
        access: Access,
        now: i64,
    ) -> Result<Handle, NtStatus> {
        let name = PreparedName::prepare(name, self.hash_keys)?;
        self.create_server_prepared(name, params, access, now, Owner::default(), None)
    }

    /// [`Msfs::create_server`] with a name prepared before the lock: nothing here is in
    /// proportion to the name's length but the comparison with a slot whose hash matches.
    ///
    /// `owner` is charged the slot and its name ([`Config::owner_limit_bytes`]); past its limit
    /// the create fails with STATUS_QUOTA_EXCEEDED.
    pub fn create_server_prepared(
        &mut self,
        name: PreparedName,
        params: &CreateParameters,
        access: Access,
        now: i64,
        owner: Owner,
        security: Option<Security>,
    ) -> Result<Handle, NtStatus> {
        let name = name.rekeyed(self.hash_keys);
        let (units, folded, hash) = match name.kind {
            Prepared::Root { empty: true } => return Err(NtStatus::OBJECT_PATH_SYNTAX_BAD),
            Prepared::Root { empty: false } => return Err(NtStatus::OBJECT_NAME_INVALID),
            Prepared::Slot {
                units,
                folded,
                hash,
                ..
            } => (units, folded, hash),
        };
        if self.find(&folded, hash).is_some() {
            return Err(NtStatus::OBJECT_NAME_COLLISION);
        }
        let serial = self.next_serial;
        let next_serial = serial
            .checked_add(1)
            .ok_or(NtStatus::INSUFFICIENT_RESOURCES)?;
        let open_handles = self
            .open_handles
            .checked_add(1)
            .ok_or(NtStatus::INSUFFICIENT_RESOURCES)?;
        if security
            .as_ref()
            .is_some_and(|s| s.len() > MAX_SECURITY_BYTES)
        {
            return Err(NtStatus::INVALID_SECURITY_DESCR);
        }
        let charge =
            name_charge(units.len(), folded.len()).saturating_add(security_charge(&security));
        self.ledger.check(owner, charge, self.owner_limit)?;

        // Everything that can fail, before anything changes.
        self.ledger.reserve(owner)?;
        let index = match self.free_head {
            Some(index) => index,
            None => {
                let index = u32::try_from(self.entries.len())
                    .ok()
                    .filter(|&i| i != TOMBSTONE)
                    .ok_or(NtStatus::INSUFFICIENT_RESOURCES)?;
                self.entries.try_reserve(1).map_err(no_memory)?;
                index
            }
        };
        self.compact_order_if_sparse();
        self.order.try_reserve(1).map_err(no_memory)?;
        let entries = &self.entries;
        self.names
            .try_reserve(1, |&i| hash_entry(entries, i))
            .map_err(no_memory)?;

        // Commit: nothing below allocates or fails.
        self.ledger.charge(owner, charge);
        let slot = Slot {
            serial,
            owner,
            security,
            security_generation: 0,
            name: units,
            folded,
            hash,
            max_message_size: params.maximum_message_size,
            quota: params.mailslot_quota,
            read_timeout: params.stored_read_timeout(),
            created: now,
            messages: VecDeque::new(),
            queued_bytes: 0,
            pending: VecDeque::new(),
        };
        match self.entries.get_mut(index as usize) {
            Some(entry) => {
                if let SlabEntry::Free { next } = entry {
                    self.free_head = *next;
                }
                *entry = SlabEntry::Live(slot);
            }
            None => self.entries.push(SlabEntry::Live(slot)),
        }
        let entries = &self.entries;
        self.names
            .insert_unique(hash, index, |&i| hash_entry(entries, i));
        self.order.push((serial, index));
        self.next_serial = next_serial;
        self.open_handles = open_handles;
        Ok(Handle {
            kind: HandleKind::Server {
                slot: SlotRef { index, serial },
                access,
            },
        })
    }

    /// Client open, or open of the root for directory listing (`IRP_MJ_CREATE`).
    ///
    /// As on Windows Vista and later, share modes are not checked and a client may hold read
    /// access (its reads then fail). STATUS_OBJECT_NAME_NOT_FOUND when no mailslot has the
    /// name. Allocates nothing.
    pub fn open(&mut self, name: &[u8], access: Access) -> Result<Handle, NtStatus> {
        let open_handles = self
            .open_handles
            .checked_add(1)
            .ok_or(NtStatus::INSUFFICIENT_RESOURCES)?;
        let kind = match parse_target(name)? {
            Target::Root => HandleKind::Root(DirCursor::default()),
            Target::Slot(n) => {
                let units = n.units();
                let hash = hash_units(self.hash_keys, units.clone());
                let slot = self
                    .names
                    .find(hash, |&index| match self.entries.get(index as usize) {
                        Some(SlabEntry::Live(s)) => {
                            folded_units(units.clone()).eq(s.folded.iter().copied())
                        }
                        _ => false,
                    })
                    .and_then(|&index| self.slot_ref(index))
                    .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
                HandleKind::Client { slot, access }
            }
        };
        self.open_handles = open_handles;
        Ok(Handle { kind })
    }

    /// [`Msfs::open`] with a name prepared before the lock. Allocates nothing.
    pub fn open_prepared(
        &mut self,
        name: &PreparedName,
        access: Access,
    ) -> Result<Handle, NtStatus> {
        let found = self.lookup(name)?;
        self.open_found(&found, access)
    }

    /// The first half of a client open for a kernel layer that checks access outside its lock:
    /// what `name` designates, and for a slot the length of the descriptor its creator gave it
    /// ([`Msfs::copy_security`] copies it). Changes nothing; STATUS_OBJECT_NAME_NOT_FOUND when
    /// no slot has the name.
    pub fn lookup(&self, name: &PreparedName) -> Result<Found, NtStatus> {
        match &name.kind {
            Prepared::Root { .. } => Ok(Found::Root),
            Prepared::Slot {
                folded, hash, keys, ..
            } => {
                let hash = if *keys == self.hash_keys {
                    *hash
                } else {
                    hash_folded(self.hash_keys, folded)
                };
                let index = self
                    .find(folded, hash)
                    .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
                let slot = self
                    .slot_ref(index)
                    .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
                let security = live(&self.entries, slot)
                    .and_then(|s| s.security.as_deref())
                    .map(<[u8]>::len);
                Ok(Found::Slot {
                    slot: SlotId(slot),
                    security,
                })
            }
        }
    }

    /// The descriptor of the slot [`Msfs::lookup`] found, copied into `out` (its length, which
    /// the lookup reported; at most [`MAX_SECURITY_BYTES`], STATUS_BUFFER_TOO_SMALL if it does
    /// not fit). STATUS_OBJECT_NAME_NOT_FOUND when the slot is gone meanwhile; `None` when it
    /// has no descriptor.
    pub fn copy_security(&self, slot: SlotId, out: &mut [u8]) -> Result<Option<usize>, NtStatus> {
        let slot = live(&self.entries, slot.0).ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
        copy_descriptor(slot, out)
    }

    /// The second half: a client handle to what [`Msfs::lookup`] found, with the access the
    /// kernel layer granted. STATUS_OBJECT_NAME_NOT_FOUND when the slot is gone meanwhile (a
    /// new slot of the same name is another slot). Allocates nothing.
    pub fn open_found(&mut self, found: &Found, access: Access) -> Result<Handle, NtStatus> {
        let open_handles = self
            .open_handles
            .checked_add(1)
            .ok_or(NtStatus::INSUFFICIENT_RESOURCES)?;
        let kind = match found {
            Found::Root => HandleKind::Root(DirCursor::default()),
            Found::Slot { slot, .. } => {
                live(&self.entries, slot.0).ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
                HandleKind::Client {
                    slot: slot.0,
                    access,
                }
            }
        };
        self.open_handles = open_handles;
        Ok(Handle { kind })
    }

    /// Write one message (`IRP_MJ_WRITE`). Returns the bytes written.
    ///
    /// If reads are pending, they are served oldest first: each whose buffer is too small
    /// completes with STATUS_BUFFER_TOO_SMALL, and the first that can hold the message takes
    /// it (through `complete`) without it ever being queued. Otherwise the message is queued;
    /// if no pending read could take it, all pending reads fail with STATUS_BUFFER_TOO_SMALL.
    ///
    /// Errors, with nothing changed: STATUS_INVALID_PARAMETER from a server handle with write
    /// access, STATUS_ACCESS_DENIED from one without (or from a client without write access),
    /// STATUS_INVALID_DEVICE_REQUEST on the root, STATUS_FILE_FORCED_CLOSED from a client whose
    /// server is gone, STATUS_INVALID_PARAMETER for a message over a non-zero
    /// MaximumMessageSize, STATUS_QUOTA_EXCEEDED past a non-zero MailslotQuota,
    /// STATUS_INSUFFICIENT_RESOURCES past the driver-wide budget or out of memory.
    pub fn write<F>(
        &mut self,
        handle: &Handle,
        data: &[u8],
        mut complete: F,
    ) -> Result<usize, NtStatus>
    where
        F: FnMut(ReadId, Completion<'_>),
    {
        match self.write_or_admit(handle, data, &mut complete)? {
            Written::Delivered(len) => Ok(len),
            Written::NeedsMessage => {
                let message = Message::copy_from(data)?;
                self.write_message(handle, message, complete).0
            }
        }
    }

    /// The first half of a write for a driver that must not allocate or copy in proportion to
    /// the message under its lock: a pending read that can take the message takes it now
    /// (`Delivered`, nothing allocated; the caller copies `data` into the read's buffer after
    /// its lock), a write that would be refused is refused (nothing changed), and otherwise the
    /// caller makes the message outside its lock and hands it to [`Msfs::write_message`]
    /// (which checks again: the slot may have changed meanwhile).
    pub fn write_or_admit<F>(
        &mut self,
        handle: &Handle,
        data: &[u8],
        complete: F,
    ) -> Result<Written, NtStatus>
    where
        F: FnMut(ReadId, Completion<'_>),
    {
        match self.admit(handle, data.len())? {
            (slot_ref, Admission::Deliver { taker }) => {
                self.deliver(slot_ref, taker, data, complete);
                Ok(Written::Delivered(data.len()))
            }
            (_, Admission::Queue { .. }) => Ok(Written::NeedsMessage),
        }
    }

    /// Hands `data` to the pending read at position `taker`, failing those before it as too
    /// small.
    fn deliver<F>(&mut self, slot_ref: SlotRef, taker: usize, data: &[u8], mut complete: F)
    where
        F: FnMut(ReadId, Completion<'_>),
    {
        let Some(slot) = live_mut(&mut self.entries, slot_ref) else {
            return;
        };
        let mut released = 0u64;
        for _ in 0..taker {
            if let Some(p) = slot.pending.pop_front() {
                released = released.saturating_add(pending_charge(p.capacity));
                complete(
                    p.id(slot_ref),
                    Completion::Failed(NtStatus::BUFFER_TOO_SMALL),
                );
            }
        }
        if let Some(p) = slot.pending.pop_front() {
            released = released.saturating_add(pending_charge(p.capacity));
            complete(p.id(slot_ref), Completion::Delivered(data));
        }
        let owner = slot.owner;
        self.ledger.release(owner, released);
    }

    /// [`Msfs::write`] of a message made beforehand: no allocation proportional to the
    /// message, and no copy of it, happen here. The message comes back when it was not queued
    /// (refused, or handed straight to a pending read), for the caller to free after its lock.
    /// Refused writes change nothing, as for [`Msfs::write`].
    pub fn write_message<F>(
        &mut self,
        handle: &Handle,
        message: Message,
        mut complete: F,
    ) -> (Result<usize, NtStatus>, Option<Message>)
    where
        F: FnMut(ReadId, Completion<'_>),
    {
        let len = message.len();
        let (slot_ref, admission) = match self.admit(handle, len) {
            Ok(a) => a,
            Err(status) => return (Err(status), Some(message)),
        };
        match admission {
            Admission::Deliver { taker } => {
                self.deliver(slot_ref, taker, message.as_bytes(), complete);
                (Ok(len), Some(message))
            }
            Admission::Queue {
                queued,
                budget_used,
            } => {
                let Some(slot) = live_mut(&mut self.entries, slot_ref) else {
                    return (Err(NtStatus::FILE_FORCED_CLOSED), Some(message));
                };
                // The queue's own growth: amortised, and proportional to its length, never to
                // the message.
                if slot.messages.try_reserve(1).is_err() {
                    return (Err(NtStatus::INSUFFICIENT_RESOURCES), Some(message));
                }
                let owner = slot.owner;
                let mut released = 0u64;
                while let Some(p) = slot.pending.pop_front() {
                    released = released.saturating_add(pending_charge(p.capacity));
                    complete(
                        p.id(slot_ref),
                        Completion::Failed(NtStatus::BUFFER_TOO_SMALL),
                    );
                }
                slot.messages.push_back(message);
                slot.queued_bytes = queued;
                self.budget_used = budget_used;
                self.ledger.release(owner, released);
                let len64 = u64::try_from(len).unwrap_or(u64::MAX);
                self.ledger
                    .charge(owner, len64.saturating_add(MESSAGE_OVERHEAD));
                (Ok(len), None)
            }
        }
    }

    /// Whether a message of `len` bytes may be written through `handle`, and how it would go.
    fn admit(&mut self, handle: &Handle, len: usize) -> Result<(SlotRef, Admission), NtStatus> {
        let slot_ref = match handle.kind {
            HandleKind::Client { slot, access } if access.write => slot,
            HandleKind::Client { .. } => return Err(NtStatus::ACCESS_DENIED),
            HandleKind::Server { access, .. } if access.write => {
                return Err(NtStatus::INVALID_PARAMETER)
            }
            HandleKind::Server { .. } => return Err(NtStatus::ACCESS_DENIED),
            HandleKind::Root(_) => return Err(NtStatus::INVALID_DEVICE_REQUEST),
        };
        let slot = live(&self.entries, slot_ref).ok_or(NtStatus::FILE_FORCED_CLOSED)?;
        // A length of 0xFFFFFFFF could not be told from MAILSLOT_NO_MESSAGE.
        let len32 = u32::try_from(len)
            .ok()
            .filter(|&l| l != MAILSLOT_NO_MESSAGE)
            .ok_or(NtStatus::INVALID_PARAMETER)?;
        if slot.max_message_size != 0 && len32 > slot.max_message_size {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        if let Some(taker) = slot.pending.iter().position(|p| p.capacity >= len) {
            return Ok((slot_ref, Admission::Deliver { taker }));
        }
        let len64 = u64::from(len32);
        let queued = slot.queued_bytes.saturating_add(len64);
        if slot.quota != 0 && queued > u64::from(slot.quota) {
            return Err(NtStatus::QUOTA_EXCEEDED);
        }
        // A queued message is charged to the slot's owner, whoever wrote it.
        self.ledger.check(
            slot.owner,
            len64.saturating_add(MESSAGE_OVERHEAD),
            self.owner_limit,
        )?;
        let budget_used = self
            .budget_used
            .checked_add(len64.saturating_add(MESSAGE_OVERHEAD))
            .filter(|&used| used <= self.budget_limit)
            .ok_or(NtStatus::INSUFFICIENT_RESOURCES)?;
        Ok((
            slot_ref,
            Admission::Queue {
                queued,
                budget_used,
            },
        ))
    }

    /// Read one whole message into a buffer of `capacity` bytes (`IRP_MJ_READ`).
    ///
    /// Errors: STATUS_BUFFER_TOO_SMALL when the head message does not fit (it stays queued),
    /// STATUS_IO_TIMEOUT at once when the slot is empty and its ReadTimeout is 0,
    /// STATUS_INVALID_PARAMETER from a client handle with read access and
    /// STATUS_ACCESS_DENIED from one without (or from a server without read access),
    /// STATUS_INVALID_DEVICE_REQUEST on the root, STATUS_FILE_CLOSED after the server's
    /// cleanup, STATUS_INSUFFICIENT_RESOURCES if the read cannot be queued (out of memory, or
    /// [`MAX_PENDING_READS`] already wait on the slot).
    pub fn read(&mut self, handle: &Handle, capacity: usize) -> Result<ReadOutcome, NtStatus> {
        self.read_or_pend(handle, capacity, |_| Ok(0))
    }

    /// [`Msfs::read`], with a say in queueing: when the read would wait, `pend` is called
    /// first and returns the token the read carries (see [`ReadId::token`]), or an error that
    /// the read then fails with, nothing queued. The kernel layer allocates its per-read
    /// context there, under the same lock, so a read is never queued without one.
    pub fn read_or_pend<F>(
        &mut self,
        handle: &Handle,
        capacity: usize,
        pend: F,
    ) -> Result<ReadOutcome, NtStatus>
    where
        F: FnOnce(Wait) -> Result<usize, NtStatus>,
    {
        let slot_ref = match handle.kind {
            HandleKind::Server { slot, access } if access.read => slot,
            HandleKind::Server { .. } => return Err(NtStatus::ACCESS_DENIED),
            HandleKind::Client { access, .. } if access.read => {
                return Err(NtStatus::INVALID_PARAMETER)
            }
            HandleKind::Client { .. } => return Err(NtStatus::ACCESS_DENIED),
            HandleKind::Root(_) => return Err(NtStatus::INVALID_DEVICE_REQUEST),
        };
        let slot = live_mut(&mut self.entries, slot_ref).ok_or(NtStatus::FILE_CLOSED)?;
        if let Some(head) = slot.messages.front() {
            if head.len() > capacity {
                return Err(NtStatus::BUFFER_TOO_SMALL);
            }
            let message = slot.messages.pop_front().unwrap_or_default();
            let len64 = u64::try_from(message.len()).unwrap_or(u64::MAX);
            slot.queued_bytes = slot.queued_bytes.saturating_sub(len64);
            let owner = slot.owner;
            self.budget_used = self
                .budget_used
                .saturating_sub(len64.saturating_add(MESSAGE_OVERHEAD));
            self.ledger
                .release(owner, len64.saturating_add(MESSAGE_OVERHEAD));
            return Ok(ReadOutcome::Message(message));
        }
        let wait = match slot.read_timeout {
            0 => return Err(NtStatus::IO_TIMEOUT),
            READ_TIMEOUT_FOREVER => Wait::Forever,
            due => Wait::Until(due),
        };
        if slot.pending.len() >= MAX_PENDING_READS {
            return Err(NtStatus::INSUFFICIENT_RESOURCES);
        }
        let owner = slot.owner;
        let charge = pending_charge(capacity);
        self.ledger.check(owner, charge, self.owner_limit)?;
        let seq = self.next_read_seq;
        let next_read_seq = seq.checked_add(1).ok_or(NtStatus::INSUFFICIENT_RESOURCES)?;
        slot.pending.try_reserve(1).map_err(no_memory)?;
        let token = pend(wait)?;
        let read = PendingRead {
            seq,
            capacity,
            token,
        };
        let id = read.id(slot_ref);
        slot.pending.push_back(read);
        self.next_read_seq = next_read_seq;
        // The owner has an account (its slot's name is charged to it): this never allocates.
        self.ledger.charge(owner, charge);
        Ok(ReadOutcome::Pending { id, wait })
    }

    fn withdraw(&mut self, id: ReadId, status: NtStatus) -> Arbitration {
        let Some(slot) = live_mut(&mut self.entries, id.slot) else {
            return Arbitration::Lost;
        };
        match slot.pending.binary_search_by_key(&id.seq, |p| p.seq) {
            Ok(i) => {
                if let Some(p) = slot.pending.remove(i) {
                    let owner = slot.owner;
                    self.ledger.release(owner, pending_charge(p.capacity));
                }
                Arbitration::Won(status)
            }
            Err(_) => Arbitration::Lost,
        }
    }

    /// The read's timer fired: if the read is still pending it is withdrawn and the caller
    /// completes it with STATUS_IO_TIMEOUT; otherwise the caller lost the race.
    pub fn expire(&mut self, id: ReadId) -> Arbitration {
        self.withdraw(id, NtStatus::IO_TIMEOUT)
    }

    /// The read was cancelled: if still pending, the caller completes it with
    /// STATUS_CANCELLED; otherwise the caller lost the race.
    pub fn cancel(&mut self, id: ReadId) -> Arbitration {
        self.withdraw(id, NtStatus::CANCELLED)
    }

    /// FileMailslotQueryInformation, on server and client handles (as Windows 8 and later).
    ///
    /// STATUS_INVALID_PARAMETER on the root, STATUS_FILE_CLOSED on a server handle after its
    /// cleanup, STATUS_FILE_FORCED_CLOSED on a client whose server is gone.
    pub fn query_info(&self, handle: &Handle) -> Result<MailslotInfo, NtStatus> {
        let (slot_ref, gone) = match handle.kind {
            HandleKind::Server { slot, .. } => (slot, NtStatus::FILE_CLOSED),
            HandleKind::Client { slot, .. } => (slot, NtStatus::FILE_FORCED_CLOSED),
            HandleKind::Root(_) => return Err(NtStatus::INVALID_PARAMETER),
        };
        live(&self.entries, slot_ref).map(Slot::info).ok_or(gone)
    }

    /// The descriptor the slot of `handle` was created with, copied into `out` (bounded by
    /// [`MAX_SECURITY_BYTES`]; STATUS_BUFFER_TOO_SMALL if it does not fit): its length, or
    /// `None` when the creator gave none or the handle is the root's. The errors of
    /// [`Msfs::query_info`] for a slot that is gone.
    pub fn security_of(&self, handle: &Handle, out: &mut [u8]) -> Result<Option<usize>, NtStatus> {
        let (slot_ref, gone) = match handle.kind {
            HandleKind::Server { slot, .. } => (slot, NtStatus::FILE_CLOSED),
            HandleKind::Client { slot, .. } => (slot, NtStatus::FILE_FORCED_CLOSED),
            HandleKind::Root(_) => return Ok(None),
        };
        let slot = live(&self.entries, slot_ref).ok_or(gone)?;
        copy_descriptor(slot, out)
    }

    /// `IRP_MJ_FLUSH_BUFFERS` (FlushFileBuffers): nothing is ever buffered, since a write is
    /// queued whole before it completes, so a flush of a live mailslot succeeds at once [choice].
    /// STATUS_INVALID_DEVICE_REQUEST on the root; the errors of [`Msfs::query_info`] for a slot
    /// that is gone.
    pub fn flush(&self, handle: &Handle) -> Result<(), NtStatus> {
        match handle.kind {
            HandleKind::Root(_) => Err(NtStatus::INVALID_DEVICE_REQUEST),
            _ => self.query_info(handle).map(|_| ()),
        }
    }

    /// What a handle designates, for the file-information classes the kernel layer answers
    /// (basic, standard, name). Same errors as [`Msfs::query_info`], except that the root
    /// is described too (no name, no time, nothing queued).
    pub fn describe(&self, handle: &Handle) -> Result<FileFacts<'_>, NtStatus> {
        let (slot_ref, gone) = match handle.kind {
            HandleKind::Server { slot, .. } => (slot, NtStatus::FILE_CLOSED),
            HandleKind::Client { slot, .. } => (slot, NtStatus::FILE_FORCED_CLOSED),
            HandleKind::Root(_) => {
                return Ok(FileFacts {
                    role: HandleRole::Root,
                    created: 0,
                    queued_bytes: 0,
                    name: &[],
                })
            }
        };
        let slot = live(&self.entries, slot_ref).ok_or(gone)?;
        Ok(FileFacts {
            role: handle.role(),
            created: slot.created,
            queued_bytes: slot.queued_bytes,
            name: &slot.name,
        })
    }

    /// FileMailslotSetInformation: a new ReadTimeout, stored verbatim, for reads issued from
    /// now on (reads already pending keep their own deadline).
    ///
    /// Only the server may set it: STATUS_INVALID_PARAMETER from a client or the root,
    /// STATUS_FILE_CLOSED after the server's cleanup.
    pub fn set_read_timeout(&mut self, handle: &Handle, read_timeout: i64) -> Result<(), NtStatus> {
        let HandleKind::Server { slot, .. } = handle.kind else {
            return Err(NtStatus::INVALID_PARAMETER);
        };
        let slot = live_mut(&mut self.entries, slot).ok_or(NtStatus::FILE_CLOSED)?;
        slot.read_timeout = read_timeout;
        Ok(())
    }

    /// FSCTL_MAILSLOT_PEEK: the header and as much of the head message as fits in `out`,
    /// nothing dequeued. STATUS_BUFFER_OVERFLOW (a warning) when the message was cut short.
    ///
    /// Server handles only: STATUS_INVALID_PARAMETER from a client, as for reads;
    /// STATUS_INVALID_DEVICE_REQUEST on the root; STATUS_FILE_CLOSED after cleanup.
    pub fn peek(&self, handle: &Handle, out: &mut [u8]) -> Result<Peek, NtStatus> {
        let slot_ref = match handle.kind {
            HandleKind::Server { slot, .. } => slot,
            HandleKind::Client { .. } => return Err(NtStatus::INVALID_PARAMETER),
            HandleKind::Root(_) => return Err(NtStatus::INVALID_DEVICE_REQUEST),
        };
        let slot = live(&self.entries, slot_ref).ok_or(NtStatus::FILE_CLOSED)?;
        let head: &[u8] = slot.messages.front().map_or(&[], Message::as_bytes);
        let copied = core::cmp::min(head.len(), out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..copied), head.get(..copied)) {
            dst.copy_from_slice(src);
        }
        Ok(Peek {
            header: PeekHeader {
                read_data_available: u32::try_from(slot.queued_bytes).unwrap_or(u32::MAX),
                number_of_messages: u32::try_from(slot.messages.len()).unwrap_or(u32::MAX),
                message_length: u32::try_from(head.len()).unwrap_or(u32::MAX),
            },
            copied,
            status: if copied < head.len() {
                NtStatus::BUFFER_OVERFLOW
            } else {
                NtStatus::SUCCESS
            },
        })
    }

    /// NtQueryDirectoryFile on the root: live mailslots in creation order, filtered by the
    /// pattern given on the first query (or on a restart), resuming after the last record
    /// returned.
    ///
    /// Statuses: STATUS_INVALID_PARAMETER on a mailslot handle, STATUS_INVALID_INFO_CLASS,
    /// STATUS_INFO_LENGTH_MISMATCH when `out` cannot hold one fixed part, the pattern's
    /// status, STATUS_BUFFER_OVERFLOW when the first record's name was cut short (it is
    /// returned again next time), STATUS_NO_SUCH_FILE when the first query of a scan finds
    /// nothing, STATUS_NO_MORE_FILES when a later one does.
    pub fn query_directory(
        &self,
        handle: &mut Handle,
        query: &DirQuery<'_>,
        out: &mut [u8],
    ) -> DirReply {
        let HandleKind::Root(cursor) = &mut handle.kind else {
            return DirReply::status(NtStatus::INVALID_PARAMETER);
        };
        let class = match DirClass::from_raw(query.class) {
            Ok(class) => class,
            Err(status) => return DirReply::status(status),
        };
        if out.len() < class.base_len() {
            return DirReply::status(NtStatus::INFO_LENGTH_MISMATCH);
        }
        let initial = query.restart_scan || !cursor.queried;
        let mut pattern_slot = None;
        let pattern = match (initial, query.pattern) {
            (true, Some(bytes)) => match Pattern::parse(bytes) {
                Ok(p) => pattern_slot.insert(p).as_ref(),
                Err(status) => return DirReply::status(status),
            },
            _ => cursor.pattern.as_ref(),
        };
        let after = if query.restart_scan { 0 } else { cursor.after };

        let mut next_offset = 0usize;
        let mut last_offset: Option<usize> = None;
        let mut information = 0usize;
        let mut last_serial = after;
        let mut status = NtStatus::SUCCESS;
        let start = self.order.partition_point(|&(serial, _)| serial <= after);
        for &(serial, index) in self.order.get(start..).unwrap_or(&[]) {
            let Some(SlabEntry::Live(slot)) = self.entries.get(index as usize) else {
                continue;
            };
            if !pattern.is_none_or(|p| p.matches(slot.name.iter().copied())) {
                continue;
            }
            let entry = DirEntry {
                time: slot.created,
                queued_bytes: slot.queued_bytes,
                name: &slot.name,
            };
            let whole_len = entry
                .name
                .len()
                .checked_mul(2)
                .and_then(|n| n.checked_add(class.base_len()));
            let remaining = out.len().checked_sub(next_offset);
            let first = last_offset.is_none();
            if !first && !matches!((whole_len, remaining), (Some(w), Some(r)) if w <= r) {
                break;
            }
            let Some((written, whole)) = out
                .get_mut(next_offset..)
                .and_then(|rest| write_record(class, &entry, rest))
            else {
                break;
            };
            if let Some(last) = last_offset {
                let delta = u32::try_from(next_offset.saturating_sub(last)).unwrap_or(0);
                crate::wire::put(out, last, &delta.to_le_bytes());
            }
            information = next_offset.saturating_add(written);
            if !whole {
                status = NtStatus::BUFFER_OVERFLOW;
                break;
            }
            last_serial = serial;
            last_offset = Some(next_offset);
            match align8(information) {
                Some(n) => next_offset = n,
                None => break,
            }
            if query.return_single_entry {
                break;
            }
        }
        if information == 0 {
            status = if initial {
                NtStatus::NO_SUCH_FILE
            } else {
                NtStatus::NO_MORE_FILES
            };
        }

        if let Some(p) = pattern_slot {
            cursor.pattern = p;
        }
        cursor.after = last_serial;
        cursor.queried = true;
        DirReply {
            status,
            information,
        }
    }

    /// `IRP_MJ_CLEANUP`: the last user handle to the file object is closed. For a server
    /// this deletes the mailslot at once: pending reads complete with STATUS_CANCELLED
    /// through `complete`, queued messages are freed, and the name is free for a new server.
    /// Clients still open stay bound to the deleted slot. Idempotent.
    pub fn cleanup<F>(&mut self, handle: &Handle, complete: F)
    where
        F: FnMut(ReadId, Completion<'_>),
    {
        if let HandleKind::Server { slot, .. } = handle.kind {
            self.delete(slot, complete);
        }
    }

    /// `IRP_MJ_CLOSE`: the handle's state goes away. A server handle that never saw its
    /// cleanup is cleaned up first.
    pub fn close<F>(&mut self, handle: Handle, complete: F)
    where
        F: FnMut(ReadId, Completion<'_>),
    {
        self.cleanup(&handle, complete);
        self.open_handles = self.open_handles.saturating_sub(1);
    }

    fn delete<F>(&mut self, slot_ref: SlotRef, mut complete: F)
    where
        F: FnMut(ReadId, Completion<'_>),
    {
        let index = slot_ref.index;
        let Some(entry) = self.entries.get_mut(index as usize) else {
            return;
        };
        if !matches!(entry, SlabEntry::Live(s) if s.serial == slot_ref.serial) {
            return;
        }
        let SlabEntry::Live(slot) = core::mem::replace(
            entry,
            SlabEntry::Free {
                next: self.free_head,
            },
        ) else {
            return;
        };
        self.free_head = Some(index);
        if let Ok(found) = self.names.find_entry(slot.hash, |&i| i == index) {
            found.remove();
        }
        if let Ok(pos) = self.order.binary_search_by_key(&slot.serial, |&(s, _)| s) {
            if let Some(item) = self.order.get_mut(pos) {
                item.1 = TOMBSTONE;
                self.tombstones = self.tombstones.saturating_add(1);
            }
        }
        self.budget_used = self.budget_used.saturating_sub(slot.charge());
        self.ledger.release(slot.owner, slot.owner_charge());
        for p in &slot.pending {
            complete(p.id(slot_ref), Completion::Failed(NtStatus::CANCELLED));
        }
    }

    /// Drops tombstones once they outnumber live entries, in place (no allocation), so scans
    /// and the order vector stay proportional to the live slots.
    fn compact_order_if_sparse(&mut self) {
        if self.tombstones > 16 && self.tombstones >= self.order.len() / 2 {
            self.order.retain(|&(_, index)| index != TOMBSTONE);
            self.tombstones = 0;
        }
    }
}

#[cfg(feature = "audit")]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod audit {
    //! Introspection for tests and fuzzing: a canonical snapshot of the whole state, and a
    //! check of every structural invariant.
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::format;
    use alloc::string::String;

    /// Everything observable about one slot.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct AuditSlot {
        pub name: Vec<u16>,
        pub serial: u64,
        pub max_message_size: u32,
        pub quota: u32,
        pub read_timeout: i64,
        pub created: i64,
        pub messages: Vec<Vec<u8>>,
        pub pending: Vec<(u64, usize)>,
    }

    /// A canonical snapshot: equal snapshots mean equal engines.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Audit {
        pub slots: Vec<AuditSlot>,
        pub budget_used: u64,
        pub open_handles: usize,
        pub next_serial: u64,
        pub next_read_seq: u64,
    }

    impl Msfs {
        /// The snapshot, slots in creation order.
        pub fn audit(&self) -> Audit {
            let mut slots: Vec<AuditSlot> = self
                .entries
                .iter()
                .filter_map(|e| match e {
                    SlabEntry::Live(s) => Some(AuditSlot {
                        name: s.name.clone(),
                        serial: s.serial,
                        max_message_size: s.max_message_size,
                        quota: s.quota,
                        read_timeout: s.read_timeout,
                        created: s.created,
                        messages: s.messages.iter().map(|m| m.as_bytes().to_vec()).collect(),
                        pending: s.pending.iter().map(|p| (p.seq, p.capacity)).collect(),
                    }),
                    SlabEntry::Free { .. } => None,
                })
                .collect();
            slots.sort_by_key(|s| s.serial);
            Audit {
                slots,
                budget_used: self.budget_used,
                open_handles: self.open_handles,
                next_serial: self.next_serial,
                next_read_seq: self.next_read_seq,
            }
        }

        /// Checks every structural invariant; the error says which one broke.
        pub fn check_invariants(&self) -> Result<(), String> {
            let live: Vec<(u32, &Slot)> = self
                .entries
                .iter()
                .enumerate()
                .filter_map(|(i, e)| match e {
                    SlabEntry::Live(s) => Some((i as u32, s)),
                    SlabEntry::Free { .. } => None,
                })
                .collect();
            if live.len() != self.names.len() {
                return Err(format!(
                    "{} live slots, {} names",
                    live.len(),
                    self.names.len()
                ));
            }
            let mut charge = 0u64;
            let mut owed: BTreeMap<Owner, u64> = BTreeMap::new();
            for &(index, slot) in &live {
                let hash = hash_units(self.hash_keys, slot.name.iter().copied());
                if hash != slot.hash {
                    return Err(format!("slot {index}'s stored hash is stale"));
                }
                if !folded_units(slot.name.iter().copied()).eq(slot.folded.iter().copied()) {
                    return Err(format!("slot {index}'s folded name is not its name folded"));
                }
                let hits = self.names.iter_hash(hash).filter(|&&i| i == index).count();
                if hits != 1 {
                    return Err(format!("slot {index} is in the name table {hits} times"));
                }
                for &(other, o) in &live {
                    if other != index
                        && names_equal(o.name.iter().copied(), slot.name.iter().copied())
                    {
                        return Err(format!("slots {index} and {other} share a name"));
                    }
                }
                if !slot.pending.is_empty() && !slot.messages.is_empty() {
                    return Err(format!(
                        "slot {index} has pending reads and queued messages"
                    ));
                }
                if slot
                    .pending
                    .iter()
                    .zip(slot.pending.iter().skip(1))
                    .any(|(a, b)| a.seq >= b.seq)
                {
                    return Err(format!("slot {index}: pending reads out of order"));
                }
                let bytes: u64 = slot.messages.iter().map(|m| m.len() as u64).sum();
                if bytes != slot.queued_bytes {
                    return Err(format!(
                        "slot {index}: queued_bytes {} != {bytes}",
                        slot.queued_bytes
                    ));
                }
                if slot.quota != 0 && bytes > u64::from(slot.quota) {
                    return Err(format!("slot {index}: over quota"));
                }
                if slot.max_message_size != 0
                    && slot
                        .messages
                        .iter()
                        .any(|m| m.len() > slot.max_message_size as usize)
                {
                    return Err(format!("slot {index}: message over maximum size"));
                }
                charge += slot.charge();
                *owed.entry(slot.owner).or_insert(0u64) += slot.owner_charge();
                let in_order = self
                    .order
                    .iter()
                    .filter(|&&(s, i)| s == slot.serial && i == index)
                    .count();
                if in_order != 1 {
                    return Err(format!("slot {index} is in the order {in_order} times"));
                }
            }
            if charge != self.budget_used {
                return Err(format!("budget_used {} != {charge}", self.budget_used));
            }
            // Each owner's account is exactly what its slots hold, within its limit, and an
            // owner with nothing has no account.
            let accounts: BTreeMap<Owner, u64> = self.ledger.accounts().collect();
            let owed: BTreeMap<Owner, u64> = owed.into_iter().filter(|&(_, b)| b > 0).collect();
            if accounts != owed {
                return Err(format!(
                    "owner accounts {accounts:?} != what their slots hold {owed:?}"
                ));
            }
            if let Some((o, b)) = accounts.iter().find(|&(_, &b)| b > self.owner_limit) {
                return Err(format!(
                    "{o:?} holds {b}, over its limit {}",
                    self.owner_limit
                ));
            }
            if self.budget_used > self.budget_limit {
                return Err("budget exceeded".into());
            }
            if self
                .order
                .windows(2)
                .any(|w| matches!(w, [a, b] if a.0 >= b.0))
            {
                return Err("order not strictly increasing".into());
            }
            let tomb = self.order.iter().filter(|&&(_, i)| i == TOMBSTONE).count();
            if tomb != self.tombstones || self.order.len() - tomb != live.len() {
                return Err(format!(
                    "order: {tomb} tombstones, counter {}",
                    self.tombstones
                ));
            }
            let mut free = 0usize;
            let mut cursor = self.free_head;
            while let Some(i) = cursor {
                match self.entries.get(i as usize) {
                    Some(SlabEntry::Free { next }) => cursor = *next,
                    _ => return Err(format!("free list reaches a non-free entry {i}")),
                }
                free += 1;
                if free > self.entries.len() {
                    return Err("free list loops".into());
                }
            }
            if free + live.len() != self.entries.len() {
                return Err(format!(
                    "{free} free + {} live != {}",
                    live.len(),
                    self.entries.len()
                ));
            }
            Ok(())
        }
    }
}

#[cfg(feature = "audit")]
pub use audit::{Audit, AuditSlot};
