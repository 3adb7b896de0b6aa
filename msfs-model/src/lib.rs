//! A deliberately simple reference model of mailslot semantics, and a runner that applies the
//! same operations to the `msfs` engine and to the model and reports the first difference.
//!
//! The model is written for obviousness, not speed: slots in a vector, names compared in
//! ASCII lowercase (the operation pool only uses ASCII names), a linear scan for everything.
//! The property test (`msfs/tests/model.rs`) and the `engine_ops` fuzz target drive it.

use std::collections::VecDeque;

use arbitrary::Arbitrary;
use msfs::{
    Access, Arbitration, Completion, Config, CreateParameters, DirQuery, Handle, Msfs, NtStatus,
    ReadId, ReadOutcome, Wait, MESSAGE_OVERHEAD,
};

/// Names the operations pick from: case variants of the same name, pseudo-directories, the
/// root and malformed names.
pub const NAMES: [&str; 10] = [
    "\\a", "\\A", "\\b\\c", "\\B\\C", "\\d", "\\b", "", "\\", "\\bad\\", "\\x*",
];
const MAX_SIZES: [u32; 4] = [0, 1, 4, 16];
const QUOTAS: [u32; 4] = [0, 3, 10, 40];
const CAPACITIES: [usize; 7] = [0, 1, 2, 4, 8, 16, 32];
const PATTERNS: [Option<&str>; 8] = [
    None,
    Some("*"),
    Some("a"),
    Some("B*"),
    Some("?"),
    Some("*\\c"),
    Some("b\\?"),
    Some("*a*"),
];
const DIR_CLASSES: [u32; 4] = [1, 2, 3, 12];

#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Timeout {
    Absent,
    Zero,
    Forever,
    Relative,
    Absolute,
}

impl Timeout {
    fn raw(self) -> Option<i64> {
        match self {
            Timeout::Absent => None,
            Timeout::Zero => Some(0),
            Timeout::Forever => Some(-1),
            Timeout::Relative => Some(-50_000),
            Timeout::Absolute => Some(133_000_000_000_000_000),
        }
    }
}

/// One step of a scenario. Indices are taken modulo the size of what they pick from.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Op {
    Create {
        name: u8,
        max: u8,
        quota: u8,
        timeout: Timeout,
        write_access: bool,
    },
    Open {
        name: u8,
        read: bool,
        write: bool,
    },
    Write {
        handle: u8,
        len: u8,
    },
    Read {
        handle: u8,
        capacity: u8,
    },
    Expire {
        read: u8,
    },
    Cancel {
        read: u8,
    },
    Query {
        handle: u8,
    },
    SetTimeout {
        handle: u8,
        timeout: Timeout,
    },
    Peek {
        handle: u8,
        capacity: u8,
    },
    List {
        pattern: u8,
        class: u8,
        small_buffer: bool,
        single: bool,
    },
    Cleanup {
        handle: u8,
    },
    Close {
        handle: u8,
    },
    /// A SetSecurityInfo: a descriptor of `len` × 32 bytes (past the engine's 4 KiB at the
    /// top), made from a generation one too new when `stale`.
    SetSecurity {
        handle: u8,
        len: u8,
        stale: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Root,
    Server(usize),
    Client(usize),
}

#[derive(Debug)]
struct ModelHandle {
    kind: Kind,
    access: Access,
}

#[derive(Debug)]
struct ModelSlot {
    key: String,
    display: String,
    alive: bool,
    max: u32,
    quota: u32,
    timeout: i64,
    messages: VecDeque<Vec<u8>>,
    /// (read number, capacity), oldest first.
    pending: Vec<(usize, usize)>,
    /// The length of the descriptor SetSecurity gave it (created without one).
    security: Option<usize>,
}

/// The reference model.
#[derive(Debug)]
struct Model {
    slots: Vec<ModelSlot>,
    handles: Vec<Option<ModelHandle>>,
    budget_limit: u64,
    budget_used: u64,
}

#[derive(Debug, PartialEq, Eq)]
enum Done {
    Data(Vec<u8>),
    Failed(NtStatus),
}

impl From<Completion<'_>> for Done {
    fn from(c: Completion<'_>) -> Done {
        match c {
            Completion::Delivered(d) => Done::Data(d.to_vec()),
            Completion::Failed(s) => Done::Failed(s),
        }
    }
}

