//! The kernel's own objects the driver uses: timers and DPCs (run on threads of their own at
//! DISPATCH_LEVEL), spin locks (real ones, spinning), the I/O cancel spin lock, and events for
//! the emulated I/O manager's waits.
//!
//! A KTIMER or KDPC lives in the driver's memory. The emulator writes the fields Windows'
//! KeInitialize* write (object type, routine, context at their x64 offsets, `layout`) and
//! reads the routine and context back out of the KDPC when it runs it, so a driver that
//! corrupts or frees one is caught, not papered over. What is queued is kept beside them: a
//! timer set or a DPC queued in memory that is freed, or left behind at unload, is a bugcheck.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::bugcheck::{self, Stop};
use crate::cpu;
use crate::layout::{kdpc, ktimer};
use crate::mem;

/// `KOBJECTS` values written into the object headers (ntddk/wdm: TimerNotificationObject 8,
/// DpcObject 0x13).
const TIMER_NOTIFICATION_OBJECT: u8 = 8;
const DPC_OBJECT: u8 = 0x13;

#[derive(Debug)]
struct TimerEntry {
    dpc: usize,
    generation: u64,
    queued: bool,
}

#[derive(Debug, Default)]
struct State {
    timers: HashMap<usize, TimerEntry>,
    heap: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    /// Every initialized DPC object: queued or not.
    dpcs: HashMap<usize, bool>,
    queue: VecDeque<(usize, u64, u64)>,
    running: usize,
    generation: u64,
}

/// Switches that break one behaviour on purpose, for the self-checks of `tests/instrument.rs`.
#[derive(Debug, Default)]
pub struct Broken {
    /// KeCancelTimer says it cancelled the timer but leaves it queued.
    pub timer_left_queued: AtomicBool,
}

/// Timers and DPCs of one machine, and the threads that run them.
#[derive(Debug)]
pub struct Dispatcher {
    state: Mutex<State>,
    wake: Condvar,
    stopping: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
    pub broken: Broken,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

type DeferredRoutine = unsafe extern "win64" fn(usize, usize, usize, usize);

impl Dispatcher {
    pub fn new() -> Dispatcher {
        Dispatcher {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            stopping: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
            broken: Broken::default(),
        }
    }

