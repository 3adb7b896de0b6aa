//! The benchmark report: every figure of BENCHMARKS.md, measured in one run so the ratios hold
//! on a shared, noisy machine, and checked against the goals.
//!
//!     cargo bench -p msfs --bench report            # the full run (about a minute)
//!     cargo bench -p msfs --bench report -- --quick # the test command's smoke run
//!
//! Times are medians of batches (each batch long enough to dwarf the clock); memory comes from
//! a counting global allocator, so it is exact and independent of the machine.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

struct Timing {
    batches: usize,
    batch: Duration,
}

/// Nanoseconds per call over the batches: the fastest batch and the median one.
#[derive(Clone, Copy)]
struct Spread {
    min: f64,
    median: f64,
}

impl Timing {
    /// `f` and `g` measured in alternating batches, so both see the same machine at the same
    /// moments: a ratio of the two is then stable between runs where two separate
    /// measurements are not.
    fn interleaved(&self, mut f: impl FnMut(), mut g: impl FnMut()) -> (Spread, Spread) {
        let (nf, ng) = (self.calibrate(&mut f), self.calibrate(&mut g));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..self.batches {
            a.push(Self::batch(&mut f, nf));
            b.push(Self::batch(&mut g, ng));
        }
        (Self::spread(a), Self::spread(b))
    }

    fn batch(f: &mut impl FnMut(), n: u64) -> f64 {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        t.elapsed().as_nanos() as f64 / n as f64
    }

    fn spread(mut samples: Vec<f64>) -> Spread {
        samples.sort_by(f64::total_cmp);
        Spread {
            min: samples[0],
            median: samples[samples.len() / 2],
        }
    }

    /// How many calls of `f` fill one batch.
    fn calibrate(&self, f: &mut impl FnMut()) -> u64 {
        let mut n = 1u64;
        loop {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            if t.elapsed() >= self.batch / 4 || n >= 1 << 24 {
                return (n * 4).max(1);
            }
            n *= 2;
        }
    }

