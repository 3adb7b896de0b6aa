//! rsmailslot.sys: the KMDF driver that serves Windows mailslots from the portable `msfs`
//! engine.
//!
//! Modules:
//! - [`ffi`]: the whole foreign surface (imports, hand-declared structures, constants), with
//!   size/offset tests against the Windows x64 ABI;
//! - [`kmdf`]: the framework binding (bind protocol, function-table indices, typed calls);
//! - `kernel`: global allocator over non-paged pool, panic handler, tracing;
//! - `device`: entry, unload and the control device;
//! - `io`: the I/O path: each IRP through `msfs_io` and the engine, pending reads, and the
//!   exception-guarded copy to callers' memory (`asm/guarded_copy.s`);
//! - [`names`]: the names the INF, the scripts and the harness must agree with.
//!
//! On the host only the tests build (ABI layouts, names, INF consistency); the image itself is
//! cross-built for `x86_64-pc-windows-msvc` by `tools/build-driver.sh`.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(all(target_os = "windows", not(test)))]
extern crate alloc;

pub mod ffi;
pub mod kmdf;
pub mod names;

#[cfg(all(target_os = "windows", not(test)))]
mod device;
#[cfg(all(target_os = "windows", not(test)))]
mod io;
#[cfg(all(target_os = "windows", not(test)))]
mod kernel;
#[cfg(all(target_os = "windows", not(test)))]
mod settings;

#[cfg(test)]
mod inf_check;
