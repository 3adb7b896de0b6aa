//! Concurrency stress against the real rsmailslot.sys: writer threads on their own clients, a
//! reader whose reads time out and race the writes, and a second reader whose overlapped reads
//! are cancelled while writes complete them, with the timers' DPCs running on the emulated
//! processors' threads. Every message must arrive exactly once, intact, and in its writer's
//! order within each reader; afterwards the driver holds nothing but what it held before.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use ntemu::kernel32::Variant;
use ntemu::se::Token;
use ntemu::system::Emulated;
use ntemu::{Config, Machine};
use usermode_test::system::Api;

mod common;

const WRITERS: usize = 4;
const PER_WRITER: u32 = 400;
const ERROR_SEM_TIMEOUT: u32 = 121;
const STATUS_IO_TIMEOUT: i32 = 0xC000_00B5_u32 as i32;
const ERROR_OPERATION_ABORTED: u32 = 995;
const GENERIC_WRITE: u32 = 0x4000_0000;
const SHARE_READ_WRITE: u32 = 3;

/// Writer, sequence number, then a body that depends on both (so a torn or misdelivered
/// message cannot pass for another), 0 to 600 bytes long.
fn message(writer: u8, seq: u32) -> Vec<u8> {
    let len = (seq as usize * 37 + writer as usize * 101) % 601;
    let mut m = vec![writer];
    m.extend_from_slice(&seq.to_le_bytes());
    m.extend((0..len).map(|i| (i as u32 ^ seq ^ (u32::from(writer) * 7)) as u8));
    m
}

fn parse(m: &[u8]) -> (u8, u32) {
    assert!(m.len() >= 5, "a message of {} bytes", m.len());
    let (w, seq) = (m[0], u32::from_le_bytes([m[1], m[2], m[3], m[4]]));
    assert_eq!(m, message(w, seq), "message {w}/{seq} arrived altered");
    (w, seq)
}

/// What one reader got: messages in the order it got them.
#[derive(Default)]
struct Got(Vec<(u8, u32)>);

impl Got {
    fn check_order(&self, who: &str) {
        let mut last = [None::<u32>; WRITERS];
        for &(w, seq) in &self.0 {
            let prev = last[w as usize].replace(seq);
            assert!(
                prev < Some(seq),
                "{who} got writer {w}'s {seq} after {prev:?}"
            );
        }
    }
}

#[test]
fn writers_readers_cancels_and_timeouts_race() {
    let mut config = Config::new(common::image());
    config.processors = 2;
    let m = Machine::new(config).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    // The engine keeps its tables' capacity once grown, so the first round sets the level
    // every later round must come back to: a round that leaves more behind leaks.
    round(m, 1);
    let settled = m.pool.usage();
    println!("after round 1: {settled:?}");
    round(m, 2);
    let kept: Vec<String> = m
        .pool
        .driver_blocks()
        .iter()
        .map(|b| format!("{} bytes at {}", b.size, ntemu::machine::describe(b.site)))
        .collect();
    let after = m.pool.usage();
    assert_eq!(
        (after.driver_blocks, after.driver_bytes),
        (settled.driver_blocks, settled.driver_bytes),
        "the second round left more behind than the first: {kept:#?}"
    );
    m.unload();
    m.shutdown();
}

