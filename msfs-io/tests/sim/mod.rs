//! A simulated kernel for the pending-read protocol: IRPs with `Cancel` and `CancelRoutine`,
//! per-read contexts with a one-shot timer, `IoCancelIrp`, and a driver whose read, write and
//! cleanup paths are shaped exactly like rsmailslot.sys's (engine under one lock, completions
//! collected under it and settled after it). Built on `loom` primitives under `--cfg loom`,
//! on std's otherwise.
#![allow(dead_code)]

#[cfg(loom)]
pub use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
#[cfg(loom)]
pub use loom::sync::{Arc, Mutex};
#[cfg(not(loom))]
pub use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
#[cfg(not(loom))]
pub use std::sync::{Arc, Mutex};

use msfs::{
    Access, Completion, Config, CreateParameters, Handle, Msfs, NtStatus, ReadId, ReadOutcome, Wait,
};
pub use msfs_io::pending::EngineLock;
use msfs_io::pending::{arm, on_cancel, on_timer, settle, Armed, PendingRead, ReadState};

pub struct Engine(pub Mutex<Msfs>);

impl EngineLock for Engine {
    fn with<R>(&self, f: impl FnOnce(&mut Msfs) -> R) -> R {
        let mut guard = self.0.lock().unwrap();
        f(&mut guard)
    }
}

/// What the I/O manager owns: the IRP.
#[derive(Default)]
pub struct Irp {
    pub capacity: usize,
    /// `Irp->Cancel`.
    pub cancel: AtomicBool,
    /// `Irp->CancelRoutine != NULL`.
    pub routine: AtomicBool,
    /// `Tail.Overlay.DriverContext[0]`: the read's context while it is pending.
    pub context: Mutex<Option<Arc<Ctx>>>,
    /// The system buffer.
    pub buffer: Mutex<Vec<u8>>,
    /// How many times IoCompleteRequest was called, and with what.
    pub completions: AtomicU32,
    pub result: Mutex<Option<(NtStatus, usize)>>,
}

impl Irp {
    pub fn new(capacity: usize) -> Arc<Irp> {
        Arc::new(Irp {
            capacity,
            ..Default::default()
        })
    }

    fn complete(&self, status: NtStatus, information: usize) {
        let before = self.completions.fetch_add(1, Ordering::SeqCst);
        assert_eq!(before, 0, "IRP completed twice");
        *self.result.lock().unwrap() = Some((status, information));
    }

    fn assert_live(&self) {
        assert_eq!(
            self.completions.load(Ordering::SeqCst),
            0,
            "IRP touched after completion"
        );
    }

    pub fn outcome(&self) -> Option<(NtStatus, usize)> {
        *self.result.lock().unwrap()
    }

    /// `IoCancelIrp`: sets Cancel, takes the routine, runs it if it was set.
    pub fn io_cancel(&self, engine: &Engine) {
        // IoCancelIrp sets Cancel, then exchanges the routine out.
        self.cancel.store(true, Ordering::Relaxed);
        if self.routine.swap(false, Ordering::AcqRel) {
            // The routine finds its context through the IRP, which cannot have completed:
            // the routine's own reference is still held.
            let ctx = self.context.lock().unwrap().clone().expect("context");
            if on_cancel(engine, &*ctx) {
                ctx.complete();
            }
        }
    }
}

const IDLE: u8 = 0;
const QUEUED: u8 = 1;
const FIRED: u8 = 2;
const STOPPED: u8 = 3;

/// The driver's per-read context.
pub struct Ctx {
    pub irp: Arc<Irp>,
    pub state: ReadState,
    pub id: Mutex<Option<ReadId>>,
    pub timer: AtomicU8,
}

impl Ctx {
    /// Last reference gone: complete the IRP with the recorded outcome.
    pub fn complete(&self) {
        let (status, information) = self.state.outcome();
        assert_eq!(self.state.references(), 0);
        assert_ne!(status, NtStatus::PENDING, "completed without an outcome");
        *self.irp.context.lock().unwrap() = None;
        self.irp.complete(status, information);
    }

