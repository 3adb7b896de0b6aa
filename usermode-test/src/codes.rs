//! Names for the Win32 error codes and NTSTATUS values the table talks about, so a report says
//! `ERROR_SEM_TIMEOUT (121)` rather than a bare number.

use msfs::NtStatus;

/// The symbolic name of a Win32 error code the harness meets, if it knows it.
pub fn win32_name(code: u32) -> Option<&'static str> {
    Some(match code {
        0 => "ERROR_SUCCESS",
        1 => "ERROR_INVALID_FUNCTION",
        2 => "ERROR_FILE_NOT_FOUND",
        3 => "ERROR_PATH_NOT_FOUND",
        5 => "ERROR_ACCESS_DENIED",
        6 => "ERROR_INVALID_HANDLE",
        24 => "ERROR_BAD_LENGTH",
        32 => "ERROR_SHARING_VIOLATION",
        38 => "ERROR_HANDLE_EOF",
        50 => "ERROR_NOT_SUPPORTED",
        80 => "ERROR_FILE_EXISTS",
        87 => "ERROR_INVALID_PARAMETER",
        109 => "ERROR_BROKEN_PIPE",
        112 => "ERROR_DISK_FULL",
        121 => "ERROR_SEM_TIMEOUT",
        122 => "ERROR_INSUFFICIENT_BUFFER",
        123 => "ERROR_INVALID_NAME",
        161 => "ERROR_BAD_PATHNAME",
        183 => "ERROR_ALREADY_EXISTS",
        206 => "ERROR_FILENAME_EXCED_RANGE",
        234 => "ERROR_MORE_DATA",
        995 => "ERROR_OPERATION_ABORTED",
        996 => "ERROR_IO_INCOMPLETE",
        997 => "ERROR_IO_PENDING",
        998 => "ERROR_NOACCESS",
        1450 => "ERROR_NO_SYSTEM_RESOURCES",
        1816 => "ERROR_NOT_ENOUGH_QUOTA",
        // Not Windows': the harness's mark for a call that blocked instead of returning.
        0xFFFF_FFFF => "BLOCKED (the call neither completed nor pended within 2 s)",
        _ => return None,
    })
}

/// `ERROR_SEM_TIMEOUT (121)`, or `error 4242` for a code without a known name.
pub fn win32(code: u32) -> String {
    match win32_name(code) {
        Some(name) => format!("{name} ({code})"),
        None => format!("error {code}"),
    }
}

/// Statuses the engine does not define but Windows or Wine return to the table's calls.
const EXTRA_STATUSES: &[(u32, &str)] = &[
    (0x0000_0102, "STATUS_TIMEOUT"),
    (0xC000_0002, "STATUS_NOT_IMPLEMENTED"),
    (0xC000_0008, "STATUS_INVALID_HANDLE"),
    (0xC000_0043, "STATUS_SHARING_VIOLATION"),
    (0xC000_0024, "STATUS_OBJECT_TYPE_MISMATCH"),
    (0xC000_003A, "STATUS_OBJECT_PATH_NOT_FOUND"),
    (0xC000_0106, "STATUS_NAME_TOO_LONG"),
    (0xC000_014B, "STATUS_PIPE_BROKEN"),
    // Not Windows': the harness's mark for a call that blocked instead of returning.
    (
        0x7FFF_FFFF,
        "BLOCKED (the call neither completed nor pended within 2 s)",
    ),
];

/// `STATUS_IO_TIMEOUT (0xC00000B5)`, or the bare hex value for an unknown status.
pub fn status(value: i32) -> String {
    let raw = value as u32;
    let name = NtStatus(value).name().or_else(|| {
        EXTRA_STATUSES
            .iter()
            .find(|(v, _)| *v == raw)
            .map(|(_, n)| *n)
    });
    match name {
        Some(name) => format!("{name} ({raw:#010X})"),
        None => format!("NTSTATUS {raw:#010X}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn win32_codes_carry_their_names() {
        assert_eq!(win32(121), "ERROR_SEM_TIMEOUT (121)");
        assert_eq!(win32(183), "ERROR_ALREADY_EXISTS (183)");
        assert_eq!(win32(4242), "error 4242");
    }

    #[test]
    fn statuses_carry_their_names() {
        assert_eq!(
            status(0xC000_00B5u32 as i32),
            "STATUS_IO_TIMEOUT (0xC00000B5)"
        );
        assert_eq!(
            status(0xC000_0008u32 as i32),
            "STATUS_INVALID_HANDLE (0xC0000008)"
        );
        assert_eq!(status(0x103), "STATUS_PENDING (0x00000103)");
        assert_eq!(status(0x1234), "NTSTATUS 0x00001234");
    }
}
