//! Who a server create's requester is: the user SID of the token in the create's subject
//! context (the client token when the requester impersonates, else its primary token, as
//! `SeQuerySubjectContextToken` picks), as the engine [`Owner`] its mailslot is charged to.

use super::*;
use msfs::Owner;

/// The owner for the create whose `IO_SECURITY_CONTEXT` is at `security_context`.
/// STATUS_ACCESS_DENIED when it names no token (nobody to charge), the status of
/// SeQueryInformationToken when that fails, STATUS_INVALID_SID for a malformed SID.
///
/// # Safety
/// PASSIVE_LEVEL, in the create's dispatch; `security_context` is the create's (or 0).
pub(super) unsafe fn owner_of(engine: &Engine, security_context: u64) -> Result<Owner, NtStatus> {
    // SAFETY: per the contract.
    let Some(state) = (unsafe { super::security::access_state(security_context) }) else {
        return Err(NtStatus::ACCESS_DENIED);
    };
    // SAFETY: the I/O manager's access state for this create.
    let token = unsafe {
        let subject = &(*state).SubjectSecurityContext;
        if subject.ClientToken.is_null() {
            subject.PrimaryToken
        } else {
            subject.ClientToken
        }
    };
    if token.is_null() {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let mut info: *mut c_void = null_mut();
    // SAFETY: a token of this create's subject context; `info` receives a buffer the routine
    // allocates, freed below.
    let status = unsafe { SeQueryInformationToken(token, TOKEN_USER_CLASS, &mut info) };
    if status < 0 {
        return Err(NtStatus(status));
    }
    if info.is_null() {
        return Err(NtStatus::INSUFFICIENT_RESOURCES);
    }
    // SAFETY: a TOKEN_USER whose Sid points into the same buffer, at a SID whose header says
    // how long it is; its length is read before the rest and bounded (at most 15
    // sub-authorities) before any byte past the header is.
    let owner = unsafe {
        let sid = (*info.cast::<TOKEN_USER>()).Sid;
        if sid.is_null() {
            Err(NtStatus::INVALID_SID)
        } else {
            let count = usize::from(*sid.add(1));
            match count.checked_mul(4).and_then(|n| n.checked_add(8)) {
                Some(len) if count <= 15 => {
                    engine.owner_of_sid(core::slice::from_raw_parts(sid, len))
                }
                _ => Err(NtStatus::INVALID_SID),
            }
        }
    };
    // SAFETY: SeQueryInformationToken's buffer, freed once.
    unsafe { ExFreePool(info) };
    owner
}
