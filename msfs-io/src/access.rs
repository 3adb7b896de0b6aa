//! The access a create asks for, reduced to the engine's [`Access`].
//!
//! The driver passes `IO_SECURITY_CONTEXT.DesiredAccess` OR-ed with the `OriginalDesiredAccess`
//! and `PreviouslyGrantedAccess` of its `ACCESS_STATE`: what the caller asked for, generic
//! rights already mapped to file rights by the object manager, whichever of those fields the
//! I/O manager's own access check against the device's security descriptor
//! (FILE_DEVICE_SECURE_OPEN) left it in. The open only succeeds with all of it granted, so it is
//! also what the handle holds. Generic rights are mapped here again for kernel-mode callers
//! that build creates by hand.

use msfs::Access;

pub const FILE_READ_DATA: u32 = 0x0001;
pub const FILE_WRITE_DATA: u32 = 0x0002;
pub const FILE_APPEND_DATA: u32 = 0x0004;
pub const MAXIMUM_ALLOWED: u32 = 0x0200_0000;
pub const GENERIC_ALL: u32 = 0x1000_0000;
pub const GENERIC_WRITE: u32 = 0x4000_0000;
pub const GENERIC_READ: u32 = 0x8000_0000;

/// Read access is FILE_READ_DATA; write access is FILE_WRITE_DATA or FILE_APPEND_DATA (either
/// lets NtWriteFile through the I/O manager). GENERIC_READ/WRITE/ALL map as the file object
/// type maps them; MAXIMUM_ALLOWED grants both (the device's descriptor already decided who
/// may open it at all).
pub fn from_mask(mask: u32) -> Access {
    let all = mask & (GENERIC_ALL | MAXIMUM_ALLOWED) != 0;
    Access {
        read: all || mask & (FILE_READ_DATA | GENERIC_READ) != 0,
        write: all || mask & (FILE_WRITE_DATA | FILE_APPEND_DATA | GENERIC_WRITE) != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FILE_GENERIC_READ / FILE_GENERIC_WRITE as the object manager maps GENERIC_READ/WRITE.
    const FILE_GENERIC_READ: u32 = 0x0012_0089;
    const FILE_GENERIC_WRITE: u32 = 0x0012_0116;
    const SYNCHRONIZE: u32 = 0x0010_0000;
    const WRITE_DAC: u32 = 0x0004_0000;
    const FILE_LIST_DIRECTORY: u32 = 0x0001;

    #[test]
    fn what_kernel32_asks_for() {
        // CreateMailslot: GENERIC_READ | SYNCHRONIZE | WRITE_DAC, mapped.
        assert_eq!(
            from_mask(FILE_GENERIC_READ | SYNCHRONIZE | WRITE_DAC),
            Access::READ
        );
        // CreateFile(GENERIC_WRITE) for a client.
        assert_eq!(from_mask(FILE_GENERIC_WRITE), Access::WRITE);
        assert_eq!(
            from_mask(FILE_GENERIC_READ | FILE_GENERIC_WRITE),
            Access::READ_WRITE
        );
        // A directory listing opens with FILE_LIST_DIRECTORY, which is FILE_READ_DATA.
        assert_eq!(from_mask(FILE_LIST_DIRECTORY | SYNCHRONIZE), Access::READ);
        // FILE_APPEND_DATA alone still writes.
        assert_eq!(from_mask(FILE_APPEND_DATA), Access::WRITE);
    }

    #[test]
    fn unmapped_generic_rights_and_nothing() {
        assert_eq!(from_mask(GENERIC_READ), Access::READ);
        assert_eq!(from_mask(GENERIC_WRITE), Access::WRITE);
        assert_eq!(from_mask(GENERIC_ALL), Access::READ_WRITE);
        assert_eq!(from_mask(MAXIMUM_ALLOWED), Access::READ_WRITE);
        assert_eq!(from_mask(SYNCHRONIZE), Access::NONE);
        assert_eq!(from_mask(0), Access::NONE);
    }
}
