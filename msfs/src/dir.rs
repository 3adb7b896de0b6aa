//! Directory-enumeration records (`NtQueryDirectoryFile` on the device root).
//!
//! Four information classes are served. Records follow one another at 8-byte aligned
//! offsets, each `NextEntryOffset` pointing at the next and the last one 0. The buffer rules
//! are those of Windows file systems: the I/O manager guarantees room for one fixed part; a
//! first record whose name does not fit is returned with as much of the name as fits and
//! STATUS_BUFFER_OVERFLOW (its FileNameLength still the full length) and is returned again
//! by the next call; a later record that does not fit is left for the next call.

use crate::status::NtStatus;
use crate::wire::put;

/// `FILE_ATTRIBUTE_NORMAL`.
pub const FILE_ATTRIBUTE_NORMAL: u32 = 0x80;

/// A supported `FILE_INFORMATION_CLASS` for directory queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirClass {
    /// FileDirectoryInformation (1): `FILE_DIRECTORY_INFORMATION`.
    Directory,
    /// FileFullDirectoryInformation (2): `FILE_FULL_DIR_INFORMATION`.
    FullDirectory,
    /// FileBothDirectoryInformation (3): `FILE_BOTH_DIR_INFORMATION`.
    BothDirectory,
    /// FileNamesInformation (12): `FILE_NAMES_INFORMATION`.
    Names,
}

impl DirClass {
    /// STATUS_INVALID_INFO_CLASS for any other class.
    pub fn from_raw(class: u32) -> Result<Self, NtStatus> {
        match class {
            1 => Ok(DirClass::Directory),
            2 => Ok(DirClass::FullDirectory),
            3 => Ok(DirClass::BothDirectory),
            12 => Ok(DirClass::Names),
            _ => Err(NtStatus::INVALID_INFO_CLASS),
        }
    }

    /// The fixed part: the offset of `FileName`.
    pub const fn base_len(self) -> usize {
        match self {
            DirClass::Directory => 0x40,
            DirClass::FullDirectory => 0x44,
            DirClass::BothDirectory => 0x5E,
            DirClass::Names => 0x0C,
        }
    }
}

/// What one record says about a mailslot.
#[derive(Clone, Copy, Debug)]
pub struct DirEntry<'a> {
    /// Creation time (100 ns since 1601, as the kernel's system time); the engine reports it
    /// for all four time stamps.
    pub time: i64,
    /// Payload bytes queued, reported as EndOfFile and AllocationSize.
    pub queued_bytes: u64,
    /// The name relative to the root, UTF-16.
    pub name: &'a [u16],
}

/// Writes one record at the start of `out` with `NextEntryOffset` 0. Returns the bytes
/// written (fixed part plus the part of the name that fit) and whether the whole name fit.
/// `None` if not even the fixed part fits.
pub(crate) fn write_record(
    class: DirClass,
    entry: &DirEntry<'_>,
    out: &mut [u8],
) -> Option<(usize, bool)> {
    let base = class.base_len();
    let fixed = out.get_mut(..base)?;
    fixed.fill(0);
    let name_bytes = entry.name.len().checked_mul(2)?;
    let name_len = u32::try_from(name_bytes).ok()?;
    let size = i64::try_from(entry.queued_bytes)
        .unwrap_or(i64::MAX)
        .to_le_bytes();
    let time = entry.time.to_le_bytes();
    match class {
        DirClass::Names => put(out, 0x08, &name_len.to_le_bytes())?,
        DirClass::Directory | DirClass::FullDirectory | DirClass::BothDirectory => {
            for offset in [0x08, 0x10, 0x18, 0x20] {
                put(out, offset, &time)?;
            }
            put(out, 0x28, &size)?;
            put(out, 0x30, &size)?;
            put(out, 0x38, &FILE_ATTRIBUTE_NORMAL.to_le_bytes())?;
            put(out, 0x3C, &name_len.to_le_bytes())?;
            // EaSize and the empty short name stay zero.
        }
    }
    let room = out.len().checked_sub(base)?;
    let units_fit = core::cmp::min(entry.name.len(), room / 2);
    let mut offset = base;
    for unit in entry.name.iter().take(units_fit) {
        put(out, offset, &unit.to_le_bytes())?;
        offset = offset.checked_add(2)?;
    }
    Some((offset, units_fit == entry.name.len()))
}