enum ModelName {
    Invalid,
    Empty,
    Root,
    Slot(String),
}

fn model_parse(name: &str) -> ModelName {
    match name {
        "" => ModelName::Empty,
        "\\" => ModelName::Root,
        "\\bad\\" | "\\x*" => ModelName::Invalid,
        n => ModelName::Slot(n.trim_start_matches('\\').to_string()),
    }
}

fn model_glob(pattern: &[char], name: &[char]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some('*'), _) => {
            model_glob(&pattern[1..], name) || (!name.is_empty() && model_glob(pattern, &name[1..]))
        }
        (Some('?'), Some(_)) => model_glob(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) => p == n && model_glob(&pattern[1..], &name[1..]),
        _ => false,
    }
}

impl Model {
    fn alive_with_key(&self, key: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.alive && s.key == key)
    }

    fn charge(len: usize) -> u64 {
        len as u64 + MESSAGE_OVERHEAD
    }

    fn delete(&mut self, slot: usize, done: &mut Vec<(usize, Done)>) {
        let s = &mut self.slots[slot];
        if !s.alive {
            return;
        }
        s.alive = false;
        for (read, _) in s.pending.drain(..) {
            done.push((read, Done::Failed(NtStatus::CANCELLED)));
        }
        for m in s.messages.drain(..) {
            self.budget_used -= Self::charge(m.len());
        }
    }
}

/// How often the runner saw each interesting event, so tests can show the random scenarios
/// reach the corners that matter.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub delivered: usize,
    pub too_small_completions: usize,
    pub cancelled_by_cleanup: usize,
    pub pended: usize,
    pub arbitration_won: usize,
    pub arbitration_lost: usize,
    pub quota_exceeded: usize,
    pub budget_exceeded: usize,
    pub collisions: usize,
    pub forced_closed: usize,
    pub list_overflows: usize,
    pub listed: usize,
    /// SetSecurity changes that replaced a descriptor (the first one or a later one), and
    /// those refused because another came first.
    pub security_set: usize,
    pub security_raced: usize,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        self.delivered += o.delivered;
        self.too_small_completions += o.too_small_completions;
        self.cancelled_by_cleanup += o.cancelled_by_cleanup;
        self.pended += o.pended;
        self.arbitration_won += o.arbitration_won;
        self.arbitration_lost += o.arbitration_lost;
        self.quota_exceeded += o.quota_exceeded;
        self.budget_exceeded += o.budget_exceeded;
        self.collisions += o.collisions;
        self.forced_closed += o.forced_closed;
        self.list_overflows += o.list_overflows;
        self.listed += o.listed;
        self.security_set += o.security_set;
        self.security_raced += o.security_raced;
    }

    /// The names of the events that never happened.
    pub fn missing(&self) -> Vec<&'static str> {
        let all = [
            ("delivered", self.delivered),
            ("too_small_completions", self.too_small_completions),
            ("cancelled_by_cleanup", self.cancelled_by_cleanup),
            ("security_set", self.security_set),
            ("security_raced", self.security_raced),
            ("pended", self.pended),
            ("arbitration_won", self.arbitration_won),
            ("arbitration_lost", self.arbitration_lost),
            ("quota_exceeded", self.quota_exceeded),
            ("budget_exceeded", self.budget_exceeded),
            ("collisions", self.collisions),
            ("forced_closed", self.forced_closed),
            ("list_overflows", self.list_overflows),
            ("listed", self.listed),
        ];
        all.iter()
            .filter(|(_, n)| *n == 0)
            .map(|(name, _)| *name)
            .collect()
    }
}

/// Applies operations to the engine and the model side by side.
pub struct Runner {
    pub stats: Stats,
    engine: Msfs,
    handles: Vec<Option<Handle>>,
    model: Model,
    /// Every read that ever pended: its engine id.
    reads: Vec<ReadId>,
    /// Model: whether each read is still pending.
    read_pending: Vec<bool>,
    counter: u8,
    pub ops_applied: usize,
}

