//! ntemu: the real `rsmailslot.sys`, run in a Linux process against an emulated NT kernel.
//!
//! A PE32+ kernel image is x86-64 machine code. This crate maps it the way Windows' loader does,
//! binds its imports to an emulated ntoskrnl.exe and wdfldr.sys, and runs it under emulated
//! KMDF, I/O manager and kernel32, all written from public sources (Microsoft's documentation,
//! the public KMDF source, ReactOS and Wine, read for facts) and checking what Windows and
//! Driver Verifier check: special pool, IRQL rules and Force IRQL checking, spin-lock and DPC
//! discipline, IRP completion and cancellation rules, structured exceptions through the image's
//! own unwind data, and what a driver must leave behind at unload.
//!
//! The layers, bottom up:
//! - [`mem`]: the emulated address space (user below `MmUserProbeAddress`, kernel above);
//! - [`image`], [`thunks`], [`exports`]: the loader, the entry points of the kernel's exports
//!   and the gate every driver call into the kernel passes (caller, IRQL);
//! - [`cpu`], [`ke`], [`pool`], [`ntos`]: IRQL per thread, timers and DPCs on threads of their
//!   own, spin locks, special pool, and ntoskrnl's routines;
//! - [`unwind`], [`seh`], [`bugcheck`]: x64 unwinding, faults, exception dispatch, stop reports;
//! - [`kmdf`]: the bind protocol, the function table and the framework calls;
//! - [`io`], [`se`], [`process`]: the I/O manager, security, processes and handles;
//! - [`kernel32`]: the Win32 calls over the NT services, as Windows' kernel32 makes them;
//! - [`system`]: the harness's `System`, so usermode-test's table runs against the driver;
//! - [`machine`]: boot, unload, shutdown;
//! - [`count`]: instructions of the driver's own code per operation, for the figures.
//!
//! What it cannot prove: real paging, the real scheduler and processors, the real Driver
//! Verifier and kernel32. A run on a Windows VM stays the final proof.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

pub mod bugcheck;
pub mod count;
pub mod cpu;
pub mod exports;
pub mod image;
pub mod io;
pub mod ke;
pub mod kernel32;
pub mod kmdf;
pub mod layout;
pub mod machine;
pub mod mem;
pub mod ntos;
pub mod ntos_print;
pub mod pool;
pub mod process;
pub mod quota;
pub mod sddl;
pub mod se;
pub mod seapi;
pub mod seh;
pub mod system;
pub mod thunks;
pub mod token;
pub mod unwind;

pub use machine::{Config, Machine};
