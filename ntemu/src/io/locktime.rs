//! How long the driver holds each spin lock: every acquire and release the driver makes goes
//! through the emulated KeAcquireSpinLockRaiseToDpc/KeReleaseSpinLock, which report here.
//! Figures for BENCHMARKS.md read the longest and total hold per lock; a benchmark that needs
//! a count rather than a time counts instructions around the same calls (`bench`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Holds {
    pub count: u64,
    pub longest: Duration,
    pub total: Duration,
}

static HOLDS: Mutex<Option<HashMap<usize, Holds>>> = Mutex::new(None);

thread_local! {
    static SINCE: RefCell<Vec<(usize, Instant)>> = const { RefCell::new(Vec::new()) };
}

pub fn acquired(lock: usize) {
    SINCE.with(|s| s.borrow_mut().push((lock, Instant::now())));
}

pub fn released(lock: usize) {
    let Some(start) = SINCE.with(|s| {
        let mut s = s.borrow_mut();
        let i = s.iter().rposition(|&(l, _)| l == lock)?;
        Some(s.remove(i).1)
    }) else {
        return;
    };
    let held = start.elapsed();
    let mut all = HOLDS.lock().unwrap_or_else(|e| e.into_inner());
    let h = all
        .get_or_insert_with(HashMap::new)
        .entry(lock)
        .or_default();
    h.count += 1;
    h.total += held;
    h.longest = h.longest.max(held);
}

/// Per-lock figures so far, and a reset.
pub fn take() -> HashMap<usize, Holds> {
    HOLDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_default()
}
