//! Every allocation on the engine's paths is fallible, and a failed one leaves the state exactly
//! as it was and reports STATUS_INSUFFICIENT_RESOURCES.
//!
//! The test binary's global allocator can be armed, per thread, to fail the Nth allocation
//! from now. Each operation is run from the same starting state for N = 0, 1, 2, ... until it
//! completes without reaching its Nth allocation; every failing run must return
//! STATUS_INSUFFICIENT_RESOURCES and leave a snapshot (`Msfs::audit`) identical to the one
//! taken before. An infallible allocation inside the engine would abort the whole binary
//! (`handle_alloc_error`), so merely finishing proves there is none on these paths.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::*;
use msfs::{Access, DirQuery, Handle, Msfs, NtStatus, ReadOutcome};

struct FailingAlloc;

thread_local! {
    /// Allocations still allowed before one fails; `None` when disarmed.
    static BUDGET: Cell<Option<usize>> = const { Cell::new(None) };
    /// Whether the armed failure happened.
    static FIRED: Cell<bool> = const { Cell::new(false) };
    /// Allocations seen while armed.
    static SEEN: Cell<usize> = const { Cell::new(0) };
}

fn should_fail() -> bool {
    BUDGET
        .try_with(|b| match b.get() {
            None => false,
            Some(0) => {
                b.set(None);
                FIRED.with(|f| f.set(true));
                true
            }
            Some(n) => {
                b.set(Some(n - 1));
                SEEN.with(|s| s.set(s.get() + 1));
                false
            }
        })
        .unwrap_or(false)
}

// SAFETY: every call is forwarded unchanged to the system allocator, except that some
// allocations return null, which the GlobalAlloc contract allows to signal failure.
unsafe impl GlobalAlloc for FailingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if should_fail() {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller upholds `alloc`'s contract, passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if should_fail() {
            return std::ptr::null_mut();
        }
        // SAFETY: as for `dealloc`, and the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: FailingAlloc = FailingAlloc;

fn arm(n: usize) {
    FIRED.with(|f| f.set(false));
    SEEN.with(|s| s.set(0));
    BUDGET.with(|b| b.set(Some(n)));
}

/// Disarms; returns whether the failure fired and the allocations seen while armed.
fn disarm() -> (bool, usize) {
    BUDGET.with(|b| b.set(None));
    (FIRED.with(Cell::get), SEEN.with(Cell::get))
}

/// Runs `op` against a fresh `setup()` for every failure point; returns how many allocations
/// the successful run made.
fn every_failure_point<S, T: std::fmt::Debug>(
    what: &str,
    setup: impl Fn() -> S,
    engine_of: impl Fn(&S) -> &Msfs,
    mut op: impl FnMut(&mut S) -> Result<T, NtStatus>,
) -> usize {
    for n in 0.. {
        let mut state = setup();
        let before = engine_of(&state).audit();
        arm(n);
        let result = op(&mut state);
        let (fired, seen) = disarm();
        let after = engine_of(&state).audit();
        engine_of(&state).check_invariants().unwrap();
        if fired {
            assert_eq!(
                result.as_ref().map(|_| ()).unwrap_err(),
                &NtStatus::INSUFFICIENT_RESOURCES,
                "{what}: allocation {n} failed but the result was {result:?}"
            );
            assert_eq!(
                before, after,
                "{what}: allocation {n} failed and the state changed"
            );
        } else {
            assert!(
                result.is_ok(),
                "{what}: {result:?} with no failure injected"
            );
            assert_ne!(before, after, "{what}: the successful run changed nothing");
            return seen;
        }
    }
    unreachable!()
}

struct World {
    e: Msfs,
    server: Handle,
    client: Handle,
}

fn world(messages: usize, pending: usize) -> World {
    let mut e = engine();
    // Other slots so the name table and slab are not trivially empty.
    for i in 0..5 {
        let h = server(&mut e, &format!("\\other{i}"), 0, Some(0));
        std::mem::forget(h);
    }
    let server = server(&mut e, "\\target", 0, None);
    let client = client(&mut e, "\\target");
    for i in 0..messages {
        write(&mut e, &client, &[i as u8; 3]).unwrap();
    }
    for _ in 0..pending {
        pend(&mut e, &server, 1);
    }
    World { e, server, client }
}