    /// Starts the timer thread and `processors` DPC threads for `machine`.
    pub fn start(self: &Arc<Self>, machine: usize, processors: usize) {
        let mut threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        let me = self.clone();
        threads.push(
            std::thread::Builder::new()
                .name("ntemu-timer".into())
                .spawn(move || {
                    cpu::set_machine_addr(machine);
                    cpu::set_role(cpu::Role::System);
                    crate::seh::ensure_signal_stack();
                    me.timer_loop();
                })
                .expect("spawning the timer thread"),
        );
        for n in 0..processors {
            let me = self.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("ntemu-dpc{n}"))
                    .spawn(move || {
                        cpu::set_machine_addr(machine);
                        cpu::set_role(cpu::Role::Dpc);
                        crate::seh::ensure_signal_stack();
                        me.dpc_loop();
                    })
                    .expect("spawning a DPC thread"),
            );
        }
    }

    /// Stops and joins the threads (queued work is dropped: callers check for it first).
    pub fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_all();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }

    fn timer_loop(&self) {
        let mut st = lock(&self.state);
        loop {
            if self.stopping.load(Ordering::SeqCst) {
                return;
            }
            let now = Instant::now();
            match st.heap.peek().copied() {
                Some(Reverse((due, generation, timer))) if due <= now => {
                    st.heap.pop();
                    let fire = match st.timers.get_mut(&timer) {
                        Some(t) if t.queued && t.generation == generation => {
                            t.queued = false;
                            Some(t.dpc)
                        }
                        _ => None,
                    };
                    if let Some(dpc) = fire {
                        // The timer is signalled (DISPATCHER_HEADER.SignalState, offset 4).
                        mem::poke_u32(timer + 4, 1);
                        if dpc != 0 {
                            let tick = due.elapsed().as_nanos() as u64;
                            Self::queue_locked(&mut st, dpc, tick & 0xFFFF_FFFF, tick >> 32);
                            self.wake.notify_all();
                        }
                    }
                }
                Some(Reverse((due, ..))) => {
                    st = self
                        .wake
                        .wait_timeout(st, due - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                None => {
                    st = self.wake.wait(st).unwrap_or_else(|e| e.into_inner());
                }
            }
        }
    }

    fn dpc_loop(&self) {
        loop {
            let (dpc, a1, a2) = {
                let mut st = lock(&self.state);
                loop {
                    if self.stopping.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Some(item) = st.queue.pop_front() {
                        st.dpcs.insert(item.0, false);
                        st.running += 1;
                        break item;
                    }
                    st = self.wake.wait(st).unwrap_or_else(|e| e.into_inner());
                }
            };
            self.run_dpc(dpc, a1, a2);
            let mut st = lock(&self.state);
            st.running -= 1;
            drop(st);
            self.wake.notify_all();
        }
    }

    fn run_dpc(&self, dpc: usize, a1: u64, a2: u64) {
        let (Some(routine), Some(context)) = (
            mem::peek_u64(dpc + kdpc::DEFERRED_ROUTINE),
            mem::peek_u64(dpc + kdpc::DEFERRED_CONTEXT),
        ) else {
            bugcheck::stop(Stop::new(
                bugcheck::TIMER_OR_DPC_INVALID,
                [1, dpc as u64, 0, 0],
                format!("a queued DPC at {dpc:#x} is no longer readable memory"),
            ));
        };
        mem::poke_u64(dpc + kdpc::SYSTEM_ARGUMENT1, a1);
        mem::poke_u64(dpc + kdpc::SYSTEM_ARGUMENT2, a2);
        if !crate::machine::current().image.contains(routine as usize) {
            bugcheck::stop(Stop::new(
                bugcheck::TIMER_OR_DPC_INVALID,
                [2, dpc as u64, routine, 0],
                format!("the DPC at {dpc:#x} names the routine {routine:#x}, which is not the driver's code"),
            ));
        }
        cpu::set_irql(cpu::DISPATCH_LEVEL);
        // SAFETY: the routine was set by KeInitializeDpc to code inside the driver's image
        // (checked above); it is called as PKDEFERRED_ROUTINE with the DPC, its context and
        // the two system arguments, at DISPATCH_LEVEL, as Windows calls it.
        unsafe {
            let f: DeferredRoutine = std::mem::transmute(routine as usize);
            f(dpc, context as usize, a1 as usize, a2 as usize);
        }
        if cpu::irql() != cpu::DISPATCH_LEVEL || cpu::spin_locks_held() != 0 {
            bugcheck::stop(
                Stop::new(
                    bugcheck::NTEMU_CHECK,
                    [routine, u64::from(cpu::irql()), u64::from(cpu::spin_locks_held()), 0],
                    format!(
                        "a DPC routine returned at IRQL {} holding {} spin lock(s); it must return at DISPATCH_LEVEL holding none",
                        cpu::irql(),
                        cpu::spin_locks_held()
                    ),
                )
                .at(routine as usize),
            );
        }
        cpu::set_irql(cpu::PASSIVE_LEVEL);
    }

    fn queue_locked(st: &mut State, dpc: usize, a1: u64, a2: u64) -> bool {
        let queued = st.dpcs.entry(dpc).or_insert(false);
        if *queued {
            return false;
        }
        *queued = true;
        st.queue.push_back((dpc, a1, a2));
        true
    }

    /// KeInitializeDpc: the object header, routine and context written into the KDPC.
    pub fn initialize_dpc(&self, dpc: usize, routine: usize, context: usize) -> bool {
        let mut st = lock(&self.state);
        if st.dpcs.get(&dpc) == Some(&true) {
            bugcheck::stop(Stop::new(
                bugcheck::TIMER_OR_DPC_INVALID,
                [1, dpc as u64, 0, 0],
                format!("KeInitializeDpc on the DPC at {dpc:#x} while it is queued"),
            ));
        }
        let mut header = [0u8; kdpc::SIZE];
        header[0] = DPC_OBJECT;
        header[1] = 1; // Importance: MediumImportance.
        header[kdpc::DEFERRED_ROUTINE..kdpc::DEFERRED_ROUTINE + 8]
            .copy_from_slice(&(routine as u64).to_le_bytes());
        header[kdpc::DEFERRED_CONTEXT..kdpc::DEFERRED_CONTEXT + 8]
            .copy_from_slice(&(context as u64).to_le_bytes());
        if !mem::copy_out(dpc, &header) {
            return false;
        }
        st.dpcs.insert(dpc, false);
        true
    }

    /// KeInitializeTimer: a notification timer, not signalled, not queued.
    pub fn initialize_timer(&self, timer: usize) -> bool {
        let mut st = lock(&self.state);
        if st.timers.get(&timer).is_some_and(|t| t.queued) {
            bugcheck::stop(Stop::new(
                bugcheck::TIMER_OR_DPC_INVALID,
                [0, timer as u64, 0, 0],
                format!("KeInitializeTimer on the timer at {timer:#x} while it is set"),
            ));
        }
        let mut header = [0u8; ktimer::SIZE];
        header[0] = TIMER_NOTIFICATION_OBJECT;
        header[3] = (ktimer::SIZE / 4) as u8;
        if !mem::copy_out(timer, &header) {
            return false;
        }
        st.timers.insert(
            timer,
            TimerEntry {
                dpc: 0,
                generation: 0,
                queued: false,
            },
        );
        true
    }

    /// KeSetTimer: TRUE when the timer was already queued. `due` is negative relative or
    /// positive absolute system time, in 100 ns units.
    pub fn set_timer(
        &self,
        timer: usize,
        due: i64,
        dpc: usize,
        now_system: i64,
    ) -> Result<bool, String> {
        let mut st = lock(&self.state);
        st.generation += 1;
        let generation = st.generation;
        let delay = if due < 0 {
            due.unsigned_abs()
        } else {
            due.saturating_sub(now_system).max(0) as u64
        };
        let when = Instant::now() + Duration::from_nanos(delay.saturating_mul(100));
        if !st.timers.contains_key(&timer) {
            return Err(format!(
                "KeSetTimer on {timer:#x}, which KeInitializeTimer never initialized"
            ));
        }
        if dpc != 0 && !st.dpcs.contains_key(&dpc) {
            return Err(format!(
                "KeSetTimer with the DPC {dpc:#x}, which KeInitializeDpc never initialized"
            ));
        }
        let Some(t) = st.timers.get_mut(&timer) else {
            return Err("emulator bug: a timer vanished under its lock".into());
        };
        let was = t.queued;
        *t = TimerEntry {
            dpc,
            generation,
            queued: true,
        };
        st.heap.push(Reverse((when, generation, timer)));
        mem::poke_u32(timer + 4, 0);
        mem::poke_u64(timer + ktimer::DUE_TIME, due as u64);
        mem::poke_u64(timer + ktimer::DPC, dpc as u64);
        drop(st);
        self.wake.notify_all();
        Ok(was)
    }

    /// KeCancelTimer: TRUE when the timer was queued (and no longer is).
    pub fn cancel_timer(&self, timer: usize) -> bool {
        let mut st = lock(&self.state);
        match st.timers.get_mut(&timer) {
            Some(t) if t.queued => {
                if !self.broken.timer_left_queued.load(Ordering::Relaxed) {
                    t.queued = false;
                }
                true
            }
            _ => false,
        }
    }

    /// KeInsertQueueDpc.
    pub fn queue_dpc(&self, dpc: usize, a1: u64, a2: u64) -> bool {
        let queued = Self::queue_locked(&mut lock(&self.state), dpc, a1, a2);
        self.wake.notify_all();
        queued
    }

    /// KeFlushQueuedDpcs: returns once every DPC queued before the call has run.
    pub fn flush(&self) {
        let mut st = lock(&self.state);
        while !st.queue.is_empty() || st.running > 0 {
            st = self
                .wake
                .wait_timeout(st, Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The check made when memory is freed: a queued timer or DPC inside it.
    pub fn queued_in(&self, addr: usize, len: usize) -> Option<Stop> {
        let st = lock(&self.state);
        let inside = |a: usize| a >= addr && a < addr + len;
        if let Some((&t, _)) = st.timers.iter().find(|(&t, e)| e.queued && inside(t)) {
            return Some(Stop::new(
                bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
                [0x15, t as u64, 0, addr as u64],
                format!("freed pool at {addr:#x} that holds the set timer at {t:#x}"),
            ));
        }
        if let Some((&d, _)) = st.dpcs.iter().find(|(&d, &q)| q && inside(d)) {
            return Some(Stop::new(
                bugcheck::TIMER_OR_DPC_INVALID,
                [1, d as u64, addr as u64, (addr + len) as u64],
                format!("freed pool at {addr:#x} that holds the queued DPC at {d:#x}"),
            ));
        }
        None
    }

    /// Forgets timers and DPCs in freed memory (they can no longer be set or queued).
    pub fn forget(&self, addr: usize, len: usize) {
        let mut st = lock(&self.state);
        st.timers.retain(|&t, _| !(t >= addr && t < addr + len));
        st.dpcs.retain(|&d, _| !(d >= addr && d < addr + len));
    }

    /// Timers set and DPCs queued, for the check at unload.
    pub fn outstanding(&self) -> (Vec<usize>, Vec<usize>) {
        let st = lock(&self.state);
        (
            st.timers
                .iter()
                .filter(|(_, e)| e.queued)
                .map(|(&t, _)| t)
                .collect(),
            st.dpcs
                .iter()
                .filter(|(_, &q)| q)
                .map(|(&d, _)| d)
                .collect(),
        )
    }
}

impl Default for Dispatcher {
    fn default() -> Self {
        Dispatcher::new()
    }
}

/// A spin lock's word, spun on for real. The owner is recorded so that a recursive acquire
/// (a deadlock on Windows) and a release by a non-owner are reported.
pub fn spin_acquire(word: &std::sync::atomic::AtomicU64, me: u64) -> Result<(), u64> {
    let mut spins = 0u32;
    loop {
        match word.compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => return Ok(()),
            Err(owner) if owner == me => return Err(owner),
            Err(_) => {
                spins += 1;
                if spins % 64 == 0 {
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
        }
    }
}

/// A thread's value for a spin lock word it owns: never 0, distinct per thread.
pub fn owner_tag() -> u64 {
    thread_local! {
        static TAG: u64 = {
            static NEXT: AtomicU64 = AtomicU64::new(1);
            NEXT.fetch_add(1, Ordering::Relaxed) * 2 + 1
        };
    }
    TAG.with(|t| *t)
}

/// A kernel event the I/O manager and kernel32 wait on (file objects' events, user events).
#[derive(Debug)]
pub struct Event {
    signalled: Mutex<bool>,
    cv: Condvar,
    /// Notification (manual reset) or synchronization (auto reset).
    pub manual: bool,
}

impl Event {
    pub fn new(manual: bool, signalled: bool) -> Event {
        Event {
            signalled: Mutex::new(signalled),
            cv: Condvar::new(),
            manual,
        }
    }

    pub fn set(&self) {
        *self.signalled.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cv.notify_all();
    }

    pub fn clear(&self) {
        *self.signalled.lock().unwrap_or_else(|e| e.into_inner()) = false;
    }

    pub fn is_set(&self) -> bool {
        *self.signalled.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits up to `timeout` (None: forever); true when signalled (an auto-reset event is
    /// reset by the wait that sees it).
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut s = self.signalled.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if *s {
                if !self.manual {
                    *s = false;
                }
                return true;
            }
            match deadline {
                None => s = self.cv.wait(s).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    s = self
                        .cv
                        .wait_timeout(s, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }
}