    /// The timer expires (if it is queued) and its DPC runs.
    pub fn fire_timer(&self, engine: &Engine) {
        if self
            .timer
            .compare_exchange(QUEUED, FIRED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
            && on_timer(engine, self)
        {
            self.complete();
        }
    }
}

impl PendingRead for Ctx {
    fn state(&self) -> &ReadState {
        self.irp.assert_live();
        &self.state
    }
    fn id(&self) -> ReadId {
        self.irp.assert_live();
        self.id.lock().unwrap().expect("id set before arming")
    }
    fn start_timer(&self) {
        self.irp.assert_live();
        assert_eq!(self.timer.swap(QUEUED, Ordering::SeqCst), IDLE);
    }
    fn stop_timer(&self) -> bool {
        self.irp.assert_live();
        self.timer
            .compare_exchange(QUEUED, STOPPED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }
    fn set_cancel(&self) {
        self.irp.assert_live();
        // IoSetCancelRoutine is an interlocked exchange, and the protocol depends on it: an
        // exchange that follows IoCancelIrp's own exchange reads from it, so it sees Cancel
        // set. (A plain store would let both sides miss each other, which loom finds.)
        let previous = self.irp.routine.swap(true, Ordering::AcqRel);
        assert!(!previous);
    }
    fn disarm_cancel(&self) -> bool {
        self.irp.assert_live();
        self.irp.routine.swap(false, Ordering::AcqRel)
    }
    fn cancel_requested(&self) -> bool {
        self.irp.assert_live();
        self.irp.cancel.load(Ordering::Relaxed)
    }
}

pub fn engine() -> Engine {
    Engine(Mutex::new(Msfs::new(Config {
        budget_bytes: 1 << 20,
        hash_keys: [1, 2],
        owner_limit_bytes: u64::MAX,
    })))
}

pub fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// A server (read timeout as given) and a client of `name`.
pub fn slot(engine: &Engine, name: &str, read_timeout: Option<i64>) -> (Handle, Handle) {
    engine.with(|m| {
        let params = CreateParameters {
            mailslot_quota: 0,
            maximum_message_size: 0,
            read_timeout,
        };
        let s = m
            .create_server(&utf16(name), &params, Access::READ, 0)
            .unwrap();
        let c = m.open(&utf16(name), Access::WRITE).unwrap();
        (s, c)
    })
}

/// The driver's read path. Returns the context if the read pended.
/// `token` is the IRP's index in the slice later passed to writes and cleanups (the driver
/// uses the context's address).
pub fn dispatch_read(
    engine: &Engine,
    server: &Handle,
    irp: &Arc<Irp>,
    token: usize,
) -> Option<Arc<Ctx>> {
    let mut complete_now: Option<(NtStatus, Vec<u8>)> = None;
    let mut settle_now: Option<Arc<Ctx>> = None;
    let mut pended: Option<Arc<Ctx>> = None;
    engine.with(|m| {
        let mut created: Option<Arc<Ctx>> = None;
        let outcome = m.read_or_pend(server, irp.capacity, |wait| {
            let ctx = Arc::new(Ctx {
                irp: irp.clone(),
                state: ReadState::new(wait != Wait::Forever),
                id: Mutex::new(None),
                timer: AtomicU8::new(IDLE),
            });
            created = Some(ctx);
            Ok(token)
        });
        match outcome {
            Ok(ReadOutcome::Message(msg)) => {
                complete_now = Some((NtStatus::SUCCESS, msg.as_bytes().to_vec()))
            }
            Err(status) => complete_now = Some((status, Vec::new())),
            Ok(ReadOutcome::Pending { id, wait }) => {
                let ctx = created.take().expect("pend hook ran");
                *ctx.id.lock().unwrap() = Some(id);
                *irp.context.lock().unwrap() = Some(ctx.clone());
                if arm(&*ctx, wait != Wait::Forever) == Armed::CancelledEarly {
                    assert_eq!(m.cancel(id), msfs::Arbitration::Won(NtStatus::CANCELLED));
                    settle_now = Some(ctx.clone());
                }
                pended = Some(ctx);
            }
        }
    });
    if let Some((status, data)) = complete_now {
        *irp.buffer.lock().unwrap() = data.clone();
        irp.complete(status, data.len());
    }
    if let Some(ctx) = settle_now {
        if settle(&*ctx, NtStatus::CANCELLED, 0) {
            ctx.complete();
        }
    }
    pended
}

enum Won {
    Data(Vec<u8>),
    Failed(NtStatus),
}

/// Finds the context the engine's token designates: in the driver the token is the context's
/// address; here every pending read's IRP is in `irps`.
fn context_of(irps: &[Arc<Irp>], id: ReadId) -> Arc<Ctx> {
    let ctx = irps[id.token()]
        .context
        .lock()
        .unwrap()
        .clone()
        .expect("a winner's context is still attached");
    assert_eq!(*ctx.id.lock().unwrap(), Some(id));
    ctx
}

fn settle_all(irps: &[Arc<Irp>], won: Vec<(ReadId, Won)>) {
    let winners: Vec<(Arc<Ctx>, Won)> = won
        .into_iter()
        .map(|(id, w)| (context_of(irps, id), w))
        .collect();
    for (ctx, w) in winners {
        let last = match w {
            Won::Data(data) => {
                let n = data.len();
                *ctx.irp.buffer.lock().unwrap() = data;
                settle(&*ctx, NtStatus::SUCCESS, n)
            }
            Won::Failed(status) => settle(&*ctx, status, 0),
        };
        if last {
            ctx.complete();
        }
    }
}

fn collect(won: &mut Vec<(ReadId, Won)>) -> impl FnMut(ReadId, Completion<'_>) + '_ {
    move |id, c| {
        won.push((
            id,
            match c {
                Completion::Delivered(d) => Won::Data(d.to_vec()),
                Completion::Failed(s) => Won::Failed(s),
            },
        ))
    }
}

/// The driver's write path: the engine picks the winners under the lock; they are settled
/// after it.
pub fn dispatch_write(
    engine: &Engine,
    client: &Handle,
    data: &[u8],
    irps: &[Arc<Irp>],
) -> Result<usize, NtStatus> {
    let mut won = Vec::new();
    let result = engine.with(|m| m.write(client, data, collect(&mut won)));
    settle_all(irps, won);
    result
}

/// The driver's cleanup path for the server handle.
pub fn dispatch_cleanup(engine: &Engine, server: &Handle, irps: &[Arc<Irp>]) {
    let mut won = Vec::new();
    engine.with(|m| m.cleanup(server, collect(&mut won)));
    settle_all(irps, won);
}
