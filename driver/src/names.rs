//! The names by which Windows knows the driver. The INF, the install scripts and the harness
//! must agree with these; a host test checks the INF against them.

/// The NT device name of the control device.
pub const DEVICE_NAME: &str = "\\Device\\RsMailslot";
/// The DOS link applications open as `\\.\RsMailslot\...`.
pub const SYMBOLIC_LINK: &str = "\\DosDevices\\RsMailslot";
/// The service (and driver object) name the INF installs.
pub const SERVICE_NAME: &str = "RsMailslot";
/// The image the INF copies to the drivers folder.
pub const BINARY_NAME: &str = "rsmailslot.sys";
/// The control device's descriptor: SYSTEM and administrators all access, everyone and
/// restricted code read. It governs opens of the device itself (`\\.\RsMailslot`, the
/// namespace's root, which lists mailslots); opens of names below it are checked by the driver,
/// since the device is not FILE_DEVICE_SECURE_OPEN (`device::open_namespace` says why). Nobody
/// but SYSTEM and administrators may change the device's own descriptor (WRITE_DAC).
pub const SDDL: &str = "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GR;;;WD)(A;;GR;;;RC)";

pub const DEVICE_NAME_UTF16: [u16; DEVICE_NAME.len()] = utf16(DEVICE_NAME);
pub const SYMBOLIC_LINK_UTF16: [u16; SYMBOLIC_LINK.len()] = utf16(SYMBOLIC_LINK);
pub const SDDL_UTF16: [u16; SDDL.len()] = utf16(SDDL);

/// A counted string over UTF-16 text, for kernel calls that take `PCUNICODE_STRING`; the
/// caller keeps `chars` alive while the string is used.
pub fn unicode(chars: &[u16]) -> crate::ffi::UNICODE_STRING {
    // A counted string holds at most 0xFFFE bytes (an even count of UTF-16 units).
    let bytes = u16::try_from(chars.len() * 2).unwrap_or(0xFFFE);
    crate::ffi::UNICODE_STRING {
        Length: bytes,
        MaximumLength: bytes,
        Buffer: chars.as_ptr().cast_mut(),
    }
}

/// ASCII to UTF-16 at compile time.
pub const fn utf16<const N: usize>(s: &str) -> [u16; N] {
    let bytes = s.as_bytes();
    let mut out = [0u16; N];
    let mut i = 0;
    while i < N && i < bytes.len() {
        assert!(bytes[i] < 0x80, "ASCII only");
        out[i] = bytes[i] as u16;
        i += 1;
    }
    out
}

/// As [`utf16`], with the terminating NUL in the last element.
pub const fn utf16_nul<const N: usize>(s: &str) -> [u16; N] {
    assert!(s.len() + 1 == N, "room for exactly the text and a NUL");
    utf16(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_names() {
        assert_eq!(String::from_utf16(&DEVICE_NAME_UTF16).unwrap(), DEVICE_NAME);
        assert_eq!(
            String::from_utf16(&SYMBOLIC_LINK_UTF16).unwrap(),
            SYMBOLIC_LINK
        );
        assert_eq!(String::from_utf16(&SDDL_UTF16).unwrap(), SDDL);
        assert_eq!(utf16_nul::<3>("ab"), [0x61, 0x62, 0]);
        let u = unicode(&DEVICE_NAME_UTF16);
        assert_eq!((u.Length, u.MaximumLength), (36, 36));
        assert_eq!(u.Buffer.cast_const(), DEVICE_NAME_UTF16.as_ptr());
    }

    #[test]
    fn prefix_length_matches_the_engine_limit() {
        // The engine's longest relative name leaves room for this device prefix within the
        // object manager's 65,532-byte limit.
        assert_eq!(msfs::name::MAX_NAME_BYTES + DEVICE_NAME.len() * 2, 65_532);
    }
}
