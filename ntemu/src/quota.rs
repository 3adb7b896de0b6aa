//! Process pool quota: what `ExAllocatePool2` charges when a driver passes
//! POOL_FLAG_USE_QUOTA. Microsoft documents the flag as charging the allocation against the
//! current process; the charge stays with the block and returns to that process when the block
//! is freed, and an allocation past the process's limit fails (NULL, since the caller did not
//! ask to raise). A dispatch routine runs in the requester's thread, so the current process
//! while it runs is the IRP's requester ([`in_process`], set by the I/O manager's dispatch);
//! elsewhere (timers, DPCs, the system's own threads) nothing is charged, as a system thread's
//! allocations are not charged to a user process. Limits are per process (what a job object
//! sets on Windows); a process without one is unlimited.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Mutex;

thread_local! {
    static CURRENT: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Runs `f` in the context of process `pid` (a dispatch routine called for its request).
pub fn in_process<R>(pid: u32, f: impl FnOnce() -> R) -> R {
    let before = CURRENT.with(|c| c.replace(Some(pid)));
    let result = f();
    CURRENT.with(|c| c.set(before));
    result
}

/// The process whose context this thread runs in, if any.
pub fn current_process() -> Option<u32> {
    CURRENT.with(Cell::get)
}

#[derive(Debug, Default)]
struct State {
    limits: HashMap<u32, usize>,
    used: HashMap<u32, usize>,
    /// Block address → (process charged, bytes).
    blocks: HashMap<usize, (u32, usize)>,
}

/// Every process's limit and charge.
#[derive(Debug, Default)]
pub struct Quotas {
    state: Mutex<State>,
}

impl Quotas {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Limits process `pid`'s pool quota to `bytes`.
    pub fn set_limit(&self, pid: u32, bytes: usize) {
        self.lock().limits.insert(pid, bytes);
    }

    /// What process `pid` is charged now.
    pub fn used(&self, pid: u32) -> usize {
        self.lock().used.get(&pid).copied().unwrap_or(0)
    }

    /// Charges `size` bytes to `pid`: false (nothing charged) past its limit.
    pub(crate) fn charge(&self, pid: u32, size: usize) -> bool {
        let mut st = self.lock();
        let used = st.used.get(&pid).copied().unwrap_or(0);
        let Some(total) = used.checked_add(size) else {
            return false;
        };
        if st.limits.get(&pid).is_some_and(|&limit| total > limit) {
            return false;
        }
        st.used.insert(pid, total);
        true
    }

    /// Ties a charge made with [`Quotas::charge`] to the block at `addr`.
    pub(crate) fn attach(&self, addr: usize, pid: u32, size: usize) {
        self.lock().blocks.insert(addr, (pid, size));
    }

    /// Gives back what the block at `addr` was charged (if anything), as its free does; also
    /// what a charge whose allocation then failed took (`addr` None).
    pub(crate) fn release(&self, addr: Option<usize>, uncommitted: Option<(u32, usize)>) {
        let mut st = self.lock();
        let charge = match addr {
            Some(a) => st.blocks.remove(&a),
            None => uncommitted,
        };
        if let Some((pid, size)) = charge {
            let left = st.used.get(&pid).copied().unwrap_or(0).saturating_sub(size);
            if left == 0 {
                st.used.remove(&pid);
            } else {
                st.used.insert(pid, left);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_charge_past_the_limit_fails_and_a_free_gives_back() {
        let q = Quotas::default();
        q.set_limit(8, 100);
        assert!(q.charge(8, 60));
        q.attach(0x1000, 8, 60);
        assert!(!q.charge(8, 41), "60 + 41 is past 100");
        assert_eq!(q.used(8), 60);
        assert!(q.charge(8, 40));
        q.release(None, Some((8, 40)));
        assert!(q.charge(9, 1_000_000), "no limit");
        q.release(Some(0x1000), None);
        assert_eq!(q.used(8), 0);
        assert_eq!(current_process(), None);
        assert_eq!(in_process(8, current_process), Some(8));
        assert_eq!(current_process(), None);
    }
}
