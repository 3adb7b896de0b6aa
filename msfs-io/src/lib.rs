//! The I/O translation layer of rsmailslot.sys, in safe `no_std` Rust.
//!
//! The driver copies raw fields out of each IRP (the stack location's parameter words, lengths,
//! the caller's bytes) and hands them here as plain values; this crate decides what the request
//! is, checks every caller-controlled length and pointer value, calls the engine, and encodes the
//! reply and its IoStatus. What remains in the driver is the raw kernel calls themselves.
//!
//! - [`stack`]: `IO_STACK_LOCATION` parameters, decoded per major function at their x64 offsets.
//! - [`access`]: the create's ACCESS_MASK reduced to what mailslots care about.
//! - [`info`]: query/set file information, volume information and peek replies.
//! - [`pending`]: the pending-read protocol: who may complete a read IRP, and when, given that
//!   a write, its timer, its cancel routine and the server's cleanup race for it.
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

pub mod access;
pub mod descriptor;
pub mod info;
pub mod pending;
pub mod settings;
pub mod stack;

use msfs::NtStatus;

/// How a request ends: its IoStatus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: NtStatus,
    /// IoStatus.Information.
    pub information: usize,
}

impl Reply {
    pub const fn new(status: NtStatus, information: usize) -> Self {
        Reply {
            status,
            information,
        }
    }

    /// A failure: Information is 0.
    pub const fn error(status: NtStatus) -> Self {
        Reply::new(status, 0)
    }

    /// Success with this many bytes.
    pub const fn success(information: usize) -> Self {
        Reply::new(NtStatus::SUCCESS, information)
    }
}

impl From<Result<usize, NtStatus>> for Reply {
    fn from(r: Result<usize, NtStatus>) -> Self {
        match r {
            Ok(n) => Reply::success(n),
            Err(s) => Reply::error(s),
        }
    }
}

/// How the driver may view a (pointer, length) pair a request carries (a system buffer, a
/// counted string's buffer, a parameter block).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// Nothing to read or write (the pointer is not used, and may be null).
    Empty,
    /// `length` bytes at a non-null address.
    Bytes(usize),
}

/// A null pointer with a non-zero length is `null_status`; a zero length is empty whatever the
/// pointer. The driver passes one status per kind of pair: the `REGION_*` constants.
pub fn region(address: u64, length: usize, null_status: NtStatus) -> Result<Region, NtStatus> {
    match (address, length) {
        (_, 0) => Ok(Region::Empty),
        (0, _) => Err(null_status),
        (_, n) => Ok(Region::Bytes(n)),
    }
}

/// A system buffer missing for a non-zero length.
pub const REGION_SYSTEM_BUFFER: NtStatus = NtStatus::INVALID_PARAMETER;
/// A create's FileName with a length and no buffer.
pub const REGION_FILE_NAME: NtStatus = NtStatus::OBJECT_NAME_INVALID;
/// A directory query's pattern with a length and no buffer.
pub const REGION_PATTERN: NtStatus = NtStatus::INVALID_PARAMETER;
/// A CreateMailslot request without its parameter block.
pub const REGION_CREATE_PARAMETERS: NtStatus = NtStatus::INVALID_PARAMETER;

/// How a read whose buffer holds `buffer_len` bytes ends when handed a message of
/// `message_len`: the length to copy and report, or STATUS_BUFFER_TOO_SMALL. The engine only
/// hands a read a message that fits; the driver asks again before every copy, so no broken
/// promise can complete a read with more bytes than its buffer holds (the I/O manager would copy
/// that many bytes of pool to the caller).
pub fn fits(message_len: usize, buffer_len: usize) -> Result<usize, NtStatus> {
    if message_len <= buffer_len {
        Ok(message_len)
    } else {
        Err(NtStatus::BUFFER_TOO_SMALL)
    }
}

/// Whether `[address, address + length)` lies wholly in user space, below
/// `user_probe_address` (the kernel's `MmUserProbeAddress`), as `ProbeForRead`/`ProbeForWrite`
/// require before a user-mode caller's pointer is touched. A null address never passes; a
/// zero length passes for any non-null address below the limit.
pub fn user_range_ok(address: u64, length: u64, user_probe_address: u64) -> bool {
    address != 0
        && address
            .checked_add(length)
            .is_some_and(|end| end <= user_probe_address && address < user_probe_address)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: u64 = 0x7FFF_FFFF_0000;

    #[test]
    fn a_read_never_reports_more_than_its_buffer() {
        assert_eq!(fits(0, 0), Ok(0));
        assert_eq!(fits(5, 5), Ok(5));
        assert_eq!(fits(5, 64), Ok(5));
        assert_eq!(fits(6, 5), Err(NtStatus::BUFFER_TOO_SMALL));
        assert_eq!(fits(1, 0), Err(NtStatus::BUFFER_TOO_SMALL));
    }

    #[test]
    fn user_ranges() {
        assert!(user_range_ok(0x1000, 8, LIMIT));
        assert!(user_range_ok(LIMIT - 8, 8, LIMIT));
        assert!(!user_range_ok(LIMIT - 7, 8, LIMIT));
        assert!(!user_range_ok(0, 8, LIMIT));
        assert!(!user_range_ok(0, 0, LIMIT));
        assert!(!user_range_ok(u64::MAX - 3, 8, LIMIT), "wraps");
        assert!(
            !user_range_ok(0xFFFF_F780_0000_0000, 8, LIMIT),
            "kernel address"
        );
        assert!(!user_range_ok(LIMIT, 0, LIMIT));
        assert!(user_range_ok(0x1000, 0, LIMIT));
    }

    #[test]
    fn regions() {
        for status in [
            REGION_SYSTEM_BUFFER,
            REGION_FILE_NAME,
            REGION_PATTERN,
            REGION_CREATE_PARAMETERS,
        ] {
            assert_eq!(region(0, 0, status), Ok(Region::Empty));
            assert_eq!(region(0x1000, 0, status), Ok(Region::Empty));
            assert_eq!(region(0, 1, status), Err(status));
            assert_eq!(region(0, usize::MAX, status), Err(status));
            assert_eq!(region(0x1000, 24, status), Ok(Region::Bytes(24)));
        }
        assert_eq!(REGION_FILE_NAME, NtStatus::OBJECT_NAME_INVALID);
        assert_eq!(REGION_SYSTEM_BUFFER, NtStatus::INVALID_PARAMETER);
    }

    #[test]
    fn replies() {
        assert_eq!(Reply::from(Ok(5)), Reply::new(NtStatus::SUCCESS, 5));
        assert_eq!(
            Reply::from(Err(NtStatus::ACCESS_DENIED)),
            Reply::new(NtStatus::ACCESS_DENIED, 0)
        );
    }
}
