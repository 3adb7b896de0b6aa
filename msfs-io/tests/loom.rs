//! Model checks of the pending-read protocol with `loom`: every interleaving (up to loom's
//! preemption bound) of a read's arming, a write, its timer, its cancellation and the server's
//! cleanup completes the read exactly once, never touches it afterwards, and loses no message.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p msfs-io --test loom --release`
//! (tools/test.sh does).
#![cfg(loom)]

mod sim;

use msfs::{Handle, MailslotInfo, NtStatus};
use sim::*;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

fn queued(engine: &Engine, server: &Handle) -> MailslotInfo {
    engine.with(|m| m.query_info(server)).unwrap()
}

/// After the racers: exactly one completion, consistent with what the slot still holds.
fn check(engine: &Engine, server: &Handle, irp: &Irp, wrote: bool) {
    assert_eq!(
        irp.completions.load(Ordering::SeqCst),
        1,
        "ctx {:?} cancel {} routine {} queued {:?}",
        irp.context.lock().unwrap().as_ref().map(|c| (
            c.state.references(),
            c.timer.load(Ordering::SeqCst),
            c.state.outcome()
        )),
        irp.cancel.load(Ordering::SeqCst),
        irp.routine.load(Ordering::SeqCst),
        queued(engine, server)
    );
    let (status, information) = irp.outcome().unwrap();
    let info = queued(engine, server);
    if status == NtStatus::SUCCESS {
        assert_eq!(&*irp.buffer.lock().unwrap(), b"m");
        assert_eq!(information, 1);
        assert_eq!(info.messages_available, 0, "delivered and queued both");
    } else {
        assert!(
            [NtStatus::CANCELLED, NtStatus::IO_TIMEOUT].contains(&status),
            "{status:?}"
        );
        assert_eq!(information, 0);
        assert_eq!(info.messages_available, u32::from(wrote), "message lost");
    }
    assert!(irp.context.lock().unwrap().is_none());
}

#[test]
fn arming_races_write_cancel_and_timer() {
    model(|| {
        let engine = Arc::new(engine());
        let (server, client) = slot(&engine, "\\race", Some(-10_000));
        let irp = Irp::new(16);
        let irps = Arc::new(vec![irp.clone()]);
        let server = Arc::new(server);

        let writer = {
            let (engine, irps) = (engine.clone(), irps.clone());
            loom::thread::spawn(move || {
                assert_eq!(dispatch_write(&engine, &client, b"m", &irps), Ok(1));
            })
        };
        let canceller = {
            let (engine, irp) = (engine.clone(), irp.clone());
            loom::thread::spawn(move || irp.io_cancel(&engine))
        };
        let timer = {
            let (engine, irp) = (engine.clone(), irp.clone());
            loom::thread::spawn(move || {
                let ctx = irp.context.lock().unwrap().clone();
                if let Some(ctx) = ctx {
                    ctx.fire_timer(&engine);
                }
            })
        };
        dispatch_read(&engine, &server, &irp, 0);
        writer.join().unwrap();
        canceller.join().unwrap();
        timer.join().unwrap();
        check(&engine, &server, &irp, true);
    });
}

#[test]
fn pending_read_races_cleanup_timer_and_cancel() {
    model(|| {
        let engine = Arc::new(engine());
        let (server, _client) = slot(&engine, "\\race", Some(-10_000));
        let irp = Irp::new(16);
        let irps = Arc::new(vec![irp.clone()]);
        let server = Arc::new(server);
        let ctx = dispatch_read(&engine, &server, &irp, 0).expect("pends");

        let cleaner = {
            let (engine, irps, server) = (engine.clone(), irps.clone(), server.clone());
            loom::thread::spawn(move || dispatch_cleanup(&engine, &server, &irps))
        };
        let canceller = {
            let (engine, irp) = (engine.clone(), irp.clone());
            loom::thread::spawn(move || irp.io_cancel(&engine))
        };
        let timer = {
            let engine = engine.clone();
            loom::thread::spawn(move || ctx.fire_timer(&engine))
        };
        cleaner.join().unwrap();
        canceller.join().unwrap();
        timer.join().unwrap();
        assert_eq!(irp.completions.load(Ordering::SeqCst), 1);
        let (status, _) = irp.outcome().unwrap();
        assert!(
            [NtStatus::CANCELLED, NtStatus::IO_TIMEOUT].contains(&status),
            "{status:?}"
        );
        assert!(engine.with(|m| m.slot_count()) == 0);
    });
}

#[test]
fn pending_read_races_write_and_timer_then_drains() {
    model(|| {
        let engine = Arc::new(engine());
        let (server, client) = slot(&engine, "\\race", Some(-10_000));
        let irp = Irp::new(16);
        let irps = Arc::new(vec![irp.clone()]);
        let ctx = dispatch_read(&engine, &server, &irp, 0).expect("pends");

        let writer = {
            let (engine, irps) = (engine.clone(), irps.clone());
            loom::thread::spawn(move || {
                assert_eq!(dispatch_write(&engine, &client, b"m", &irps), Ok(1));
            })
        };
        let timer = {
            let engine = engine.clone();
            loom::thread::spawn(move || ctx.fire_timer(&engine))
        };
        writer.join().unwrap();
        timer.join().unwrap();
        check(&engine, &server, &irp, true);
    });
}
