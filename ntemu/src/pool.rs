//! Pool, with Driver Verifier's special pool always on.
//!
//! Every block gets pages of its own inside one reservation and is placed so that it ends
//! against an inaccessible guard page (blocks of a page or more start page-aligned, as
//! `ExAllocatePool2` documents, and their slack up to the guard is checked instead). The bytes
//! around a block are filled with a pattern that is checked when it is freed; a freed block's
//! pages are poisoned and made inaccessible, and its addresses are never handed out again, so
//! any later touch faults and is reported as a use after free, naming the allocation. Each
//! live block remembers its tag, size, owner and the driver address that allocated it; a
//! block freed with another tag, twice, or not at all before unload is reported. The Nth
//! allocation of the driver can be made to fail on demand.
//!
//! Past a number of live blocks (a Linux process has a limit on mappings), further blocks come
//! from an ordinary allocation with guard bytes checked at free, as Verifier falls back to
//! normal pool when special pool runs out.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::bugcheck::{self, Stop};
use crate::mem::{self, Raw};

/// `POOL_FLAGS` bits (wdm.h, as learn.microsoft.com's POOL_FLAGS page lists them).
pub const POOL_FLAG_USE_QUOTA: u64 = 0x1;
pub const POOL_FLAG_UNINITIALIZED: u64 = 0x2;
pub const POOL_FLAG_SESSION: u64 = 0x4;
pub const POOL_FLAG_CACHE_ALIGNED: u64 = 0x8;
pub const POOL_FLAG_RAISE_ON_FAILURE: u64 = 0x20;
pub const POOL_FLAG_NON_PAGED: u64 = 0x40;
pub const POOL_FLAG_NON_PAGED_EXECUTE: u64 = 0x80;
pub const POOL_FLAG_PAGED: u64 = 0x100;
const KNOWN_FLAGS: u64 = POOL_FLAG_USE_QUOTA
    | POOL_FLAG_UNINITIALIZED
    | POOL_FLAG_SESSION
    | POOL_FLAG_CACHE_ALIGNED
    | POOL_FLAG_RAISE_ON_FAILURE
    | POOL_FLAG_NON_PAGED
    | POOL_FLAG_NON_PAGED_EXECUTE
    | POOL_FLAG_PAGED;

/// Pattern around a block, checked at free.
const FILL: u8 = 0xA5;
/// What a freed block is overwritten with before its pages go.
const POISON: u8 = 0xF5;
/// Live special-pool blocks beyond which blocks come from normal pool.
const SPECIAL_POOL_LIMIT: usize = 16_000;
/// Guard bytes after a normal-pool block.
const REDZONE: usize = 32;

/// Who a block belongs to: the driver's calls, or the emulated kernel's own structures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Driver,
    System,
}

#[derive(Clone, Debug)]
pub struct Block {
    pub addr: usize,
    pub size: usize,
    pub tag: u32,
    pub owner: Owner,
    pub paged: bool,
    /// The driver address that allocated it (return address of its ExAllocatePool2 call).
    pub site: usize,
    /// The pages that hold it: (start, length); for normal pool the allocation itself.
    region: (usize, usize),
    special: bool,
}

#[derive(Clone, Debug)]
struct Freed {
    block: Block,
    /// Driver address that freed it.
    by: usize,
}

/// The reservation all special pool comes from, and the next unused page of it.
static RESERVATION: OnceLock<Result<(), String>> = OnceLock::new();
static NEXT_PAGE: AtomicUsize = AtomicUsize::new(0);

fn reserve() -> Result<(), String> {
    RESERVATION
        .get_or_init(|| {
            mem::map_fixed(mem::POOL_BASE, mem::POOL_SIZE, mem::PROT_NONE)
                .map_err(|e| format!("reserving pool at {:#x}: {e}", mem::POOL_BASE))
        })
        .clone()
}

