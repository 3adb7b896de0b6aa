//! The limits the driver runs with: defaults, or the REG_DWORD values of the service's
//! `Parameters` key, read once at load (`msfs_io::settings` says which and their ranges).

use msfs_io::settings::{Limits, PER_USER_MIB, QUEUED_MESSAGES_MIB};

use crate::ffi::*;
use crate::kernel::trace;
use crate::kmdf;
use crate::names::{unicode, utf16};

const QUEUED_UTF16: [u16; QUEUED_MESSAGES_MIB.len()] = utf16(QUEUED_MESSAGES_MIB);
const PER_USER_UTF16: [u16; PER_USER_MIB.len()] = utf16(PER_USER_MIB);

/// The limits, from the Parameters key when it can be read; values that are not there, or
/// that are out of range, leave their defaults (the second are traced).
///
/// # Safety
/// `driver` from WdfDriverCreate; PASSIVE_LEVEL.
pub unsafe fn read(driver: WDFDRIVER) -> Limits {
    // SAFETY: per the contract.
    let Ok(key) = (unsafe { kmdf::driver_open_parameters_key(driver) }) else {
        trace(c"rsmailslot: Parameters key unreadable; default limits\n");
        return Limits::default();
    };
    let query = |name: &[u16]| {
        let name = unicode(name);
        // SAFETY: `key` is open until the close below; `name` lives for the call.
        unsafe { kmdf::registry_query_ulong(key, &name) }.ok()
    };
    let (limits, ignored) = Limits::from_values(query(&QUEUED_UTF16), query(&PER_USER_UTF16));
    // SAFETY: opened above, not used again.
    unsafe { kmdf::registry_close(key) };
    if ignored.iter().any(Option::is_some) {
        trace(c"rsmailslot: a Parameters value is out of range and ignored\n");
    }
    limits
}