/// Rounds up to the next multiple of 8, the alignment of every record.
pub(crate) fn align8(n: usize) -> Option<usize> {
    Some(n.checked_add(7)? & !7)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn name(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn classes_and_fixed_parts() {
        assert_eq!(DirClass::from_raw(1), Ok(DirClass::Directory));
        assert_eq!(DirClass::from_raw(2), Ok(DirClass::FullDirectory));
        assert_eq!(DirClass::from_raw(3), Ok(DirClass::BothDirectory));
        assert_eq!(DirClass::from_raw(12), Ok(DirClass::Names));
        for bad in [0, 4, 5, 26, 37, 38, u32::MAX] {
            assert_eq!(DirClass::from_raw(bad), Err(NtStatus::INVALID_INFO_CLASS));
        }
        // Offsets of FileName from kmdf-abi.md section 4.
        assert_eq!(DirClass::Directory.base_len(), 0x40);
        assert_eq!(DirClass::FullDirectory.base_len(), 0x44);
        assert_eq!(DirClass::BothDirectory.base_len(), 0x5E);
        assert_eq!(DirClass::Names.base_len(), 0x0C);
    }

    #[test]
    fn directory_record_fields() {
        let n = name("app\\x");
        let e = DirEntry {
            time: 0x0102030405060708,
            queued_bytes: 9,
            name: &n,
        };
        let mut out = [0xEEu8; 0x40 + 10 + 6];
        let (len, whole) = write_record(DirClass::Directory, &e, &mut out).unwrap();
        assert_eq!((len, whole), (0x40 + 10, true));
        assert_eq!(&out[0..8], &[0; 8], "NextEntryOffset and FileIndex");
        for o in [0x08, 0x10, 0x18, 0x20] {
            assert_eq!(&out[o..o + 8], &0x0102030405060708i64.to_le_bytes());
        }
        assert_eq!(&out[0x28..0x30], &9i64.to_le_bytes());
        assert_eq!(&out[0x30..0x38], &9i64.to_le_bytes());
        assert_eq!(&out[0x38..0x3C], &0x80u32.to_le_bytes());
        assert_eq!(&out[0x3C..0x40], &10u32.to_le_bytes());
        assert_eq!(&out[0x40..0x42], &[b'a', 0]);
        assert_eq!(&out[0x4A..], &[0xEE; 6], "nothing written past the record");
    }

    #[test]
    fn full_and_both_records_zero_ea_and_short_name() {
        let n = name("q");
        let e = DirEntry {
            time: 1,
            queued_bytes: 0,
            name: &n,
        };
        let mut out = [0xEEu8; 0x60];
        write_record(DirClass::FullDirectory, &e, &mut out).unwrap();
        assert_eq!(&out[0x40..0x44], &[0; 4]);
        assert_eq!(&out[0x44..0x46], &[b'q', 0]);
        let mut out = [0xEEu8; 0x60];
        write_record(DirClass::BothDirectory, &e, &mut out).unwrap();
        assert_eq!(
            &out[0x40..0x5E],
            &[0; 0x1E],
            "EaSize, ShortNameLength, ShortName"
        );
        assert_eq!(&out[0x5E..0x60], &[b'q', 0]);
    }

    #[test]
    fn names_record_and_truncation() {
        let n = name("abcdef");
        let e = DirEntry {
            time: 1,
            queued_bytes: 0,
            name: &n,
        };
        let mut out = [0u8; 0x0C + 5];
        let (len, whole) = write_record(DirClass::Names, &e, &mut out).unwrap();
        assert!(!whole);
        assert_eq!(len, 0x0C + 4, "only whole code units are copied");
        assert_eq!(
            &out[0x08..0x0C],
            &12u32.to_le_bytes(),
            "FileNameLength stays the full length"
        );
        assert!(write_record(DirClass::Names, &e, &mut [0u8; 0x0B]).is_none());
    }

    #[test]
    fn alignment() {
        assert_eq!(align8(0), Some(0));
        assert_eq!(align8(1), Some(8));
        assert_eq!(align8(0x4A), Some(0x50));
        assert_eq!(align8(usize::MAX), None);
    }
}
