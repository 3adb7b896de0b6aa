//! What each owner holds: the bytes charged to every requester identity, against a limit per
//! owner, so that one user exhausting its share leaves everyone else's requests working.
//!
//! An [`Owner`] is opaque to the engine: the kernel layer derives it from the requester's user
//! SID (a keyed hash of it), so the engine never sees or stores a SID.

use core::hash::Hasher;

use hashbrown::HashTable;
use siphasher::sip::SipHasher13;

use crate::status::NtStatus;

/// Who is charged: a keyed hash of the requester's user SID, made by the kernel layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Owner(pub u64);

impl Owner {
    /// The owner for a user SID given as its binary form (revision 1, at most 15
    /// sub-authorities, the length they imply): SipHash-1-3 of it under the engine's keys, so
    /// nobody can pick a SID to share another user's account. STATUS_INVALID_SID when `sid`
    /// is not one (or is longer than the SID it holds says).
    pub fn from_sid(keys: [u64; 2], sid: &[u8]) -> Result<Owner, NtStatus> {
        let len = sid_length(sid).ok_or(NtStatus::INVALID_SID)?;
        if len != sid.len() {
            return Err(NtStatus::INVALID_SID);
        }
        let [k0, k1] = keys;
        let mut state = SipHasher13::new_with_keys(k0, k1);
        state.write(sid);
        Ok(Owner(state.finish()))
    }
}

/// The length of the SID `bytes` starts with: 8 bytes of header and 4 per sub-authority, when
/// the header is a valid one's (revision 1, at most 15 sub-authorities) and the bytes hold it.
pub fn sid_length(bytes: &[u8]) -> Option<usize> {
    let (&revision, &count) = (bytes.first()?, bytes.get(1)?);
    if revision != 1 || count > 15 {
        return None;
    }
    let len = usize::from(count).checked_mul(4)?.checked_add(8)?;
    (bytes.len() >= len).then_some(len)
}

#[derive(Debug)]
struct Account {
    owner: Owner,
    used: u64,
}

/// Bytes charged per owner; an owner with nothing charged has no entry.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    accounts: HashTable<Account>,
}

fn hash(owner: Owner) -> u64 {
    // Owners are keyed hashes already; mixing them once more spreads any that are not.
    owner.0.rotate_left(29) ^ 0x9E37_79B9_7F4A_7C15
}

impl Ledger {
    /// What `owner` holds now.
    pub(crate) fn used(&self, owner: Owner) -> u64 {
        self.accounts
            .find(hash(owner), |a| a.owner == owner)
            .map_or(0, |a| a.used)
    }

    /// Whether `owner` may take `bytes` more under `limit`: STATUS_QUOTA_EXCEEDED if not.
    pub(crate) fn check(&self, owner: Owner, bytes: u64, limit: u64) -> Result<(), NtStatus> {
        self.used(owner)
            .checked_add(bytes)
            .filter(|&u| u <= limit)
            .map(|_| ())
            .ok_or(NtStatus::QUOTA_EXCEEDED)
    }

    /// Room for an account for `owner`, so that a later [`Ledger::charge`] cannot fail:
    /// STATUS_INSUFFICIENT_RESOURCES when memory runs out.
    pub(crate) fn reserve(&mut self, owner: Owner) -> Result<(), NtStatus> {
        if self
            .accounts
            .find(hash(owner), |a| a.owner == owner)
            .is_some()
        {
            return Ok(());
        }
        self.accounts
            .try_reserve(1, |a| hash(a.owner))
            .map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)
    }

    /// Adds `bytes` to `owner`'s account, opening it if needed (after [`Ledger::reserve`], or
    /// for an owner that already has one, this never allocates).
    pub(crate) fn charge(&mut self, owner: Owner, bytes: u64) {
        if bytes == 0 {
            return;
        }
        match self.accounts.find_mut(hash(owner), |a| a.owner == owner) {
            Some(a) => a.used = a.used.saturating_add(bytes),
            None => {
                self.accounts
                    .insert_unique(hash(owner), Account { owner, used: bytes }, |a| {
                        hash(a.owner)
                    });
            }
        }
    }

    /// Takes `bytes` off `owner`'s account, closing it at zero.
    pub(crate) fn release(&mut self, owner: Owner, bytes: u64) {
        if let Ok(mut entry) = self.accounts.find_entry(hash(owner), |a| a.owner == owner) {
            let left = entry.get().used.saturating_sub(bytes);
            if left == 0 {
                entry.remove();
            } else {
                entry.get_mut().used = left;
            }
        }
    }

    /// Every open account, for the audit.
    #[cfg(feature = "audit")]
    pub(crate) fn accounts(&self) -> impl Iterator<Item = (Owner, u64)> + '_ {
        self.accounts.iter().map(|a| (a.owner, a.used))
    }

    /// How many owners hold something.
    pub(crate) fn len(&self) -> usize {
        self.accounts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn owners_come_from_valid_sids_only() {
        // S-1-5-21-1-2-3-1001: revision 1, 5 sub-authorities.
        let mut sid = vec![1u8, 5, 0, 0, 0, 0, 0, 5];
        for s in [21u32, 1, 2, 3, 1001] {
            sid.extend_from_slice(&s.to_le_bytes());
        }
        let keys = [1, 2];
        let a = Owner::from_sid(keys, &sid).unwrap();
        assert_eq!(a, Owner::from_sid(keys, &sid).unwrap());
        // Another user, or the same under other keys, is another owner.
        let mut other = sid.clone();
        other[sid.len() - 4] = 0xEA;
        assert_ne!(Owner::from_sid(keys, &other).unwrap(), a);
        assert_ne!(Owner::from_sid([3, 4], &sid).unwrap(), a);
        assert_eq!(sid_length(&sid), Some(28));
        for bad in [
            &sid[..27],
            &[2, 5, 0, 0, 0, 0, 0, 5][..],
            &[1, 16][..],
            &[][..],
        ] {
            assert_eq!(
                Owner::from_sid(keys, bad),
                Err(NtStatus::INVALID_SID),
                "{bad:?}"
            );
        }
        let mut longer = sid.clone();
        longer.push(0);
        assert_eq!(Owner::from_sid(keys, &longer), Err(NtStatus::INVALID_SID));
    }

    #[test]
    fn charges_checks_and_releases_per_owner() {
        let (a, b) = (Owner(1), Owner(2));
        let mut l = Ledger::default();
        assert_eq!(l.check(a, 100, 100), Ok(()));
        assert_eq!(l.check(a, 101, 100), Err(NtStatus::QUOTA_EXCEEDED));
        l.reserve(a).unwrap();
        l.charge(a, 60);
        assert_eq!(l.used(a), 60);
        assert_eq!(l.check(a, 41, 100), Err(NtStatus::QUOTA_EXCEEDED));
        // Another owner's share is its own.
        assert_eq!(l.check(b, 100, 100), Ok(()));
        l.charge(b, 100);
        assert_eq!(l.len(), 2);
        l.release(a, 20);
        assert_eq!(l.used(a), 40);
        l.release(a, 40);
        assert_eq!((l.used(a), l.len()), (0, 1), "an empty account is closed");
        // Releasing more than is held, or for nobody, cannot underflow.
        l.release(b, 1000);
        l.release(Owner(3), 5);
        assert_eq!(l.len(), 0);
        assert_eq!(l.check(a, u64::MAX, u64::MAX), Ok(()));
        l.charge(a, 1);
        assert_eq!(
            l.check(a, u64::MAX, u64::MAX),
            Err(NtStatus::QUOTA_EXCEEDED)
        );
    }
}
