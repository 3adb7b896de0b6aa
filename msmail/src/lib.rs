//! The Remote Mailslot Protocol on the wire.
//!
//! A mailslot write that leaves a machine is an SMB_COM_TRANSACTION request (the "mailslot
//! write message" of [MS-MAIL] 2.2.1) carried as the user data of a NetBIOS datagram
//! ([RFC 1002] 4.4, UDP port 138), sent to one machine's name (a direct unique datagram), to a
//! group name (direct group) or to every machine (broadcast). This crate holds both layers as
//! values that cannot be illegal (every constructor checks what the specifications require,
//! and the fields are private), parses them strictly from bytes (every length field is
//! checked against the bytes that are there; nothing trails; anything the specifications
//! forbid or this protocol never uses is refused with the reason) and emits them to bytes.
//! Emitting a value and parsing the bytes gives the value back.
//!
//! - [`name`]: NetBIOS names, first-level encoded with their scope ([RFC 1001] 14.1,
//!   [RFC 1002] 4.1).
//! - [`datagram`]: the datagram service's packets ([RFC 1002] 4.4): direct unique, direct
//!   group and broadcast datagrams, datagram errors and queries.
//! - [`write`]: the mailslot write inside a datagram ([MS-MAIL] 2.2.1, [MS-CIFS] 2.2.4.33 and
//!   2.2.5.12, [MS-BRWS] 4.1 for a captured example).
//!
//! It is `no_std` with `alloc` and has no `unsafe`, so that it can be used anywhere a mailslot
//! message is, down to a kernel component.

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

pub mod datagram;
mod error;
pub mod name;
pub mod write;

pub use datagram::{Datagram, DatagramKind, ErrorCode, Header, NodeType, QueryKind};
pub use error::Error;
pub use name::{NetbiosName, Scope};
pub use write::{Class, MailslotName, MailslotWrite};

/// The UDP port of the NetBIOS datagram service [RFC 1002] 4.4.
pub const DATAGRAM_PORT: u16 = 138;

/// The most a broadcast (or domain) mailslot message may carry: Microsoft's mailslot
/// documentation ("About Mailslots": messages sent between computers "cannot be larger than
/// 424 bytes"; CreateFile of a `\\*\mailslot\` name, a larger WriteFile fails).
pub const MAX_BROADCAST_MESSAGE: usize = 424;

/// The most a mailslot name and its data together SHOULD take in a datagram over UDP
/// [MS-MAIL] 2.1.
pub const MAX_UDP_NAME_AND_DATA: usize = 443;
