//! usermode-test: the mailslot conformance harness.
//!
//! The portable parts (command line, reporting, figures, the known-divergence lists) build and
//! are tested on any host; the rows and the benchmark call Windows and build for Windows only.

pub mod bytes;
pub mod cli;
pub mod codes;
pub mod ctx;
pub mod known;
pub mod report;
pub mod stats;

#[cfg(windows)]
pub mod bench;
#[cfg(windows)]
pub mod rows;
#[cfg(windows)]
pub mod run;
#[cfg(windows)]
pub mod sys;