#[test]
fn create_server_fails_cleanly_at_every_allocation() {
    let allocations = every_failure_point("create", || world(2, 0), |w| &w.e, {
        let name = utf16("\\New\\Slot");
        move |w: &mut World| {
            w.e.create_server(&name, &params(0, 0, None), Access::READ, 1)
        }
    });
    assert!(allocations >= 1, "the name needs storage");
}

#[test]
fn create_into_a_full_table_fails_cleanly_while_growing() {
    // Enough slots that the next create must grow the slab, the order and the name table.
    let setup = || {
        let mut e = engine();
        let mut handles = Vec::new();
        for i in 0..28 {
            handles.push(server(&mut e, &format!("\\s{i}"), 0, Some(0)));
        }
        (e, handles)
    };
    let mut grew = 0;
    let name = utf16("\\grow");
    for extra in 0..8 {
        let n = every_failure_point(
            "create while growing",
            || {
                let (mut e, h) = setup();
                for i in 0..extra {
                    std::mem::forget(server(&mut e, &format!("\\x{i}"), 0, Some(0)));
                }
                (e, h)
            },
            |s| &s.0,
            |s| {
                s.0.create_server(&name, &params(0, 0, None), Access::READ, 0)
            },
        );
        grew = grew.max(n);
    }
    assert!(
        grew >= 3,
        "some of these creates had to grow several structures ({grew})"
    );
}

#[test]
fn client_open_allocates_nothing() {
    let name = utf16("\\TARGET");
    let n = every_failure_point(
        "open",
        || world(0, 0),
        |w| &w.e,
        |w| w.e.open(&name, Access::WRITE),
    );
    assert_eq!(n, 0);
    let n = every_failure_point(
        "open root",
        || world(0, 0),
        |w| &w.e,
        |w| w.e.open(&[], Access::READ),
    );
    assert_eq!(n, 0);
}

#[test]
fn queued_write_fails_cleanly_and_makes_one_allocation_when_the_queue_has_room() {
    for queued in [0, 1, 3, 4, 7, 8] {
        let n = every_failure_point(
            "write",
            || world(queued, 0),
            |w| &w.e,
            |w| {
                w.e.write(&w.client, b"payload", |_, _| panic!("no pending read"))
            },
        );
        assert!(
            (1..=2).contains(&n),
            "write after {queued}: {n} allocations"
        );
    }
    // Zero-length messages need no payload storage: at most the queue's growth.
    let n = every_failure_point(
        "empty write",
        || world(1, 0),
        |w| &w.e,
        |w| w.e.write(&w.client, b"", |_, _| panic!()),
    );
    assert!(n <= 1);
}

#[test]
fn the_two_halves_of_a_write_allocate_nothing_but_the_queues_growth() {
    // What a driver does under its lock: admit, then hand over a message made beforehand. With
    // room in the queue neither half allocates; growing it is the only allocation, and its
    // failure changes nothing.
    for queued in [1, 4] {
        let n = every_failure_point(
            "admit and hand over",
            || {
                (
                    world(queued, 0),
                    msfs::Message::copy_from(b"payload").unwrap(),
                )
            },
            |(w, _)| &w.e,
            |(w, message)| {
                let admitted = w.e.write_or_admit(&w.client, b"payload", |_, _| panic!())?;
                assert_eq!(admitted, msfs::Written::NeedsMessage);
                let message = std::mem::take(message);
                let (r, back) = w.e.write_message(&w.client, message, |_, _| panic!());
                // A refused message comes back to be freed after the lock.
                assert_eq!(back.is_some(), r.is_err());
                r
            },
        );
        assert!(n <= 1, "after {queued} queued: {n} allocations");
    }
}

#[test]
fn write_that_fails_pending_reads_is_all_or_nothing() {
    // Pending reads with 1-byte buffers: the 7-byte message fits none, so they fail and the
    // message is queued, but only once its storage was obtained.
    let mut completions = 0;
    every_failure_point(
        "write over pending",
        || world(0, 3),
        |w| &w.e,
        |w| {
            let mut local = 0;
            let r = w.e.write(&w.client, b"payload", |_, _| local += 1);
            if r.is_err() {
                assert_eq!(local, 0, "no read was completed by a failed write");
            }
            completions = local;
            r
        },
    );
    assert_eq!(completions, 3);
}

