//! usermode-test: the mailslot conformance harness.
//!
//! The table (`rows`), its runner (`run`) and the benchmark (`bench`) call a [`system::System`]
//! and build on any host: on Windows `sys` makes the real calls (against native MSFS or the
//! driver), on Linux the `ntemu` crate runs them against the real rsmailslot.sys in an emulated
//! kernel. The command line, reporting, figures and known-divergence lists are portable too.

pub mod bench;
pub mod bytes;
pub mod cli;
pub mod codes;
pub mod ctx;
pub mod known;
pub mod report;
pub mod rows;
pub mod run;
pub mod stats;
pub mod system;

#[cfg(windows)]
pub mod sys;