impl Runner {
    pub fn new(budget_bytes: u64) -> Self {
        Runner {
            engine: Msfs::new(Config {
                budget_bytes,
                hash_keys: [7, 11],
                owner_limit_bytes: u64::MAX,
            }),
            handles: Vec::new(),
            model: Model {
                slots: Vec::new(),
                handles: Vec::new(),
                budget_limit: budget_bytes,
                budget_used: 0,
            },
            reads: Vec::new(),
            read_pending: Vec::new(),
            counter: 0,
            ops_applied: 0,
            stats: Stats::default(),
        }
    }

    fn pick_handle(&self, i: u8) -> Option<usize> {
        let live: Vec<usize> = (0..self.handles.len())
            .filter(|&h| self.handles[h].is_some())
            .collect();
        if live.is_empty() {
            None
        } else {
            Some(live[i as usize % live.len()])
        }
    }

    fn add_handle(&mut self, h: Handle, m: ModelHandle) {
        self.handles.push(Some(h));
        self.model.handles.push(Some(m));
    }

    fn translate(&self, log: Vec<(ReadId, Done)>) -> Result<Vec<(usize, Done)>, String> {
        log.into_iter()
            .map(|(id, d)| {
                self.reads
                    .iter()
                    .position(|r| *r == id)
                    .map(|n| (n, d))
                    .ok_or_else(|| format!("completion for unknown read {id:?}"))
            })
            .collect()
    }

    fn settle(&mut self, done: &[(usize, Done)]) {
        for (n, d) in done {
            self.read_pending[*n] = false;
            match d {
                Done::Data(_) => self.stats.delivered += 1,
                Done::Failed(NtStatus::BUFFER_TOO_SMALL) => self.stats.too_small_completions += 1,
                Done::Failed(_) => self.stats.cancelled_by_cleanup += 1,
            }
        }
    }

    fn count_status<T>(&mut self, r: &Result<T, NtStatus>) {
        match r {
            Err(NtStatus::QUOTA_EXCEEDED) => self.stats.quota_exceeded += 1,
            Err(NtStatus::INSUFFICIENT_RESOURCES) => self.stats.budget_exceeded += 1,
            Err(NtStatus::OBJECT_NAME_COLLISION) => self.stats.collisions += 1,
            Err(NtStatus::FILE_FORCED_CLOSED) => self.stats.forced_closed += 1,
            _ => {}
        }
    }

    /// Applies one operation to both; `Err` describes the first difference.
    pub fn apply(&mut self, op: Op) -> Result<(), String> {
        self.ops_applied += 1;
        let r = self.step(op);
        self.engine
            .check_invariants()
            .map_err(|e| format!("after {op:?}: invariant: {e}"))?;
        if self.engine.budget_used() != self.model.budget_used {
            return Err(format!(
                "after {op:?}: budget {} != model {}",
                self.engine.budget_used(),
                self.model.budget_used
            ));
        }
        let open = self.handles.iter().filter(|h| h.is_some()).count();
        if self.engine.open_handles() != open {
            return Err(format!(
                "after {op:?}: {} open handles, model {open}",
                self.engine.open_handles()
            ));
        }
        r.map_err(|e| format!("{op:?}: {e}"))
    }

