//! A create's or open's name, made ready before the engine's lock is taken.
//!
//! Decoding, validating, copying and hashing a name all cost in proportion to its length (up to
//! 32,748 code units). The driver does them here, at PASSIVE_LEVEL with nothing held, so that
//! under the lock a create or open only looks the ready hash up and, on a hit, compares the
//! one candidate's name.

use alloc::vec::Vec;
use core::hash::Hasher;

use siphasher::sip::SipHasher13;

use crate::fold::folded_units;
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
    /// A mailslot: its units (without the leading backslash, in the caller's case), the same
    /// case-folded, and the hash of the folded units under `keys`.
    Slot {
        units: Vec<u16>,
        folded: Vec<u16>,
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
                let units = copy_of(n.units(), n.len_units())?;
                // Simple case folding keeps a name's length in UTF-16 units but for the few
                // code points whose folding crosses planes; the reservation is a hint.
                let folded = copy_of(folded_units(n.units()), n.len_units())?;
                let hash = hash_folded(keys, &folded);
                Prepared::Slot {
                    units,
                    folded,
                    hash,
                    keys,
                }
            }
        };
        Ok(PreparedName { kind })
    }

    /// The same name with its hash under `keys` (recomputed only when it was prepared for
    /// other keys).
    pub(crate) fn rekeyed(mut self, keys: [u64; 2]) -> PreparedName {
        if let Prepared::Slot {
            folded,
            hash,
            keys: k,
            ..
        } = &mut self.kind
        {
            if *k != keys {
                *hash = hash_folded(keys, folded);
                *k = keys;
            }
        }
        self
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

/// [`hash_units`] of a name whose folded units are `folded` (folding twice changes nothing).
pub(crate) fn hash_folded(keys: [u64; 2], folded: &[u16]) -> u64 {
    let [k0, k1] = keys;
    let mut state = SipHasher13::new_with_keys(k0, k1);
    for &unit in folded {
        state.write_u16(unit);
    }
    state.finish()
}

/// The units of `units` in a fresh vector, `hint` of them reserved first, without panicking
/// when memory runs out.
fn copy_of(units: impl Iterator<Item = u16>, hint: usize) -> Result<Vec<u16>, NtStatus> {
    let mut out = Vec::new();
    out.try_reserve_exact(hint)
        .map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
    for unit in units {
        if out.len() == out.capacity() {
            out.try_reserve(1)
                .map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
        }
        out.push(unit);
    }
    Ok(out)
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
        let Prepared::Slot {
            units,
            folded,
            hash,
            keys: k,
        } = &slot.kind
        else {
            panic!("not a slot: {slot:?}");
        };
        assert_eq!(String::from_utf16(units).unwrap(), "App\\Events");
        assert_eq!(String::from_utf16(folded).unwrap(), "app\\events");
        // The hash of the folded units is the table's hash of the name.
        assert_eq!(*hash, hash_units(*k, units.iter().copied()));
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