fn round(m: &'static Machine, n: u32) {
    // ReactOS's kernel32 gives the server an asynchronous handle, so both readers can use it.
    let sys = Emulated::new(m, Token::standard_user(1001), Variant::ReactOs);
    let api = Api(&sys);
    let name = r"\\.\RsMailslot\stress\slot";
    // A short read timeout: the NtReadFile reader's waits keep expiring on the timer thread while
    // writers are completing them.
    let server = api
        .create_mailslot(Some(name), 0, 2)
        .expect("CreateMailslotW");
    let total = WRITERS * PER_WRITER as usize;
    let received = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    let timeouts = AtomicUsize::new(0);
    let (cancelled, completed_despite_cancel) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let plain = Mutex::new(Got::default());
    let overlapped = Mutex::new(Got::default());
    let pause = Barrier::new(WRITERS);
    let started = Instant::now();
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let (api, pause, server_raw) = (api, &pause, server.raw());
            s.spawn(move || {
                let client = api
                    .open(name, GENERIC_WRITE, SHARE_READ_WRITE, false)
                    .expect("CreateFileW");
                for seq in 0..PER_WRITER {
                    let msg = message(w as u8, seq);
                    assert_eq!(api.write(client.raw(), &msg), Ok(msg.len() as u32));
                    // Short pauses, and every writer pausing together now and then, let the
                    // slot run empty, so reads pend and writes, timers and cancels race to
                    // complete them.
                    if seq % 8 == 0 {
                        std::thread::sleep(Duration::from_micros(200 * (w as u64 + 1)));
                    }
                    if seq % 25 == 24 {
                        // Every writer waits until the readers have drained the slot, then
                        // longer than the read timeout: reads pend, time out and are cancelled.
                        pause.wait();
                        while api.info(server_raw).map(|i| i.count) != Ok(0) {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                        std::thread::sleep(Duration::from_millis(8));
                        pause.wait();
                    }
                }
            });
        }
        s.spawn(|| {
            // NtReadFile with an event of its own: with two reads outstanding on one file
            // object, waiting on the file handle (what ReadFile does without an OVERLAPPED on
            // an asynchronous handle) can miss its completion, on Windows as here, since every
            // new request clears the file object's event.
            while !done.load(Ordering::SeqCst) {
                let mut read = api.nt_read(server.raw(), 1024, true);
                assert!(read.wait(30_000), "NtReadFile never completed");
                match read.final_status() {
                    0 => {
                        plain.lock().unwrap().0.push(parse(&read.data()));
                        received.fetch_add(1, Ordering::SeqCst);
                    }
                    STATUS_IO_TIMEOUT => {
                        timeouts.fetch_add(1, Ordering::Relaxed);
                    }
                    s => panic!("NtReadFile: {s:#010x}"),
                }
            }
        });
        s.spawn(|| {
            let mut round = 0u32;
            while !done.load(Ordering::SeqCst) {
                round += 1;
                let mut read = api.read_overlapped(server.raw(), 1024);
                // Cancel two reads in three that pend, at once or after a moment, racing the
                // writers' completions and the timer's.
                let cancel = round % 3 != 0 && read.is_pending();
                if cancel {
                    if round % 2 == 0 {
                        std::thread::yield_now();
                    }
                    let _ = read.cancel();
                }
                match read.wait(10_000) {
                    Some(Ok(m)) => {
                        if cancel {
                            completed_despite_cancel.fetch_add(1, Ordering::Relaxed);
                        }
                        overlapped.lock().unwrap().0.push(parse(&m));
                        received.fetch_add(1, Ordering::SeqCst);
                    }
                    Some(Err(ERROR_OPERATION_ABORTED)) if cancel => {
                        cancelled.fetch_add(1, Ordering::Relaxed);
                    }
                    // The slot's own timeout applies to overlapped reads too.
                    Some(Err(ERROR_SEM_TIMEOUT)) => {}
                    other => panic!("overlapped read: {other:?}"),
                }
            }
        });
        while received.load(Ordering::SeqCst) < total {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "only {} of {total} messages arrived",
                received.load(Ordering::SeqCst)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        done.store(true, Ordering::SeqCst);
    });
    let (plain, overlapped) = (
        plain.into_inner().unwrap(),
        overlapped.into_inner().unwrap(),
    );
    plain.check_order("the NtReadFile reader");
    overlapped.check_order("the overlapped reader");
    let mut seen = HashSet::new();
    for &id in plain.0.iter().chain(&overlapped.0) {
        assert!(seen.insert(id), "message {id:?} arrived twice");
    }
    assert_eq!(seen.len(), total, "messages lost");
    assert_eq!(
        api.info(server.raw()).map(|i| i.count),
        Ok(0),
        "messages left over"
    );
    println!(
        "stress round {n}: {total} messages ({} by NtReadFile, {} overlapped), {} read timeouts, {} pending reads cancelled, {} completed before their cancel, {:.1} s",
        plain.0.len(),
        overlapped.0.len(),
        timeouts.load(Ordering::Relaxed),
        cancelled.load(Ordering::Relaxed),
        completed_despite_cancel.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    assert!(
        timeouts.load(Ordering::Relaxed) > 0,
        "no read timed out: the race was not run"
    );
    assert!(
        cancelled.load(Ordering::Relaxed) > 0,
        "no read was cancelled: the race was not run"
    );
    drop(server);
    drop(sys);
    m.quiesce();
}
