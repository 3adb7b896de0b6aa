//! The portable Mailslot File System engine of rsmailslot.
//!
//! Every rule of Windows' MSFS lives here, in safe `no_std` Rust that runs and is tested on
//! any host; the KMDF driver is a thin translation from IRPs to these calls. The engine speaks
//! NTSTATUS values and byte counts, never Win32 error codes or Windows types.
//!
//! Layers, bottom up:
//! - [`status`]: the NTSTATUS values, with the Win32 code each becomes.
//! - [`fold`], [`name`], [`pattern`]: case-insensitive names (Unicode simple case folding
//!   over UTF-16) and directory patterns, decoded and validated from caller bytes.
//! - [`wire`], [`dir`]: the byte layouts of caller buffers: create parameters, query/set
//!   information, peek header, directory records. Each caller buffer is decoded into a
//!   validated value first; each reply is emitted by one function that checks the length once.
//! - [`engine`]: the namespace, per-slot message queues, pending reads and who completes them.
//!
//! Kernel rules the engine keeps for the driver: no panics on any input (the crate denies
//! `unwrap`, `expect`, indexing and unchecked arithmetic outside tests); every allocation is
//! fallible, and a failed one leaves the state exactly as it was and reports
//! STATUS_INSUFFICIENT_RESOURCES; no operation blocks, so the driver can call the engine under
//! a spin lock.
//!
//! Where Windows' behaviour is unknown, the engine makes a documented choice (see README.md,
//! "Our choices until Windows is measured"), which the harness records on a Windows VM.
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::arithmetic_side_effects
    )
)]
#![warn(missing_debug_implementations)]

extern crate alloc;

pub mod dir;
pub mod engine;
pub mod fold;
mod fold_table;
mod ledger;
pub mod name;
pub mod pattern;
pub mod prepared;
pub mod status;
pub mod wire;

pub use engine::{
    Access, Arbitration, Completion, Config, DirQuery, DirReply, FileFacts, Found, Handle,
    HandleRole, Message, Msfs, Peek, ReadId, ReadOutcome, Security, SecurityBase, SlotId, Wait,
    Written, MAX_PENDING_READS, MAX_SECURITY_BYTES, MESSAGE_OVERHEAD, PENDING_CHARGE, SLOT_CHARGE,
};
#[cfg(feature = "audit")]
pub use engine::{Audit, AuditSlot};
pub use ledger::Owner;
pub use prepared::PreparedName;
pub use status::NtStatus;
pub use wire::{CreateParameters, MailslotInfo, PeekHeader, PointerWidth, SetInformation};