    fn step(&mut self, op: Op) -> Result<(), String> {
        macro_rules! same {
            ($a:expr, $b:expr) => {{
                let (a, b) = ($a, $b);
                if a != b {
                    return Err(format!("engine {:?} != model {:?}", a, b));
                }
            }};
        }
        match op {
            Op::Create {
                name,
                max,
                quota,
                timeout,
                write_access,
            } => {
                let name = NAMES[name as usize % NAMES.len()];
                let params = CreateParameters {
                    mailslot_quota: QUOTAS[quota as usize % QUOTAS.len()],
                    maximum_message_size: MAX_SIZES[max as usize % MAX_SIZES.len()],
                    read_timeout: timeout.raw(),
                };
                let access = Access {
                    read: true,
                    write: write_access,
                };
                let got = self.engine.create_server(&utf16(name), &params, access, 42);
                self.count_status(&got);
                let expect = match model_parse(name) {
                    ModelName::Invalid | ModelName::Root => Err(NtStatus::OBJECT_NAME_INVALID),
                    ModelName::Empty => Err(NtStatus::OBJECT_PATH_SYNTAX_BAD),
                    ModelName::Slot(display) => {
                        let key = display.to_ascii_lowercase();
                        if self.model.alive_with_key(&key).is_some() {
                            Err(NtStatus::OBJECT_NAME_COLLISION)
                        } else {
                            self.model.slots.push(ModelSlot {
                                key,
                                display,
                                alive: true,
                                max: params.maximum_message_size,
                                quota: params.mailslot_quota,
                                timeout: params.stored_read_timeout(),
                                messages: VecDeque::new(),
                                pending: Vec::new(),
                                security: None,
                            });
                            Ok(self.model.slots.len() - 1)
                        }
                    }
                };
                match (got, expect) {
                    (Ok(h), Ok(slot)) => self.add_handle(
                        h,
                        ModelHandle {
                            kind: Kind::Server(slot),
                            access,
                        },
                    ),
                    (got, expect) => same!(got.map(|_| ()), expect.map(|_| ())),
                }
            }
            Op::Open { name, read, write } => {
                let name = NAMES[name as usize % NAMES.len()];
                let access = Access { read, write };
                let got = self.engine.open(&utf16(name), access);
                let expect = match model_parse(name) {
                    ModelName::Invalid => Err(NtStatus::OBJECT_NAME_INVALID),
                    ModelName::Empty | ModelName::Root => Ok(Kind::Root),
                    ModelName::Slot(display) => self
                        .model
                        .alive_with_key(&display.to_ascii_lowercase())
                        .map(Kind::Client)
                        .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND),
                };
                match (got, expect) {
                    (Ok(h), Ok(kind)) => self.add_handle(h, ModelHandle { kind, access }),
                    (got, expect) => same!(got.map(|_| ()), expect.map(|_| ())),
                }
            }
            Op::Write { handle, len } => {
                let Some(h) = self.pick_handle(handle) else {
                    return Ok(());
                };
                self.counter = self.counter.wrapping_add(1);
                let data: Vec<u8> = (0..len % 21)
                    .map(|i| self.counter.wrapping_add(i))
                    .collect();
                let mut log = Vec::new();
                let got = self
                    .engine
                    .write(self.handles[h].as_ref().unwrap(), &data, |id, c| {
                        log.push((id, Done::from(c)))
                    });
                let got_log = self.translate(log)?;
                let mut expect_log = Vec::new();
                let expect = self.model_write(h, &data, &mut expect_log);
                self.count_status(&got);
                same!(got, expect);
                same!(&got_log, &expect_log);
                self.settle(&got_log);
            }
            Op::Read { handle, capacity } => {
                let Some(h) = self.pick_handle(handle) else {
                    return Ok(());
                };
                let capacity = CAPACITIES[capacity as usize % CAPACITIES.len()];
                let got = self
                    .engine
                    .read(self.handles[h].as_ref().unwrap(), capacity);
                let expect = self.model_read(h, capacity);
                match (got, expect) {
                    (Ok(ReadOutcome::Message(m)), Ok(Ok(data))) => same!(m.as_bytes(), &data[..]),
                    (Ok(ReadOutcome::Pending { id, wait }), Ok(Err(expected_wait))) => {
                        same!(wait, expected_wait);
                        self.stats.pended += 1;
                        self.reads.push(id);
                        self.read_pending.push(true);
                        let Kind::Server(slot) = self.model.handles[h].as_ref().unwrap().kind
                        else {
                            return Err("pending read on a non-server".into());
                        };
                        self.model.slots[slot]
                            .pending
                            .push((self.reads.len() - 1, capacity));
                    }
                    (Err(a), Err(b)) if a == b => {}
                    (got, expect) => {
                        return Err(format!("read: engine {got:?} != model {expect:?}"))
                    }
                }
            }
            Op::Expire { read } | Op::Cancel { read } => {
                if self.reads.is_empty() {
                    return Ok(());
                }
                // Mostly one of the eight newest reads, so live reads are raced, not only
                // long-finished ones.
                let recent = self.reads.len().min(8);
                let n = if read < 192 {
                    self.reads.len() - 1 - (read as usize % recent)
                } else {
                    read as usize % self.reads.len()
                };
                let (got, status) = match op {
                    Op::Expire { .. } => (self.engine.expire(self.reads[n]), NtStatus::IO_TIMEOUT),
                    _ => (self.engine.cancel(self.reads[n]), NtStatus::CANCELLED),
                };
                let expect = if self.read_pending[n] {
                    for s in &mut self.model.slots {
                        s.pending.retain(|&(r, _)| r != n);
                    }
                    self.read_pending[n] = false;
                    Arbitration::Won(status)
                } else {
                    Arbitration::Lost
                };
                match got {
                    Arbitration::Won(_) => self.stats.arbitration_won += 1,
                    Arbitration::Lost => self.stats.arbitration_lost += 1,
                }
                same!(got, expect);
            }
            Op::Query { handle } => {
                let Some(h) = self.pick_handle(handle) else {
                    return Ok(());
                };
                let got = self.engine.query_info(self.handles[h].as_ref().unwrap());
                let expect = match self.model.handles[h].as_ref().unwrap().kind {
                    Kind::Root => Err(NtStatus::INVALID_PARAMETER),
                    Kind::Server(s) | Kind::Client(s) if !self.model.slots[s].alive => Err(
                        if matches!(
                            self.model.handles[h].as_ref().unwrap().kind,
                            Kind::Server(_)
                        ) {
                            NtStatus::FILE_CLOSED
                        } else {
                            NtStatus::FILE_FORCED_CLOSED
                        },
                    ),
                    Kind::Server(s) | Kind::Client(s) => {
                        let s = &self.model.slots[s];
                        Ok(msfs::MailslotInfo {
                            maximum_message_size: s.max,
                            mailslot_quota: s.quota,
                            next_message_size: s
                                .messages
                                .front()
                                .map_or(u32::MAX, |m| m.len() as u32),
                            messages_available: s.messages.len() as u32,
                            read_timeout: s.timeout,
                        })
                    }
                };
                same!(got, expect);
            }
            Op::SetTimeout { handle, timeout } => {
                let Some(h) = self.pick_handle(handle) else {
                    return Ok(());
                };
                let raw = timeout.raw().unwrap_or(-1);
                let got = self
                    .engine
                    .set_read_timeout(self.handles[h].as_ref().unwrap(), raw);
                let expect = match self.model.handles[h].as_ref().unwrap().kind {
                    Kind::Server(s) if self.model.slots[s].alive => {
                        self.model.slots[s].timeout = raw;
                        Ok(())
                    }
                    Kind::Server(_) => Err(NtStatus::FILE_CLOSED),
                    _ => Err(NtStatus::INVALID_PARAMETER),
                };
                same!(got, expect);
            }
            Op::Peek { handle, capacity } => {
                let Some(h) = self.pick_handle(handle) else {
                    return Ok(());
                };
                let capacity = CAPACITIES[capacity as usize % CAPACITIES.len()];
                let mut buf = vec![0u8; capacity];
                let got = self
                    .engine
                    .peek(self.handles[h].as_ref().unwrap(), &mut buf);
                let expect = match self.model.handles[h].as_ref().unwrap().kind {
                    Kind::Root => Err(NtStatus::INVALID_DEVICE_REQUEST),
                    Kind::Client(_) => Err(NtStatus::INVALID_PARAMETER),
                    Kind::Server(s) if !self.model.slots[s].alive => Err(NtStatus::FILE_CLOSED),
                    Kind::Server(s) => {
                        let s = &self.model.slots[s];
                        let head = s.messages.front().cloned().unwrap_or_default();
                        let copied = head.len().min(capacity);
                        Ok((
                            msfs::PeekHeader {
                                read_data_available: s.messages.iter().map(Vec::len).sum::<usize>()
                                    as u32,
                                number_of_messages: s.messages.len() as u32,
                                message_length: head.len() as u32,
                            },
                            head[..copied].to_vec(),
                            if copied < head.len() {
                                NtStatus::BUFFER_OVERFLOW
                            } else {
                                NtStatus::SUCCESS
                            },
                        ))
                    }
                };
                same!(
                    got.map(|p| (p.header, buf[..p.copied].to_vec(), p.status)),
                    expect
                );
            }
            Op::List {
                pattern,
                class,
                small_buffer,
                single,
            } => {
                let pattern = PATTERNS[pattern as usize % PATTERNS.len()];
                let class = DIR_CLASSES[class as usize % DIR_CLASSES.len()];
                let got = self.list(pattern, class, small_buffer, single)?;
                let pchars: Option<Vec<char>> =
                    pattern.map(|p| p.to_ascii_lowercase().chars().collect());
                let expect: Vec<String> = self
                    .model
                    .slots
                    .iter()
                    .filter(|s| s.alive)
                    .filter(|s| {
                        pchars
                            .as_ref()
                            .is_none_or(|p| model_glob(p, &s.key.chars().collect::<Vec<_>>()))
                    })
                    .map(|s| s.display.clone())
                    .collect();
                self.stats.listed += got.len();
                same!(got, expect);
            }
            Op::SetSecurity { handle, len, stale } => {
                let Some(h) = self.pick_handle(handle) else {
                    return Ok(());
                };
                let len = usize::from(len) * 32;
                let handle = self.handles[h].as_ref().unwrap();
                let mut buf = vec![0u8; msfs::MAX_SECURITY_BYTES];
                let base = self.engine.security_for_update(handle, &mut buf);
                let got = base.and_then(|b| {
                    let generation = if stale {
                        b.generation.wrapping_add(1)
                    } else {
                        b.generation
                    };
                    self.engine
                        .replace_security(handle, generation, vec![7u8; len].into_boxed_slice())
                        .map(|old| (b.len, old.map(|o| o.len())))
                });
                let expect = match self.model.handles[h].as_ref().unwrap().kind {
                    Kind::Root => Err(NtStatus::INVALID_DEVICE_REQUEST),
                    Kind::Server(s) if !self.model.slots[s].alive => Err(NtStatus::FILE_CLOSED),
                    Kind::Client(s) if !self.model.slots[s].alive => {
                        Err(NtStatus::FILE_FORCED_CLOSED)
                    }
                    Kind::Client(s) if self.model.slots[s].security.is_none() => {
                        Err(NtStatus::ACCESS_DENIED)
                    }
                    Kind::Server(s) | Kind::Client(s) => {
                        let old = self.model.slots[s].security;
                        if stale {
                            self.stats.security_raced += 1;
                            Err(NtStatus::RETRY)
                        } else if len > msfs::MAX_SECURITY_BYTES {
                            Err(NtStatus::INVALID_SECURITY_DESCR)
                        } else {
                            self.stats.security_set += 1;
                            self.model.slots[s].security = Some(len);
                            Ok((old, old))
                        }
                    }
                };
                same!(got, expect);
            }
            Op::Cleanup { handle } | Op::Close { handle } => {
                let Some(h) = self.pick_handle(handle) else {
                    return Ok(());
                };
                let mut log = Vec::new();
                let mut sink = |id, c: Completion<'_>| log.push((id, Done::from(c)));
                if matches!(op, Op::Close { .. }) {
                    let handle = self.handles[h].take().unwrap();
                    self.engine.close(handle, &mut sink);
                } else {
                    self.engine
                        .cleanup(self.handles[h].as_ref().unwrap(), &mut sink);
                }
                let got_log = self.translate(log)?;
                let mut expect_log = Vec::new();
                if let Kind::Server(s) = self.model.handles[h].as_ref().unwrap().kind {
                    self.model.delete(s, &mut expect_log);
                }
                if matches!(op, Op::Close { .. }) {
                    self.model.handles[h] = None;
                }
                same!(&got_log, &expect_log);
                self.settle(&got_log);
            }
        }
        Ok(())
    }

    fn model_write(
        &mut self,
        h: usize,
        data: &[u8],
        done: &mut Vec<(usize, Done)>,
    ) -> Result<usize, NtStatus> {
        let mh = self.model.handles[h].as_ref().unwrap();
        let slot = match mh.kind {
            Kind::Root => return Err(NtStatus::INVALID_DEVICE_REQUEST),
            Kind::Server(_) if mh.access.write => return Err(NtStatus::INVALID_PARAMETER),
            Kind::Server(_) => return Err(NtStatus::ACCESS_DENIED),
            Kind::Client(_) if !mh.access.write => return Err(NtStatus::ACCESS_DENIED),
            Kind::Client(s) => s,
        };
        let limit = self.model.budget_limit;
        let used = self.model.budget_used;
        let s = &mut self.model.slots[slot];
        if !s.alive {
            return Err(NtStatus::FILE_FORCED_CLOSED);
        }
        if s.max != 0 && data.len() > s.max as usize {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        if let Some(k) = s.pending.iter().position(|&(_, cap)| cap >= data.len()) {
            for (read, _) in s.pending.drain(..k) {
                done.push((read, Done::Failed(NtStatus::BUFFER_TOO_SMALL)));
            }
            let (read, _) = s.pending.remove(0);
            done.push((read, Done::Data(data.to_vec())));
            return Ok(data.len());
        }
        let queued: usize = s.messages.iter().map(Vec::len).sum();
        if s.quota != 0 && queued + data.len() > s.quota as usize {
            return Err(NtStatus::QUOTA_EXCEEDED);
        }
        if used + Model::charge(data.len()) > limit {
            return Err(NtStatus::INSUFFICIENT_RESOURCES);
        }
        for (read, _) in s.pending.drain(..) {
            done.push((read, Done::Failed(NtStatus::BUFFER_TOO_SMALL)));
        }
        s.messages.push_back(data.to_vec());
        self.model.budget_used += Model::charge(data.len());
        Ok(data.len())
    }

    /// `Ok(Ok(message))`, `Ok(Err(wait))` for a pending read, or the error.
    fn model_read(&mut self, h: usize, capacity: usize) -> Result<Result<Vec<u8>, Wait>, NtStatus> {
        let mh = self.model.handles[h].as_ref().unwrap();
        let slot = match mh.kind {
            Kind::Root => return Err(NtStatus::INVALID_DEVICE_REQUEST),
            Kind::Client(_) if mh.access.read => return Err(NtStatus::INVALID_PARAMETER),
            Kind::Client(_) => return Err(NtStatus::ACCESS_DENIED),
            Kind::Server(_) if !mh.access.read => return Err(NtStatus::ACCESS_DENIED),
            Kind::Server(s) => s,
        };
        let s = &mut self.model.slots[slot];
        if !s.alive {
            return Err(NtStatus::FILE_CLOSED);
        }
        if let Some(head) = s.messages.front() {
            if head.len() > capacity {
                return Err(NtStatus::BUFFER_TOO_SMALL);
            }
            let m = s.messages.pop_front().unwrap();
            self.model.budget_used -= Model::charge(m.len());
            return Ok(Ok(m));
        }
        match s.timeout {
            0 => Err(NtStatus::IO_TIMEOUT),
            -1 => Ok(Err(Wait::Forever)),
            t => Ok(Err(Wait::Until(t))),
        }
    }

    /// A full scan through a new root handle, as a tool would list the namespace.
    fn list(
        &mut self,
        pattern: Option<&str>,
        class: u32,
        small_buffer: bool,
        single: bool,
    ) -> Result<Vec<String>, String> {
        let mut root = self
            .engine
            .open(&[], Access::READ)
            .map_err(|s| format!("open root: {s:?}"))?;
        let base = msfs::dir::DirClass::from_raw(class).unwrap().base_len();
        let pattern_bytes = pattern.map(utf16);
        let mut q = DirQuery {
            class,
            restart_scan: true,
            return_single_entry: single,
            pattern: pattern_bytes.as_deref(),
        };
        let mut names = Vec::new();
        let mut overflowed: Option<String> = None;
        for _ in 0..1000 {
            let size = if small_buffer && overflowed.is_none() {
                base + 3
            } else {
                4096
            };
            let mut buf = vec![0u8; size];
            let r = self.engine.query_directory(&mut root, &q, &mut buf);
            q.restart_scan = false;
            q.pattern = None;
            let recs = parse_records(base, class, &buf, r.information);
            match r.status {
                NtStatus::SUCCESS => {
                    if let Some(partial) = overflowed.take() {
                        if !recs.first().is_some_and(|n| n.starts_with(&partial)) {
                            return Err(format!("after overflow with {partial:?} came {recs:?}"));
                        }
                    }
                    if single && recs.len() != 1 {
                        return Err(format!("single-entry query returned {recs:?}"));
                    }
                    names.extend(recs);
                }
                NtStatus::BUFFER_OVERFLOW => {
                    self.stats.list_overflows += 1;
                    overflowed = Some(recs.into_iter().next().unwrap_or_default())
                }
                NtStatus::NO_MORE_FILES | NtStatus::NO_SUCH_FILE => {
                    let first = names.is_empty() && overflowed.is_none();
                    let expected = if first {
                        NtStatus::NO_SUCH_FILE
                    } else {
                        NtStatus::NO_MORE_FILES
                    };
                    if r.status != expected || r.information != 0 {
                        return Err(format!("scan ended with {r:?}, expected {expected:?}"));
                    }
                    self.engine.close(root, |_, _| {});
                    return Ok(names);
                }
                other => return Err(format!("directory query: {other:?}")),
            }
        }
        Err("directory scan does not end".into())
    }
}