pub fn tag_text(tag: u32) -> String {
    tag.to_le_bytes()
        .iter()
        .map(|&b| {
            if (0x20..0x7F).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect()
}

#[derive(Default, Debug)]
struct State {
    live: BTreeMap<usize, Block>,
    /// Freed special-pool regions by start address, for naming a use after free.
    freed: BTreeMap<usize, Freed>,
    special_live: usize,
}

/// Counters a test or a benchmark reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub driver_blocks: usize,
    pub driver_bytes: usize,
    pub system_blocks: usize,
    pub system_bytes: usize,
}

#[derive(Debug, Default)]
pub struct Pool {
    state: Mutex<State>,
    /// Allocations the driver has asked for so far (successful or failed).
    pub driver_allocations: AtomicU64,
    /// When non-zero, the driver allocation with this number (1-based) fails.
    pub fail_at: AtomicU64,
    /// When set, ExFreePoolWithTag ignores every call (a switch of the self-checks).
    pub drop_frees: std::sync::atomic::AtomicBool,
}

impl Pool {
    pub fn new() -> Result<Pool, String> {
        reserve()?;
        Ok(Pool::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the driver's next allocation is the one to fail; counts it.
    pub fn driver_allocation_fails(&self) -> bool {
        let n = self.driver_allocations.fetch_add(1, Ordering::SeqCst) + 1;
        self.fail_at.load(Ordering::SeqCst) == n
    }

    /// Checks `ExAllocatePool2`'s arguments the way the documentation states them; `Err` with a
    /// reason when it must return NULL.
    pub fn check_request(flags: u64, size: usize, tag: u32) -> Result<bool, &'static str> {
        if tag == 0 || !tag.to_le_bytes().iter().all(|b| (0x20..=0x7E).contains(b)) {
            return Err("a tag of 0 or with a byte outside 0x20..0x7E");
        }
        let kinds = flags & (POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED);
        if kinds.count_ones() != 1 || flags & !KNOWN_FLAGS & 0xFFFF_FFFF != 0 {
            return Err("invalid POOL_FLAGS");
        }
        if size == 0 {
            return Err("zero bytes");
        }
        Ok(kinds == POOL_FLAG_PAGED)
    }

    /// Allocates `size` bytes; `None` when memory is exhausted. Zeroed unless `zero` is false.
    pub fn allocate(
        &self,
        size: usize,
        tag: u32,
        owner: Owner,
        paged: bool,
        site: usize,
        zero: bool,
    ) -> Option<usize> {
        // Paged blocks always get pages of their own: Force IRQL checking protects them whole.
        let special = paged || self.lock().special_live < SPECIAL_POOL_LIMIT;
        let block = if special {
            self.allocate_special(size, tag, owner, paged, site)?
        } else {
            self.allocate_normal(size, tag, owner, paged, site)?
        };
        // SAFETY: the block's bytes were just mapped read-write (or allocated) for it alone.
        let raw = unsafe { Raw::new(block.addr, size) };
        if zero {
            crate::count::unstepped(|| raw.fill(0, size, 0));
        } else {
            crate::count::unstepped(|| raw.fill(0, size, 0xCD));
        }
        let addr = block.addr;
        let mut st = self.lock();
        if special {
            st.special_live += 1;
        }
        st.live.insert(addr, block);
        Some(addr)
    }

    fn allocate_special(
        &self,
        size: usize,
        tag: u32,
        owner: Owner,
        paged: bool,
        site: usize,
    ) -> Option<Block> {
        let data_pages = size.div_ceil(mem::PAGE);
        let pages = data_pages + 1;
        let first = NEXT_PAGE.fetch_add(pages, Ordering::Relaxed);
        if (first + pages) * mem::PAGE > mem::POOL_SIZE {
            return None;
        }
        let start = mem::POOL_BASE + first * mem::PAGE;
        let data_len = data_pages * mem::PAGE;
        mem::protect(start, data_len, mem::PROT_RW).ok()?;
        let addr = if size >= mem::PAGE {
            start
        } else {
            start + data_len - mem::round_up(size, 16)
        };
        // SAFETY: the data pages were just made read-write and belong to this block alone.
        let region = unsafe { Raw::new(start, data_len) };
        crate::count::unstepped(|| region.fill(0, data_len, FILL));
        Some(Block {
            addr,
            size,
            tag,
            owner,
            paged,
            site,
            region: (start, data_len),
            special: true,
        })
    }

    fn allocate_normal(
        &self,
        size: usize,
        tag: u32,
        owner: Owner,
        paged: bool,
        site: usize,
    ) -> Option<Block> {
        let len = mem::round_up(size, 16) + REDZONE;
        let layout = std::alloc::Layout::from_size_align(len, 16).ok()?;
        // SAFETY: a non-zero size and a valid alignment.
        let p = unsafe { std::alloc::alloc(layout) } as usize;
        if p == 0 {
            return None;
        }
        // SAFETY: `len` bytes just allocated for this block.
        let region = unsafe { Raw::new(p, len) };
        crate::count::unstepped(|| region.fill(0, len, FILL));
        Some(Block {
            addr: p,
            size,
            tag,
            owner,
            paged,
            site,
            region: (p, len),
            special: false,
        })
    }

    /// Frees a block: checks the address, the tag and the guard bytes, then poisons it.
    /// `tag` None skips the tag check (ExFreePool).
    pub fn free(
        &self,
        addr: usize,
        tag: Option<u32>,
        by: usize,
        timers: &dyn Fn(usize, usize) -> Option<Stop>,
    ) {
        let block = {
            let st = self.lock();
            match st.live.get(&addr) {
                Some(b) => b.clone(),
                None => {
                    drop(st);
                    self.bad_free(addr, by);
                }
            }
        };
        if let Some(t) = tag {
            if t != block.tag {
                bugcheck::stop(
                    Stop::new(
                        bugcheck::BAD_POOL_CALLER,
                        [0x0A, addr as u64, u64::from(block.tag), u64::from(t)],
                        format!(
                            "freed a block tagged '{}' with the tag '{}'",
                            tag_text(block.tag),
                            tag_text(t)
                        ),
                    )
                    .at(by)
                    .detail(format!(
                        "allocated at {}",
                        crate::machine::describe(block.site)
                    )),
                );
            }
        }
        if let Some(stop) = timers(block.addr, block.size) {
            bugcheck::stop(stop.at(by).detail(format!(
                "the block ({} bytes, '{}') was allocated at {}",
                block.size,
                tag_text(block.tag),
                crate::machine::describe(block.site)
            )));
        }
        self.check_guards(&block, by);
        let (start, len) = block.region;
        // SAFETY: the block's region is still mapped read-write and owned by the pool.
        let region = unsafe { Raw::new(start, len) };
        crate::count::unstepped(|| region.fill(0, len, POISON));
        let mut st = self.lock();
        st.live.remove(&addr);
        if block.special {
            st.special_live -= 1;
            drop(st);
            let _ = mem::protect(start, len, mem::PROT_NONE);
            self.lock().freed.insert(start, Freed { block, by });
        } else {
            drop(st);
            let layout =
                std::alloc::Layout::from_size_align(len, 16).expect("layout of a live block");
            // SAFETY: allocated by `allocate_normal` with this very layout, freed once (it
            // was just removed from the live set).
            unsafe { std::alloc::dealloc(start as *mut u8, layout) };
        }
    }

    fn bad_free(&self, addr: usize, by: usize) -> ! {
        let freed = {
            let st = self.lock();
            st.freed
                .range(..=addr)
                .next_back()
                .filter(|(s, f)| addr < **s + f.block.region.1)
                .map(|(_, f)| f.clone())
        };
        match freed {
            Some(f) if f.block.addr == addr => bugcheck::stop(
                Stop::new(
                    bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
                    [0x13, 0, addr as u64, 0],
                    format!(
                        "freed a block twice ({} bytes, '{}')",
                        f.block.size,
                        tag_text(f.block.tag)
                    ),
                )
                .at(by)
                .detail(format!(
                    "allocated at {}",
                    crate::machine::describe(f.block.site)
                ))
                .detail(format!("first freed at {}", crate::machine::describe(f.by))),
            ),
            _ => bugcheck::stop(
                Stop::new(
                    bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
                    [0x10, addr as u64, 0, 0],
                    format!("freed {addr:#x}, which no allocation returned"),
                )
                .at(by),
            ),
        }
    }

    fn check_guards(&self, b: &Block, by: usize) {
        let (start, len) = b.region;
        // SAFETY: the region is live and owned by the pool until `free` finishes.
        let region = unsafe { Raw::new(start, len) };
        let before = b.addr - start;
        let after_start = before + b.size;
        let bad = (0..before)
            .chain(after_start..len)
            .find(|&i| region.r8(i) != FILL);
        if let Some(i) = bad {
            let offset = i as i64 - before as i64;
            bugcheck::stop(
                Stop::new(
                    bugcheck::SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION,
                    [b.addr as u64, (start + i) as u64, u64::from(region.r8(i)), 0x32],
                    format!(
                        "a byte {} the block was overwritten (offset {offset:+} of a {}-byte block tagged '{}')",
                        if offset < 0 { "before" } else { "after" },
                        b.size,
                        tag_text(b.tag)
                    ),
                )
                .at(by)
                .detail(format!("allocated at {}", crate::machine::describe(b.site))),
            );
        }
    }

    /// The block holding `addr`, live or freed, for naming a fault: (block, freed by).
    pub fn who_owns(&self, addr: usize) -> Option<(Block, Option<usize>)> {
        let st = self.state.try_lock().ok()?;
        if let Some((_, b)) = st.live.range(..=addr).next_back() {
            let (start, len) = b.region;
            if addr >= start && addr < start + len + mem::PAGE {
                return Some((b.clone(), None));
            }
        }
        st.freed
            .range(..=addr)
            .next_back()
            .filter(|(s, f)| addr < **s + f.block.region.1 + mem::PAGE)
            .map(|(_, f)| (f.block.clone(), Some(f.by)))
    }

    /// The whole pages holding a live block.
    pub fn region_of(&self, addr: usize) -> Option<(usize, usize)> {
        self.lock().live.get(&addr).map(|b| b.region)
    }

    /// Whether `[addr, addr + len)` lies inside one live block (for validating kernel objects
    /// the driver hands the kernel).
    pub fn live_block_holds(&self, addr: usize, len: usize) -> bool {
        let st = self.lock();
        st.live
            .range(..=addr)
            .next_back()
            .is_some_and(|(_, b)| addr + len <= b.addr + b.size)
    }

    pub fn usage(&self) -> Usage {
        let st = self.lock();
        let mut u = Usage::default();
        for b in st.live.values() {
            match b.owner {
                Owner::Driver => {
                    u.driver_blocks += 1;
                    u.driver_bytes += b.size;
                }
                Owner::System => {
                    u.system_blocks += 1;
                    u.system_bytes += b.size;
                }
            }
        }
        u
    }

    /// The driver's live blocks (for the leak report at unload).
    pub fn driver_blocks(&self) -> Vec<Block> {
        self.lock()
            .live
            .values()
            .filter(|b| b.owner == Owner::Driver)
            .cloned()
            .collect()
    }
}
