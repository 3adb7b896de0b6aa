//! Access tokens as kernel objects a driver may query.
//!
//! A create's access state names the requester's token in its subject context
//! (`SECURITY_SUBJECT_CONTEXT.PrimaryToken`); here that is a small system pool block standing
//! for the emulated process's token. `SeQueryInformationToken` answers `TokenUser` for it as
//! Microsoft documents the routine: the information is returned in a buffer the routine
//! allocates (paged pool), which the caller frees with `ExFreePool`; it runs at
//! PASSIVE_LEVEL. Only `TokenUser` is emulated; any other class fails with
//! STATUS_NOT_IMPLEMENTED rather than pretend.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::bugcheck::{self, Stop};
use crate::cpu::{DISPATCH_LEVEL, PASSIVE_LEVEL};
use crate::exports::Export;
use crate::layout::token_user as tu;
use crate::machine::{self, Machine};
use crate::mem;
use crate::ntos::{caller, NT};
use crate::pool::Owner;
use crate::se::Token;

use crate::layout::flags::TOKEN_USER_CLASS;
const STATUS_NOT_IMPLEMENTED: i32 = 0xC000_0002u32 as i32;

thread_local! {
    /// The token of the emulated thread a request runs in, while a service that dispatches it
    /// in the caller's thread (as the I/O manager does) runs it.
    static SUBJECT: std::cell::RefCell<Option<Token>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` in a thread of `token`'s: what SeCaptureSubjectContext captures inside it.
pub fn acting_as<R>(token: &Token, f: impl FnOnce() -> R) -> R {
    let before = SUBJECT.with(|s| s.replace(Some(token.clone())));
    let result = f();
    SUBJECT.with(|s| *s.borrow_mut() = before);
    result
}

/// The current thread's token: the one [`acting_as`] set, or SYSTEM's in a system thread.
pub fn current_subject() -> Token {
    SUBJECT
        .with(|s| s.borrow().clone())
        .unwrap_or_else(Token::system)
}

/// The token objects alive now, by address.
#[derive(Debug, Default)]
pub struct Objects {
    live: Mutex<HashMap<usize, Token>>,
}

impl Objects {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, Token>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A token object for `token`, for the life of one request.
    pub fn register(&self, m: &Machine, token: &Token) -> usize {
        let block = m.system_block(16, *b"Toke");
        self.lock().insert(block.addr, token.clone());
        block.addr
    }

    /// Ends a token object [`Objects::register`] made.
    pub fn unregister(&self, m: &Machine, addr: usize) {
        if self.lock().remove(&addr).is_some() {
            m.pool.free(addr, None, 0, &|_, _| None);
        }
    }

    pub fn get(&self, addr: usize) -> Option<Token> {
        self.lock().get(&addr).cloned()
    }
}

pub fn exports() -> Vec<Export> {
    let f = Export::function;
    vec![
        f(
            NT,
            "SeQueryInformationToken",
            se_query_information_token as *const () as usize,
            PASSIVE_LEVEL,
        ),
        f(
            NT,
            "ExFreePool",
            ex_free_pool as *const () as usize,
            DISPATCH_LEVEL,
        ),
    ]
}

/// `SeQueryInformationToken(Token, TokenInformationClass, &TokenInformation)`.
extern "win64" fn se_query_information_token(token: usize, class: u32, out: usize) -> i32 {
    let m = machine::current();
    let Some(t) = m.tokens.get(token) else {
        bugcheck::stop(Stop::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x1004, token as u64, u64::from(class), out as u64],
            format!("SeQueryInformationToken of {token:#x}, which is no token"),
        ));
    };
    if class != TOKEN_USER_CLASS as u32 {
        return STATUS_NOT_IMPLEMENTED;
    }
    // TOKEN_USER: a SID_AND_ATTRIBUTES whose Sid points just past it, into the same block.
    // An allocation made for the driver: the fault injection that fails the driver's own
    // allocations fails this one too, as low memory would.
    if m.pool.driver_allocation_fails() {
        return crate::ntos::STATUS_INSUFFICIENT_RESOURCES;
    }
    let sid = t.user.to_bytes();
    let size = tu::SIZE + sid.len();
    let Some(block) = m.pool.allocate(
        size,
        u32::from_le_bytes(*b"SeTu"),
        Owner::Driver,
        true,
        caller(),
        true,
    ) else {
        return crate::ntos::STATUS_INSUFFICIENT_RESOURCES;
    };
    let sid_at = block + tu::SIZE;
    let ok = mem::copy_out(block + tu::SID, &(sid_at as u64).to_le_bytes())
        && mem::copy_out(block + tu::ATTRIBUTES, &0u32.to_le_bytes())
        && mem::copy_out(sid_at, &sid)
        && mem::copy_out(out, &(block as u64).to_le_bytes());
    if !ok {
        bugcheck::stop(Stop::new(
            bugcheck::PAGE_FAULT_IN_NONPAGED_AREA,
            [out as u64, 1, caller() as u64, 0],
            "SeQueryInformationToken's output pointer is not writable",
        ));
    }
    0
}

/// `ExFreePool(P)`: any pool block, whatever its tag.
extern "win64" fn ex_free_pool(p: usize) {
    crate::ntos::free_pool(p, None);
}