    /// Median nanoseconds per call of `f`.
    fn ns(&self, mut f: impl FnMut()) -> f64 {
        // Calibrate: how many calls fill one batch.
        let mut n = 1u64;
        loop {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            if t.elapsed() >= self.batch / 4 || n >= 1 << 24 {
                n = (n * 4).max(1);
                break;
            }
            n *= 2;
        }
        let mut samples: Vec<f64> = (0..self.batches)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..n {
                    f();
                }
                t.elapsed().as_nanos() as f64 / n as f64
            })
            .collect();
        samples.sort_by(f64::total_cmp);
        samples[samples.len() / 2]
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let timing = if quick {
        Timing {
            batches: 5,
            batch: Duration::from_millis(2),
        }
    } else {
        Timing {
            batches: 21,
            batch: Duration::from_millis(20),
        }
    };
    let big_slots = if quick { 20_000 } else { 100_000 };
    println!(
        "msfs engine benchmark report{}",
        if quick {
            " (quick mode: fewer samples, 20,000 slots)"
        } else {
            ""
        }
    );
    println!();

    // 1. Write-then-read against the alternatives.
    println!("1. write+read, ns per message (engine and floor interleaved: median, min)");
    println!(
        "{:>7} {:>10} {:>10} {:>10} {:>10} {:>11} {:>10} {:>13} {:>12} {:>10}",
        "bytes",
        "engine",
        "eng min",
        "floor",
        "floor min",
        "unix dgram",
        "posix mq",
        "engine/dgram",
        "engine/floor",
        "min/min"
    );
    let mut dgram_ratio_64 = f64::NAN;
    let mut copy_ratio_64k = f64::NAN;
    for size in SIZES {
        let data = vec![7u8; size];
        let mut a = vec![0u8; size.max(1)];
        let mut w = World::new(1, Some(0));
        let (mut out, mut floor_out) = (vec![0u8; size], vec![0u8; size]);
        let (engine_spread, floor) = timing.interleaved(
            || {
                w.write_read(&data, &mut out);
            },
            || {
                copy_twice(&data, &mut floor_out);
            },
        );
        let (engine, copy) = (engine_spread.median, floor.median);
        let d = Dgram::new();
        let dgram = timing.ns(|| {
            d.send_recv(&data, &mut a);
        });
        let mq = Mq::new(size).map(|q| {
            timing.ns(|| {
                q.send_recv(&data, &mut a);
            })
        });
        let mq_text = mq.map_or("n/a".to_string(), |v| format!("{v:.0}"));
        println!(
            "{size:>7} {engine:>10.1} {:>10.1} {copy:>10.1} {:>10.1} {dgram:>11.0} {mq_text:>10} {:>13.4} {:>12.2} {:>10.2}",
            engine_spread.min,
            floor.min,
            engine / dgram,
            engine / copy,
            engine_spread.min / floor.min
        );
        if size == 64 {
            dgram_ratio_64 = engine / dgram;
        }
        if size == 65_536 {
            copy_ratio_64k = engine / copy;
        }
    }
    println!("   (posix mq n/a: the system's msgsize_max refuses that size)");
    println!();

    // 2. Memory per queued message.
    let count = 100_000;
    let mut w = World::new(1, Some(0));
    let (a0, b0) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        LIVE_BYTES.load(Ordering::Relaxed),
    );
    w.queue(count, 64);
    let (a1, b1) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        LIVE_BYTES.load(Ordering::Relaxed),
    );
    let mut read_bytes = 0;
    for _ in 0..count {
        if let Ok(msfs::ReadOutcome::Message(m)) = w.e.read(&w.server, 64) {
            read_bytes += m.len();
            drop(m);
        }
    }
    let a2 = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(read_bytes, count * 64);
    let allocs_per_msg = (a1 - a0) as f64 / count as f64;
    let bytes_per_msg = (b1 - b0) as f64 / count as f64;
    let overhead = bytes_per_msg - 64.0;
    println!("2. memory per queued 64-byte message ({count} queued, counting allocator)");
    println!("   allocations per message: {allocs_per_msg:.5}   (queue growth included)");
    println!("   heap bytes per message:  {bytes_per_msg:.1}   overhead {overhead:.1} bytes");
    println!("   allocations during {count} reads: {}", a2 - a1);
    println!();

    // 3. Scaling with the number of live mailslots.
    println!("3. scaling, ns per operation");
    let slot_counts = [10, 1_000, big_slots];
    println!(
        "{:>16} {:>10} {:>10} {:>10} {:>8}",
        "operation", slot_counts[0], slot_counts[1], slot_counts[2], "big:10"
    );
    let mut rows: Vec<(&str, Vec<f64>)> = vec![
        ("create+delete", vec![]),
        ("open+close", vec![]),
        ("write+read 64", vec![]),
        ("enumerate/entry", vec![]),
    ];
    let mut buf = vec![0u8; 65_536];
    let data = [1u8; 64];
    let mut out = [0u8; 64];
    for &n in &slot_counts {
        let mut w = World::new(n, Some(0));
        rows[0].1.push(timing.ns(|| w.create_delete()));
        rows[1].1.push(timing.ns(|| w.open_close()));
        rows[2].1.push(timing.ns(|| {
            w.write_read(&data, &mut out);
        }));
        let entries = w.enumerate(&mut buf);
        assert_eq!(entries, n);
        rows[3].1.push(
            timing.ns(|| {
                w.enumerate(&mut buf);
            }) / n as f64,
        );
    }
    let mut worst_ratio: f64 = 0.0;
    for (name, v) in &rows {
        let ratio = v[2] / v[0];
        worst_ratio = worst_ratio.max(ratio);
        println!(
            "{name:>16} {:>10.1} {:>10.1} {:>10.1} {ratio:>8.2}",
            v[0], v[1], v[2]
        );
    }
    let mut queued_times = Vec::new();
    for queued in [1usize, 100_000] {
        let mut w = World::new(1, Some(0));
        w.queue(queued, 64);
        queued_times.push(timing.ns(|| {
            w.write_read(&data, &mut out);
        }));
    }
    println!(
        "   write+read 64 with 1 / 100,000 messages queued: {:.1} / {:.1} ns (ratio {:.2})",
        queued_times[0],
        queued_times[1],
        queued_times[1] / queued_times[0]
    );
    println!();

    // 4. The pending-read path.
    let mut w = World::new(1, Some(-10_000_000));
    let deliver = timing.ns(|| {
        w.pend_then_deliver(&data);
    });
    let expire = timing.ns(|| {
        w.pend_then_expire();
    });
    println!("4. pending reads, ns per cycle");
    println!("   read pends, then a 64-byte write completes it: {deliver:.1}");
    println!("   read pends, then its timer expires:            {expire:.1}");
    println!();

    println!("goals");
    println!(
        "   engine write+read <= 1/10 of the AF_UNIX round trip at 64 B: {dgram_ratio_64:.4} -> {}",
        verdict(dgram_ratio_64 <= 0.1)
    );
    println!(
        "   within 2x of the copy floor at 64 KiB:                       {copy_ratio_64k:.2} -> {}",
        verdict(copy_ratio_64k <= 2.0)
    );
    println!(
        "   <= 32 bytes overhead per queued 64-byte message:             {overhead:.1} -> {}",
        verdict(overhead <= 32.0)
    );
    println!(
        "   {big_slots}:10 slot ratio <= 1.5 (worst operation):        {worst_ratio:.2} -> {}",
        verdict(worst_ratio <= 1.5)
    );
}
