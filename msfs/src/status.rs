//! NTSTATUS values the engine speaks.
//!
//! The engine never produces Win32 error codes: the I/O manager and kernel32 translate these
//! (`RtlNtStatusToDosError`), and the mapping is listed next to each constant so tests and
//! readers can see what an application will observe.

use core::fmt;

/// An NTSTATUS value, bit for bit as the kernel uses it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct NtStatus(pub i32);

macro_rules! statuses {
    ($($(#[$doc:meta])* $name:ident = $value:expr;)*) => {
        impl NtStatus {
            $($(#[$doc])* pub const $name: NtStatus = NtStatus($value as u32 as i32);)*

            /// The symbolic name (`STATUS_...`) of a status this crate defines.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $(NtStatus::$name => Some(concat!("STATUS_", stringify!($name))),)*
                    _ => None,
                }
            }
        }
    };
}

statuses! {
    /// Win32 0.
    SUCCESS = 0x0000_0000u32;
    /// Win32 997 ERROR_IO_PENDING.
    PENDING = 0x0000_0103u32;
    /// A warning: data was returned but truncated. Win32 234 ERROR_MORE_DATA.
    BUFFER_OVERFLOW = 0x8000_0005u32;
    /// A warning: a directory scan has nothing more. Win32 18 ERROR_NO_MORE_FILES.
    NO_MORE_FILES = 0x8000_0006u32;
    /// Win32 87 ERROR_INVALID_PARAMETER.
    INVALID_INFO_CLASS = 0xC000_0003u32;
    /// A caller pointer that cannot be read or written. Win32 998 ERROR_NOACCESS.
    ACCESS_VIOLATION = 0xC000_0005u32;
    /// Win32 24 ERROR_BAD_LENGTH.
    INFO_LENGTH_MISMATCH = 0xC000_0004u32;
    /// Win32 87 ERROR_INVALID_PARAMETER.
    INVALID_PARAMETER = 0xC000_000Du32;
    /// Win32 2 ERROR_FILE_NOT_FOUND.
    NO_SUCH_FILE = 0xC000_000Fu32;
    /// Win32 1 ERROR_INVALID_FUNCTION.
    INVALID_DEVICE_REQUEST = 0xC000_0010u32;
    /// Win32 5 ERROR_ACCESS_DENIED.
    ACCESS_DENIED = 0xC000_0022u32;
    /// Win32 122 ERROR_INSUFFICIENT_BUFFER.
    BUFFER_TOO_SMALL = 0xC000_0023u32;
    /// Win32 123 ERROR_INVALID_NAME.
    OBJECT_NAME_INVALID = 0xC000_0033u32;
    /// Win32 2 ERROR_FILE_NOT_FOUND.
    OBJECT_NAME_NOT_FOUND = 0xC000_0034u32;
    /// Win32 183 ERROR_ALREADY_EXISTS.
    OBJECT_NAME_COLLISION = 0xC000_0035u32;
    /// Win32 161 ERROR_BAD_PATHNAME.
    OBJECT_PATH_SYNTAX_BAD = 0xC000_003Bu32;
    /// Win32 1816 ERROR_NOT_ENOUGH_QUOTA.
    QUOTA_EXCEEDED = 0xC000_0044u32;
    /// Win32 1337 ERROR_INVALID_SID.
    INVALID_SID = 0xC000_0078u32;
    /// Win32 1338 ERROR_INVALID_SECURITY_DESCR.
    INVALID_SECURITY_DESCR = 0xC000_0079u32;
    /// Win32 1450 ERROR_NO_SYSTEM_RESOURCES.
    INSUFFICIENT_RESOURCES = 0xC000_009Au32;
    /// Win32 121 ERROR_SEM_TIMEOUT.
    IO_TIMEOUT = 0xC000_00B5u32;
    /// Win32 38 ERROR_HANDLE_EOF.
    FILE_FORCED_CLOSED = 0xC000_00B6u32;
    /// Win32 50 ERROR_NOT_SUPPORTED.
    NOT_SUPPORTED = 0xC000_00BBu32;
    /// Win32 995 ERROR_OPERATION_ABORTED.
    CANCELLED = 0xC000_0120u32;
    /// Win32 6 ERROR_INVALID_HANDLE.
    FILE_CLOSED = 0xC000_0128u32;
    /// The request raced another that changed what it read; try again. Win32 1237
    /// ERROR_RETRY.
    RETRY = 0xC000_022Du32;
}

impl NtStatus {
    /// `NT_SUCCESS`: success and informational values (the top bit clear).
    pub const fn is_success(self) -> bool {
        self.0 >= 0
    }

    /// `NT_ERROR`: the severity bits say error (both top bits set).
    pub const fn is_error(self) -> bool {
        (self.0 as u32) >> 30 == 3
    }
}

impl fmt::Debug for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "NTSTATUS({:#010X})", self.0 as u32),
        }
    }
}

impl fmt::Display for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::NtStatus;

    #[test]
    fn values_match_ntstatus_h() {
        assert_eq!(NtStatus::IO_TIMEOUT.0 as u32, 0xC000_00B5);
        assert_eq!(NtStatus::OBJECT_NAME_COLLISION.0 as u32, 0xC000_0035);
        assert_eq!(NtStatus::BUFFER_OVERFLOW.0 as u32, 0x8000_0005);
        assert_eq!(NtStatus::FILE_CLOSED.0 as u32, 0xC000_0128);
    }

    #[test]
    fn severity_classes() {
        assert!(NtStatus::SUCCESS.is_success());
        assert!(NtStatus::PENDING.is_success());
        assert!(!NtStatus::BUFFER_OVERFLOW.is_success());
        assert!(!NtStatus::BUFFER_OVERFLOW.is_error());
        assert!(!NtStatus::NO_MORE_FILES.is_error());
        assert!(NtStatus::CANCELLED.is_error());
        assert!(!NtStatus::CANCELLED.is_success());
    }

    #[test]
    fn debug_shows_names_or_hex() {
        extern crate std;
        use std::format;
        assert_eq!(format!("{:?}", NtStatus::IO_TIMEOUT), "STATUS_IO_TIMEOUT");
        assert_eq!(format!("{:?}", NtStatus(0x1234)), "NTSTATUS(0x00001234)");
    }
}
