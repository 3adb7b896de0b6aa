//! Changing a mailslot's descriptor (IRP_MJ_SET_SECURITY, SetSecurityInfo) in two steps around
//! work the kernel layer does outside the lock: [`Msfs::security_for_update`] copies what the
//! change starts from and notes its generation; [`Msfs::replace_security`] installs the result
//! only if no other change came in between, charging the difference to the slot's owner.

use super::{copy_descriptor, live, live_mut, security_charge, HandleKind, Msfs, Slot, SlotRef};
use crate::engine::{Handle, Security, MAX_SECURITY_BYTES};
use crate::status::NtStatus;

/// What a change of a slot's descriptor starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecurityBase {
    /// The length of the slot's descriptor, copied into the caller's buffer; `None` when it
    /// has none (the default: any user may open it).
    pub len: Option<usize>,
    /// Which version of the descriptor that is, for [`Msfs::replace_security`].
    pub generation: u64,
}

impl Msfs {
    /// The slot of `handle` whose descriptor a change may replace. A mailslot without a
    /// descriptor was opened by its clients without any check, so only its server handle may
    /// give it one: STATUS_ACCESS_DENIED for a client's [choice]. The root's descriptor is the
    /// device's, not ours: STATUS_INVALID_DEVICE_REQUEST. STATUS_FILE_CLOSED (server) or
    /// STATUS_FILE_FORCED_CLOSED (client) for a slot that is gone.
    fn updatable(&self, handle: &Handle) -> Result<(SlotRef, &Slot), NtStatus> {
        let (slot_ref, gone, server) = match handle.kind {
            HandleKind::Server { slot, .. } => (slot, NtStatus::FILE_CLOSED, true),
            HandleKind::Client { slot, .. } => (slot, NtStatus::FILE_FORCED_CLOSED, false),
            HandleKind::Root(_) => return Err(NtStatus::INVALID_DEVICE_REQUEST),
        };
        let slot = live(&self.entries, slot_ref).ok_or(gone)?;
        if slot.security.is_none() && !server {
            return Err(NtStatus::ACCESS_DENIED);
        }
        Ok((slot_ref, slot))
    }

    /// The first step of a change of `handle`'s slot's descriptor: the descriptor copied into
    /// `out` (at most [`MAX_SECURITY_BYTES`]; STATUS_BUFFER_TOO_SMALL if it does not fit) and
    /// its generation. The errors of [`Msfs::replace_security`] but the race's.
    pub fn security_for_update(
        &self,
        handle: &Handle,
        out: &mut [u8],
    ) -> Result<SecurityBase, NtStatus> {
        let (_, slot) = self.updatable(handle)?;
        Ok(SecurityBase {
            len: copy_descriptor(slot, out)?,
            generation: slot.security_generation,
        })
    }

    /// The second step: `new` becomes the slot's descriptor if it is still at `generation`
    /// (STATUS_RETRY if another change came first), charged to the slot's owner in place of
    /// the old one (STATUS_QUOTA_EXCEEDED past its share; STATUS_INVALID_SECURITY_DESCR for
    /// one longer than [`MAX_SECURITY_BYTES`]). Returns the descriptor it replaces, for the
    /// caller to free outside the lock; on failure nothing changed. Allocates nothing.
    pub fn replace_security(
        &mut self,
        handle: &Handle,
        generation: u64,
        new: Security,
    ) -> Result<Option<Security>, NtStatus> {
        let (slot_ref, slot) = self.updatable(handle)?;
        if slot.security_generation != generation {
            return Err(NtStatus::RETRY);
        }
        if new.len() > MAX_SECURITY_BYTES {
            return Err(NtStatus::INVALID_SECURITY_DESCR);
        }
        let owner = slot.owner;
        let old_charge = security_charge(&slot.security);
        let new_charge = u64::try_from(new.len()).unwrap_or(u64::MAX);
        if let Some(more) = new_charge.checked_sub(old_charge).filter(|&m| m > 0) {
            self.ledger.check(owner, more, self.owner_limit)?;
        }
        let next = generation.checked_add(1).ok_or(NtStatus::RETRY)?;
        let slot = live_mut(&mut self.entries, slot_ref).ok_or(NtStatus::FILE_CLOSED)?;
        let old = slot.security.replace(new);
        slot.security_generation = next;
        // The owner has an account (it holds the slot), so a charge never allocates.
        match new_charge.checked_sub(old_charge) {
            Some(more) => self.ledger.charge(owner, more),
            None => self
                .ledger
                .release(owner, old_charge.saturating_sub(new_charge)),
        }
        Ok(old)
    }
}