/// The names in one directory reply, following NextEntryOffset.
fn parse_records(base: usize, class: u32, buf: &[u8], information: usize) -> Vec<String> {
    let mut out = Vec::new();
    if information == 0 {
        return out;
    }
    let len_at = if class == 12 { 0x08 } else { 0x3C };
    let mut offset = 0;
    loop {
        let u32_at = |o: usize| u32::from_le_bytes(buf[o..o + 4].try_into().unwrap()) as usize;
        let next = u32_at(offset);
        let full = u32_at(offset + len_at);
        let start = offset + base;
        let end = (start + full).min(information);
        let units: Vec<u16> = buf[start..end]
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        out.push(String::from_utf16_lossy(&units));
        if next == 0 {
            return out;
        }
        offset += next;
    }
}

/// An operation drawn with weights that keep slots alive long enough for queues, pending
/// reads and budgets to fill: writes and reads dominate, deletions are rare.
pub fn weighted_op(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Op> {
    let pick: u8 = u.int_in_range(0..=99)?;
    Ok(match pick {
        0..=7 => Op::Create {
            name: u.arbitrary()?,
            max: u.arbitrary()?,
            quota: u.arbitrary()?,
            timeout: u.arbitrary()?,
            write_access: u.arbitrary()?,
        },
        8..=19 => Op::Open {
            name: u.arbitrary()?,
            read: u.arbitrary()?,
            write: u.int_in_range(0..=3)? != 0,
        },
        20..=47 => Op::Write {
            handle: u.arbitrary()?,
            len: u.arbitrary()?,
        },
        48..=65 => Op::Read {
            handle: u.arbitrary()?,
            capacity: u.arbitrary()?,
        },
        66..=69 => Op::Expire {
            read: u.arbitrary()?,
        },
        70..=73 => Op::Cancel {
            read: u.arbitrary()?,
        },
        74..=78 => Op::Query {
            handle: u.arbitrary()?,
        },
        79..=81 => Op::SetTimeout {
            handle: u.arbitrary()?,
            timeout: u.arbitrary()?,
        },
        82..=86 => Op::Peek {
            handle: u.arbitrary()?,
            capacity: u.arbitrary()?,
        },
        87..=92 => Op::List {
            pattern: u.arbitrary()?,
            class: u.arbitrary()?,
            small_buffer: u.arbitrary()?,
            single: u.arbitrary()?,
        },
        93..=95 => Op::Cleanup {
            handle: u.arbitrary()?,
        },
        96 => Op::SetSecurity {
            handle: u.arbitrary()?,
            len: u.arbitrary()?,
            stale: u.int_in_range(0..=7)? == 0,
        },
        _ => Op::Close {
            handle: u.arbitrary()?,
        },
    })
}

pub fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Runs a whole scenario from fuzzer or property-test bytes; `Err` is the first difference.
pub fn run_bytes(data: &[u8], budget_bytes: u64) -> Result<usize, String> {
    run_bytes_with_stats(data, budget_bytes).map(|(ops, _)| ops)
}

/// As [`run_bytes`], also returning what the scenario reached.
pub fn run_bytes_with_stats(data: &[u8], budget_bytes: u64) -> Result<(usize, Stats), String> {
    let mut u = arbitrary::Unstructured::new(data);
    let mut runner = Runner::new(budget_bytes);
    while !u.is_empty() {
        let Ok(op) = weighted_op(&mut u) else { break };
        runner.apply(op)?;
    }
    // Tear everything down: every pending read must be completed exactly once.
    while runner.pick_handle(0).is_some() {
        runner.apply(Op::Close { handle: 0 })?;
    }
    if runner.read_pending.iter().any(|&p| p) {
        return Err("a read is still pending after every handle closed".into());
    }
    if !runner.engine.is_idle() {
        return Err("engine not idle after every handle closed".into());
    }
    Ok((runner.ops_applied, runner.stats))
}
