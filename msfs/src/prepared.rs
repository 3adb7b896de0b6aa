//! A create's or open's name, made ready before the engine's lock is taken.
//!
//! Decoding, validating, copying and hashing a name all cost in proportion to its length (up to
//! 32,748 code units). The driver does them here, at PASSIVE_LEVEL with nothing held, so that
//! under the lock a create or open only looks the ready hash up and, on a hit, compares the
//! one candidate's name.

use alloc::vec::Vec;
use core::hash::Hasher;

use siphasher::sip::SipHasher13;

use crate::name::{hash_name, parse_target, Target};
use crate::status::NtStatus;

/// A decoded and validated name, with its units copied and its hash computed with the keys it
/// was prepared for.
#[derive(Debug, PartialEq, Eq)]
pub struct PreparedName {
    pub(crate) kind: Prepared,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Prepared {
    /// The device root; `empty` when the name had no characters at all (not even `\`).
    Root { empty: bool },
    /// A mailslot: its units (without the leading backslash, in the caller's case), and their
    /// case-folded hash under `keys`.
    Slot {
        units: Vec<u16>,
        hash: u64,
        keys: [u64; 2],
    },
}

impl PreparedName {
    /// Prepares `name` (the file object's UTF-16LE bytes) for an engine whose
    /// [`crate::Config::hash_keys`] are `keys`. Errors: the statuses of [`parse_target`], and
    /// STATUS_INSUFFICIENT_RESOURCES when the copy cannot be allocated.
    pub fn prepare(name: &[u8], keys: [u64; 2]) -> Result<PreparedName, NtStatus> {
        let kind = match parse_target(name)? {
            Target::Root => Prepared::Root {
                empty: name.is_empty(),
            },
            Target::Slot(n) => {
                let mut units = Vec::new();
                units
                    .try_reserve_exact(n.len_units())
                    .map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
                units.extend(n.units());
                let hash = hash_units(keys, units.iter().copied());
                Prepared::Slot { units, hash, keys }
            }
        };
        Ok(PreparedName { kind })
    }

    /// True for the device root.
    pub fn is_root(&self) -> bool {
        matches!(self.kind, Prepared::Root { .. })
    }
}

/// The name table's hash of a name: SipHash-1-3 of its case-folded units.
pub(crate) fn hash_units(keys: [u64; 2], units: impl Iterator<Item = u16>) -> u64 {
    let [k0, k1] = keys;
    let mut state = SipHasher13::new_with_keys(k0, k1);
    hash_name(units, &mut state);
    state.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn roots_slots_and_errors() {
        let keys = [1, 2];
        let empty = PreparedName::prepare(&[], keys).unwrap();
        assert_eq!(empty.kind, Prepared::Root { empty: true });
        let root = PreparedName::prepare(&utf16("\\"), keys).unwrap();
        assert_eq!(root.kind, Prepared::Root { empty: false });
        assert!(root.is_root());
        let slot = PreparedName::prepare(&utf16("\\App\\Events"), keys).unwrap();
        let Prepared::Slot { units, hash, .. } = &slot.kind else {
            panic!("not a slot: {slot:?}");
        };
        assert_eq!(String::from_utf16(units).unwrap(), "App\\Events");
        // The hash ignores case, as names do.
        let lower = PreparedName::prepare(&utf16("\\app\\EVENTS"), keys).unwrap();
        let Prepared::Slot { hash: other, .. } = lower.kind else {
            panic!("not a slot");
        };
        assert_eq!(*hash, other);
        assert_eq!(
            PreparedName::prepare(&utf16("\\a\\..\\b"), keys),
            Err(NtStatus::OBJECT_NAME_INVALID)
        );
        assert_eq!(
            PreparedName::prepare(&[0x5C, 0, 0x41], keys),
            Err(NtStatus::OBJECT_NAME_INVALID)
        );
    }
}
