//! rsmailslot.sys: the KMDF driver that serves Windows mailslots from the portable `msfs`
//! engine.
//!
//! Modules:
//! - [`ffi`]: the whole foreign surface (imports, hand-declared structures, constants), with
//!   size/offset tests against the Windows x64 ABI;
//! - [`kmdf`]: the framework binding (bind protocol, function-table indices, typed calls);
//! - `kernel`: global allocator over non-paged pool, panic handler, tracing;
//! - `device`: entry, unload and the control device;
//! - [`names`]: the names the INF, the scripts and the harness must agree with.
//!
//! On the host only the tests build (ABI layouts, names, INF consistency); the image itself is
//! cross-built for `x86_64-pc-windows-msvc` by `tools/build-driver.sh`.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod ffi;
pub mod kmdf;
pub mod names;

#[cfg(all(target_os = "windows", not(test)))]
mod device;
#[cfg(all(target_os = "windows", not(test)))]
mod kernel;

#[cfg(test)]
mod inf_check;
