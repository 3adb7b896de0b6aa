//! Stress test of the pending-read protocol on real threads: many reads pend on one slot
//! while writers, timers, cancellers and finally the server's cleanup race for them. Every
//! read completes exactly once, nothing touches a completed read, and every message written
//! is either delivered to exactly one read or still queued when the slot is deleted.
#![cfg(not(loom))]

mod sim;

use std::collections::HashMap;
use std::thread;

use msfs::NtStatus;
use sim::*;

const READS: usize = 400;
const ROUNDS: usize = 12;

#[test]
fn write_expiry_cancel_and_cleanup_race_for_the_same_reads() {
    for round in 0..ROUNDS {
        let engine = Arc::new(engine());
        let (server, client) = slot(&engine, "\\stress", Some(-10_000));
        let (server, client) = (Arc::new(server), Arc::new(client));
        let irps: Arc<Vec<Arc<Irp>>> = Arc::new((0..READS).map(|_| Irp::new(64)).collect());

        let mut contexts = Vec::new();
        let mut immediate = 0;
        for (token, irp) in irps.iter().enumerate() {
            match dispatch_read(&engine, &server, irp, token) {
                Some(ctx) => contexts.push(ctx),
                None => immediate += 1,
            }
        }
        assert_eq!(immediate, 0, "nothing was queued yet");
        let contexts = Arc::new(contexts);

        let mut threads = Vec::new();
        // Two writers: 150 distinct messages each.
        for w in 0..2u8 {
            let (engine, client, irps) = (engine.clone(), client.clone(), irps.clone());
            threads.push(thread::spawn(move || {
                let mut sent = Vec::new();
                for i in 0..150u8 {
                    let msg = vec![w, i, round as u8];
                    dispatch_write(&engine, &client, &msg, &irps).unwrap();
                    sent.push(msg);
                    if i % 16 == 0 {
                        thread::yield_now();
                    }
                }
                sent
            }));
        }
        // Timers firing in one order, cancellations in another.
        let timers = {
            let (engine, contexts) = (engine.clone(), contexts.clone());
            thread::spawn(move || {
                for ctx in contexts.iter().step_by(3) {
                    ctx.fire_timer(&engine);
                }
            })
        };
        let cancels = {
            let (engine, irps) = (engine.clone(), irps.clone());
            thread::spawn(move || {
                for irp in irps.iter().rev().step_by(2) {
                    irp.io_cancel(&engine);
                }
            })
        };
        let mut sent: Vec<Vec<u8>> = Vec::new();
        for t in threads {
            sent.extend(t.join().unwrap());
        }
        timers.join().unwrap();
        cancels.join().unwrap();

        // Whatever still waits is cancelled by the server's cleanup; queued messages are what
        // no read took.
        let queued = engine
            .with(|m| m.query_info(&server))
            .unwrap()
            .messages_available;
        let mut leftover = Vec::new();
        for _ in 0..queued {
            let irp = Irp::new(64);
            assert!(dispatch_read(&engine, &server, &irp, usize::MAX).is_none());
            leftover.push(irp.buffer.lock().unwrap().clone());
        }
        dispatch_cleanup(&engine, &server, &irps);

        let mut delivered: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut statuses: HashMap<NtStatus, usize> = HashMap::new();
        for irp in irps.iter() {
            assert_eq!(irp.completions.load(Ordering::SeqCst), 1, "round {round}");
            assert!(irp.context.lock().unwrap().is_none());
            let (status, information) = irp.outcome().unwrap();
            *statuses.entry(status).or_default() += 1;
            if status == NtStatus::SUCCESS {
                let data = irp.buffer.lock().unwrap().clone();
                assert_eq!(data.len(), information);
                *delivered.entry(data).or_default() += 1;
            } else {
                assert_eq!(information, 0);
            }
        }
        for msg in leftover {
            *delivered.entry(msg).or_default() += 1;
        }
        for msg in &sent {
            assert_eq!(
                delivered.get(msg),
                Some(&1),
                "message {msg:?} in round {round}"
            );
        }
        assert_eq!(delivered.len(), sent.len());
        for c in contexts.iter() {
            assert_eq!(c.state.references(), 0);
        }
        assert!(engine.with(|m| m.slot_count()) == 0);
        if round == 0 {
            eprintln!("outcomes of round 0: {statuses:?}");
        }
    }
}
