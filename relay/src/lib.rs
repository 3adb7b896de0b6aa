//! `rsmailslot-relay`: remote mailslots without SMB1.
//!
//! Windows 11 24H2 and Server 2025 no longer send or receive remote mailslot messages by
//! default (ERROR_REMOTE_MAILSLOTS_DEPRECATED); the programs that still use them (and other
//! systems' peers) keep sending the NetBIOS datagrams of [MS-MAIL]. The relay receives those
//! datagrams on UDP, decides for each whether the administrator's policy admits it (which
//! sources, which mailslots, how large, how often), and delivers what it admits to a local
//! mailslot (on Windows through `\\.\mailslot\`, or rsmailslot's `\\.\RsMailslot\`) or, on
//! Linux, to a Unix datagram socket per mailslot or standard output. Nothing is delivered that
//! the policy did not admit, nothing is delivered in part, and every decision is counted.
//!
//! - [`policy`]: the configuration file and what it allows.
//! - [`decide`]: the decision for one datagram, as a pure function of the policy, the
//!   source's recent traffic and the bytes.
//! - [`sink`]: where admitted messages go.
//! - [`counters`]: received, delivered and refused by reason.
//! - [`target`]: `\\host\mailslot\name` as the sender takes it.
//! - [`serve`]: the receive loop; on Windows `service` runs it as the `RsMailslotRelay`
//!   service.

pub mod cmdline;
pub mod counters;
pub mod decide;
pub mod policy;
pub mod rate;
pub mod serve;
#[cfg(windows)]
pub mod service;
pub mod sink;
pub mod target;

pub use counters::Counters;
pub use decide::{Decision, Relay};
pub use policy::Policy;
