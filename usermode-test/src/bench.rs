//! `--bench`: one server reading, one or four clients writing, for 64-byte, 424-byte and
//! 64 KiB messages. Each message carries its send time; the reader turns that into latency.
//! Writers keep at most WINDOW messages in flight, so the figures measure the mailslot and
//! not an ever-growing queue (and a quota-limited native slot never sees an overflow).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use crate::cli::Options;
use crate::stats::{self, Case};
use crate::system::{Api, System};

const SIZES: [usize; 3] = [64, 424, 65536];
const WRITERS: [usize; 2] = [1, 4];
const WINDOW: u32 = 32;
/// A reader waits this long for the next message before declaring the case broken.
const READ_TIMEOUT_MS: u32 = 10_000;

/// Messages in flight, with a condition for writers waiting on room.
struct Window {
    inflight: Mutex<u32>,
    room: Condvar,
}

impl Window {
    fn acquire(&self) {
        let mut n = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        while *n >= WINDOW {
            n = self.room.wait(n).unwrap_or_else(|e| e.into_inner());
        }
        *n += 1;
    }

    fn release(&self) {
        let mut n = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        *n = n.saturating_sub(1);
        self.room.notify_one();
    }
}

fn case(
    api: Api<'_>,
    opts: &Options,
    seq: &AtomicU32,
    size: usize,
    writers: usize,
    messages: u32,
) -> Result<Case, String> {
    let name = format!(
        "{}umtbench{}_{}",
        opts.namespace.win32,
        std::process::id(),
        seq.fetch_add(1, Ordering::Relaxed)
    );
    let server = api
        .create_mailslot(Some(&name), 0, READ_TIMEOUT_MS)
        .map_err(|e| format!("CreateMailslotW({name}): {}", crate::codes::win32(e)))?;
    let per_writer = messages.div_ceil(writers as u32);
    let total = per_writer as u64 * writers as u64;
    let window = Arc::new(Window {
        inflight: Mutex::new(0),
        room: Condvar::new(),
    });
    let epoch = Instant::now();

    let mut clients = Vec::new();
    for _ in 0..writers {
        clients.push(
            api.open(&name, 0x4000_0000, 3, false)
                .map_err(|e| format!("CreateFileW: {}", crate::codes::win32(e)))?,
        );
    }
    let started = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = clients
            .iter()
            .map(|client| {
                let window = window.clone();
                let raw = client.raw();
                scope.spawn(move || -> Result<(), String> {
                    let mut msg = vec![0xA5u8; size];
                    for _ in 0..per_writer {
                        window.acquire();
                        let now = epoch.elapsed().as_nanos() as u64;
                        msg[..8].copy_from_slice(&now.to_le_bytes());
                        api.write(raw, &msg)
                            .map_err(|e| format!("WriteFile: {}", crate::codes::win32(e)))?;
                    }
                    Ok(())
                })
            })
            .collect();

        let mut latencies = Vec::with_capacity(total as usize);
        let mut failure = None;
        for _ in 0..total {
            match api.read(server.raw(), size) {
                Ok(m) if m.len() == size => {
                    let sent = u64::from_le_bytes(m[..8].try_into().unwrap_or([0; 8]));
                    latencies.push((epoch.elapsed().as_nanos() as u64).saturating_sub(sent));
                    window.release();
                }
                Ok(m) => {
                    failure = Some(format!("read {} bytes, expected {size}", m.len()));
                    break;
                }
                Err((e, _)) => {
                    failure = Some(format!("ReadFile: {}", crate::codes::win32(e)));
                    break;
                }
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        if let Some(f) = failure {
            // Unblock writers still waiting for room so their threads end.
            for _ in 0..total {
                window.release();
            }
            return Err(f);
        }
        for h in handles {
            h.join()
                .map_err(|_| "a writer thread panicked".to_string())??;
        }
        Ok(Case {
            size,
            writers,
            messages: total,
            seconds,
            latency: stats::percentiles(&mut latencies),
        })
    })
}

pub fn run(opts: &Options, sys: &dyn System) -> i32 {
    let api = Api(sys);
    let seq = AtomicU32::new(0);
    let mut cases = Vec::new();
    for size in SIZES {
        for writers in WRITERS {
            let messages = opts
                .bench_messages
                .unwrap_or(if size >= 65536 { 2000 } else { 20_000 });
            match case(api, opts, &seq, size, writers, messages) {
                Ok(c) => cases.push(c),
                Err(e) => {
                    eprintln!("benchmark {size} bytes x {writers} writers failed: {e}");
                    return 1;
                }
            }
        }
    }
    print!("{}", stats::table(&opts.namespace.label, &cases));
    if let Some(path) = &opts.json {
        if let Err(e) = std::fs::write(path, stats::json(&opts.namespace.label, &cases)) {
            eprintln!("usermode-test: writing {path}: {e}");
            return 2;
        }
    }
    0
}
