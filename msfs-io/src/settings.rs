//! The driver's limits, and how REG_DWORD values of the service's `Parameters` key override
//! them at load:
//!
//! - `QueuedMessagesMiB`: what all mailslots together may hold queued (1..=4096, default 64);
//! - `PerUserMiB`: what one user's mailslots may hold, names, queued messages and waiting
//!   reads together (1..=`QueuedMessagesMiB`, default 16, or the budget when that is less).
//!
//! A value outside its range is ignored (the default applies) and reported, never trusted.

/// The value names, as `reg add HKLM\SYSTEM\CurrentControlSet\Services\RsMailslot\Parameters
/// /v <name> /t REG_DWORD /d <MiB>` sets them.
pub const QUEUED_MESSAGES_MIB: &str = "QueuedMessagesMiB";
pub const PER_USER_MIB: &str = "PerUserMiB";

pub const DEFAULT_QUEUED_MESSAGES_MIB: u32 = 64;
pub const DEFAULT_PER_USER_MIB: u32 = 16;
pub const MAX_QUEUED_MESSAGES_MIB: u32 = 4096;

const MIB: u64 = 1 << 20;

/// The limits the engine is configured with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub budget_bytes: u64,
    pub owner_limit_bytes: u64,
}

/// A registry value that was there but not used, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ignored {
    pub name: &'static str,
    pub value: u32,
    pub why: &'static str,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from_values(None, None).0
    }
}

impl Limits {
    /// The limits for the values read (`None`: not set), and the values ignored.
    pub fn from_values(
        queued_mib: Option<u32>,
        per_user_mib: Option<u32>,
    ) -> (Limits, [Option<Ignored>; 2]) {
        let mut ignored = [None, None];
        let budget = match queued_mib {
            Some(v) if (1..=MAX_QUEUED_MESSAGES_MIB).contains(&v) => v,
            Some(v) => {
                ignored[0] = Some(Ignored {
                    name: QUEUED_MESSAGES_MIB,
                    value: v,
                    why: "outside 1..=4096",
                });
                DEFAULT_QUEUED_MESSAGES_MIB
            }
            None => DEFAULT_QUEUED_MESSAGES_MIB,
        };
        let per_user = match per_user_mib {
            Some(v) if (1..=budget).contains(&v) => v,
            Some(v) => {
                ignored[1] = Some(Ignored {
                    name: PER_USER_MIB,
                    value: v,
                    why: "outside 1..=QueuedMessagesMiB",
                });
                DEFAULT_PER_USER_MIB.min(budget)
            }
            None => DEFAULT_PER_USER_MIB.min(budget),
        };
        (
            Limits {
                budget_bytes: u64::from(budget).saturating_mul(MIB),
                owner_limit_bytes: u64::from(per_user).saturating_mul(MIB),
            },
            ignored,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_values_and_what_is_ignored() {
        let d = Limits::default();
        assert_eq!((d.budget_bytes, d.owner_limit_bytes), (64 << 20, 16 << 20));
        let (l, ig) = Limits::from_values(Some(128), Some(8));
        assert_eq!((l.budget_bytes, l.owner_limit_bytes), (128 << 20, 8 << 20));
        assert_eq!(ig, [None, None]);
        // A small budget caps the default share.
        let (l, _) = Limits::from_values(Some(4), None);
        assert_eq!(l.owner_limit_bytes, 4 << 20);
        // Out of range: ignored and reported, the defaults apply.
        for (q, u) in [
            (Some(0), Some(0)),
            (Some(4097), Some(65)),
            (Some(u32::MAX), Some(u32::MAX)),
        ] {
            let (l, ig) = Limits::from_values(q, u);
            assert_eq!(l, Limits::default(), "{q:?} {u:?}");
            assert!(ig[0].is_some() && ig[1].is_some(), "{q:?} {u:?}");
        }
        // A share larger than the budget is refused, not clamped.
        let (l, ig) = Limits::from_values(Some(32), Some(33));
        assert_eq!((l.budget_bytes, l.owner_limit_bytes), (32 << 20, 16 << 20));
        assert_eq!(ig[1].map(|i| i.name), Some(PER_USER_MIB));
    }
}