#[test]
fn direct_delivery_allocates_nothing() {
    let n = every_failure_point(
        "deliver",
        || world(0, 1),
        |w| &w.e,
        |w| w.e.write(&w.client, b"x", |_, _| {}),
    );
    assert_eq!(n, 0);
}

#[test]
fn read_of_a_queued_message_allocates_nothing() {
    let n = every_failure_point(
        "read",
        || world(2, 0),
        |w| &w.e,
        |w| w.e.read(&w.server, 16),
    );
    assert_eq!(n, 0);
}

#[test]
fn pending_read_fails_cleanly_at_every_allocation() {
    for already in [0, 1, 3, 4] {
        let n = every_failure_point(
            "pend",
            || world(0, already),
            |w| &w.e,
            |w| match w.e.read(&w.server, 16)? {
                ReadOutcome::Pending { id, .. } => Ok(id),
                other => panic!("{other:?}"),
            },
        );
        assert!(n <= 1);
    }
}

#[test]
fn directory_pattern_storage_fails_cleanly() {
    let setup = || {
        let mut w = world(0, 0);
        let root = w.e.open(&[], Access::READ).unwrap();
        (w, root)
    };
    let pattern = utf16("t*");
    let n = every_failure_point(
        "dir",
        setup,
        |s| &s.0.e,
        |s| {
            let q = DirQuery {
                class: 12,
                restart_scan: true,
                return_single_entry: false,
                pattern: Some(&pattern),
            };
            let mut buf = [0u8; 256];
            let r = s.0.e.query_directory(&mut s.1, &q, &mut buf);
            if r.status == NtStatus::INSUFFICIENT_RESOURCES {
                return Err(r.status);
            }
            assert_eq!(r.status, NtStatus::SUCCESS);
            // Directory queries change no engine state; make the success visible to the harness.
            s.0.e.write(&s.0.client, b"", |_, _| {}).map(|_| r)
        },
    );
    assert!(n >= 1);
}

#[test]
fn cleanup_and_close_allocate_nothing() {
    let n = every_failure_point(
        "cleanup",
        || world(3, 0),
        |w| &w.e,
        |w| {
            w.e.cleanup(&w.server, |_, _| {});
            Ok::<_, NtStatus>(())
        },
    );
    assert_eq!(n, 0);
    let n = every_failure_point(
        "cleanup with pending",
        || world(0, 2),
        |w| &w.e,
        |w| {
            let mut cancelled = 0;
            w.e.cleanup(&w.server, |_, _| cancelled += 1);
            assert_eq!(cancelled, 2);
            Ok::<_, NtStatus>(())
        },
    );
    assert_eq!(n, 0);
}

#[test]
fn failed_pattern_storage_leaves_the_scan_where_it_was() {
    let mut e = engine();
    for name in ["\\a", "\\b", "\\c"] {
        std::mem::forget(server(&mut e, name, 0, Some(0)));
    }
    let mut root = e.open(&[], Access::READ).unwrap();
    let single = DirQuery {
        class: 12,
        restart_scan: false,
        return_single_entry: true,
        pattern: None,
    };
    let mut buf = [0u8; 64];
    let r = e.query_directory(&mut root, &single, &mut buf);
    assert_eq!((r.status, &buf[12..14]), (NtStatus::SUCCESS, &b"a\0"[..]));
    let pattern = utf16("c*");
    let restart = DirQuery {
        restart_scan: true,
        pattern: Some(&pattern),
        ..single
    };
    arm(0);
    let r = e.query_directory(&mut root, &restart, &mut buf);
    let (fired, _) = disarm();
    assert!(fired);
    assert_eq!(r.status, NtStatus::INSUFFICIENT_RESOURCES);
    let r = e.query_directory(&mut root, &single, &mut buf);
    assert_eq!(
        (r.status, &buf[12..14]),
        (NtStatus::SUCCESS, &b"b\0"[..]),
        "neither restarted nor filtered"
    );
}
