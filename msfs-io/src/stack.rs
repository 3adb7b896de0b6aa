//! The `IO_STACK_LOCATION` of a request, decoded.
//!
//! The driver copies the stack location's first four bytes and its 32-byte `Parameters` union
//! (offsets 0x08..0x28) as four little-endian words; [`decode`] reads each major function's
//! members at their Windows x64 offsets (`reference/kmdf-abi.md` §4, tag L: the WDK gives most
//! of them pointer alignment, which windows-sys drops). Word `n` covers offsets
//! `0x08 + 8n .. 0x10 + 8n`.

use msfs::NtStatus;

/// `IRP_MJ_*` values [M, R].
pub mod major {
    pub const CREATE: u8 = 0x00;
    pub const CLOSE: u8 = 0x02;
    pub const READ: u8 = 0x03;
    pub const WRITE: u8 = 0x04;
    pub const QUERY_INFORMATION: u8 = 0x05;
    pub const SET_INFORMATION: u8 = 0x06;
    pub const FLUSH_BUFFERS: u8 = 0x09;
    pub const QUERY_SECURITY: u8 = 0x14;
    pub const SET_SECURITY: u8 = 0x15;
    pub const QUERY_VOLUME_INFORMATION: u8 = 0x0A;
    pub const DIRECTORY_CONTROL: u8 = 0x0C;
    pub const FILE_SYSTEM_CONTROL: u8 = 0x0D;
    pub const CLEANUP: u8 = 0x12;
    pub const CREATE_MAILSLOT: u8 = 0x13;
}

/// `IRP_MN_QUERY_DIRECTORY`.
pub const IRP_MN_QUERY_DIRECTORY: u8 = 0x01;
/// `IRP_MN_USER_FS_REQUEST`: the minor function of an FSCTL from `NtFsControlFile`.
pub const IRP_MN_USER_FS_REQUEST: u8 = 0x00;
/// Stack-location flags of a directory query.
pub const SL_RESTART_SCAN: u8 = 0x01;
pub const SL_RETURN_SINGLE_ENTRY: u8 = 0x02;
pub const SL_INDEX_SPECIFIED: u8 = 0x04;

/// The raw stack location, as the driver copies it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackWords {
    pub major: u8,
    pub minor: u8,
    pub flags: u8,
    /// `Parameters`, offsets 0x08, 0x10, 0x18 and 0x20.
    pub params: [u64; 4],
}

/// A request, with every member the driver serves it from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// `IRP_MJ_CREATE`: client open, or open of the root. `security_context` is the
    /// `PIO_SECURITY_CONTEXT` (0x08).
    Create {
        security_context: u64,
    },
    /// `IRP_MJ_CREATE_MAILSLOT`: server create. `parameters` is the
    /// `PMAILSLOT_CREATE_PARAMETERS` at 0x20.
    CreateMailslot {
        security_context: u64,
        parameters: u64,
    },
    /// Length at 0x08 (ByteOffset, Key: meaningless for mailslots).
    Read {
        length: u32,
    },
    Write {
        length: u32,
    },
    /// Length 0x08, FileInformationClass 0x10.
    QueryInformation {
        length: u32,
        class: u32,
    },
    SetInformation {
        length: u32,
        class: u32,
    },
    /// Length 0x08, FsInformationClass 0x10.
    QueryVolume {
        length: u32,
        class: u32,
    },
    /// Length 0x08, FileName (`PUNICODE_STRING`) 0x10, FileInformationClass 0x18; the scan
    /// flags come from the stack location's Flags.
    QueryDirectory {
        length: u32,
        file_name: u64,
        class: u32,
        restart_scan: bool,
        return_single_entry: bool,
    },
    /// `IRP_MN_USER_FS_REQUEST`: OutputBufferLength 0x08, InputBufferLength 0x10,
    /// FsControlCode 0x18, Type3InputBuffer 0x20.
    FsControl {
        output_length: u32,
        input_length: u32,
        code: u32,
        input: u64,
    },
    /// `IRP_MJ_FLUSH_BUFFERS`: no parameters.
    Flush,
    /// `IRP_MJ_QUERY_SECURITY`: SecurityInformation 0x08, Length 0x10; the output is
    /// `Irp->UserBuffer` (METHOD_NEITHER).
    QuerySecurity {
        information: u32,
        length: u32,
    },
    /// `IRP_MJ_SET_SECURITY`: SecurityInformation 0x08, SecurityDescriptor 0x10 (the I/O
    /// manager's captured copy, in kernel memory).
    SetSecurity {
        information: u32,
        descriptor: u64,
    },
    Cleanup,
    Close,
    /// Anything else: completed with this status and nothing changed.
    Refused(NtStatus),
}

fn low(word: u64) -> u32 {
    (word & 0xFFFF_FFFF) as u32
}

/// Decodes one stack location. Major functions the driver does not serve, directory minors
/// other than a query (change notification) and file-system minors other than a user request
/// (mount, verify, ...) are STATUS_INVALID_DEVICE_REQUEST.
pub fn decode(stack: &StackWords) -> Request {
    let [w0, w1, w2, w3] = stack.params;
    match stack.major {
        major::CREATE => Request::Create {
            security_context: w0,
        },
        major::CREATE_MAILSLOT => Request::CreateMailslot {
            security_context: w0,
            parameters: w3,
        },
        major::READ => Request::Read { length: low(w0) },
        major::WRITE => Request::Write { length: low(w0) },
        major::QUERY_INFORMATION => Request::QueryInformation {
            length: low(w0),
            class: low(w1),
        },
        major::SET_INFORMATION => Request::SetInformation {
            length: low(w0),
            class: low(w1),
        },
        major::QUERY_VOLUME_INFORMATION => Request::QueryVolume {
            length: low(w0),
            class: low(w1),
        },
        major::DIRECTORY_CONTROL if stack.minor == IRP_MN_QUERY_DIRECTORY => {
            Request::QueryDirectory {
                length: low(w0),
                file_name: w1,
                class: low(w2),
                restart_scan: stack.flags & SL_RESTART_SCAN != 0,
                return_single_entry: stack.flags & SL_RETURN_SINGLE_ENTRY != 0,
            }
        }
        major::FILE_SYSTEM_CONTROL if stack.minor == IRP_MN_USER_FS_REQUEST => Request::FsControl {
            output_length: low(w0),
            input_length: low(w1),
            code: low(w2),
            input: w3,
        },
        major::FLUSH_BUFFERS => Request::Flush,
        major::QUERY_SECURITY => Request::QuerySecurity {
            information: low(w0),
            length: low(w1),
        },
        major::SET_SECURITY => Request::SetSecurity {
            information: low(w0),
            descriptor: w1,
        },
        major::CLEANUP => Request::Cleanup,
        major::CLOSE => Request::Close,
        _ => Request::Refused(NtStatus::INVALID_DEVICE_REQUEST),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 72-byte `IO_STACK_LOCATION`, split the way the driver splits it (its first four
    /// bytes and the four words at 0x08..0x28).
    fn words_from_bytes(bytes: &[u8; 72]) -> StackWords {
        let word = |n: usize| {
            let start = 8usize.saturating_add(n.saturating_mul(8));
            bytes
                .get(start..start.saturating_add(8))
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_le_bytes)
        };
        StackWords {
            major: bytes[0],
            minor: bytes[1],
            flags: bytes[2],
            params: [word(0), word(1), word(2), word(3)],
        }
    }

    /// A 72-byte stack location with `fields` (offset, little-endian bytes) written in.
    fn stack(major: u8, minor: u8, flags: u8, fields: &[(usize, &[u8])]) -> StackWords {
        let mut b = [0xEEu8; 72];
        b[0] = major;
        b[1] = minor;
        b[2] = flags;
        for (offset, bytes) in fields {
            b[*offset..*offset + bytes.len()].copy_from_slice(bytes);
        }
        words_from_bytes(&b)
    }

    // Offsets below are the x64 ones of kmdf-abi.md §4 (tag L); the 0xEE filler stands for
    // whatever the padding holds, which must never leak into a member.

    #[test]
    fn read_and_write_length_at_0x08() {
        let s = stack(major::READ, 0, 0, &[(0x08, &424u32.to_le_bytes())]);
        assert_eq!(decode(&s), Request::Read { length: 424 });
        let s = stack(major::WRITE, 0, 0, &[(0x08, &0u32.to_le_bytes())]);
        assert_eq!(decode(&s), Request::Write { length: 0 });
        let s = stack(major::WRITE, 0, 0, &[(0x08, &u32::MAX.to_le_bytes())]);
        assert_eq!(decode(&s), Request::Write { length: u32::MAX });
    }

    #[test]
    fn create_mailslot_parameters_at_0x20_not_0x18() {
        let s = stack(
            major::CREATE_MAILSLOT,
            0,
            0,
            &[
                (0x08, &0x1111_2222_3333_4444u64.to_le_bytes()),
                (0x18, &0xAAAAu16.to_le_bytes()),
                (0x1A, &0xBBBBu16.to_le_bytes()),
                (0x20, &0xFFFF_8000_1234_5678u64.to_le_bytes()),
            ],
        );
        assert_eq!(
            decode(&s),
            Request::CreateMailslot {
                security_context: 0x1111_2222_3333_4444,
                parameters: 0xFFFF_8000_1234_5678
            }
        );
        let s = stack(major::CREATE, 0, 0, &[(0x08, &7u64.to_le_bytes())]);
        assert_eq!(
            decode(&s),
            Request::Create {
                security_context: 7
            }
        );
    }

    #[test]
    fn information_classes_at_0x10() {
        let f = [
            (0x08, &24u32.to_le_bytes()[..]),
            (0x10, &26u32.to_le_bytes()[..]),
        ];
        assert_eq!(
            decode(&stack(major::QUERY_INFORMATION, 0, 0, &f)),
            Request::QueryInformation {
                length: 24,
                class: 26
            }
        );
        assert_eq!(
            decode(&stack(major::SET_INFORMATION, 0, 0, &f)),
            Request::SetInformation {
                length: 24,
                class: 26
            }
        );
        assert_eq!(
            decode(&stack(major::QUERY_VOLUME_INFORMATION, 0, 0, &f)),
            Request::QueryVolume {
                length: 24,
                class: 26
            }
        );
    }

    #[test]
    fn query_directory_members_and_flags() {
        let f = [
            (0x08, &4096u32.to_le_bytes()[..]),
            (0x10, &0xFFFF_9000_0000_0010u64.to_le_bytes()[..]),
            (0x18, &3u32.to_le_bytes()[..]),
            (0x20, &99u32.to_le_bytes()[..]),
        ];
        let s = stack(
            major::DIRECTORY_CONTROL,
            IRP_MN_QUERY_DIRECTORY,
            SL_RESTART_SCAN | SL_INDEX_SPECIFIED,
            &f,
        );
        assert_eq!(
            decode(&s),
            Request::QueryDirectory {
                length: 4096,
                file_name: 0xFFFF_9000_0000_0010,
                class: 3,
                restart_scan: true,
                return_single_entry: false
            }
        );
        let s = stack(
            major::DIRECTORY_CONTROL,
            IRP_MN_QUERY_DIRECTORY,
            SL_RETURN_SINGLE_ENTRY,
            &f,
        );
        assert!(matches!(
            decode(&s),
            Request::QueryDirectory {
                restart_scan: false,
                return_single_entry: true,
                ..
            }
        ));
        // IRP_MN_NOTIFY_CHANGE_DIRECTORY.
        let s = stack(major::DIRECTORY_CONTROL, 0x02, 0, &f);
        assert_eq!(
            decode(&s),
            Request::Refused(NtStatus::INVALID_DEVICE_REQUEST)
        );
    }

    #[test]
    fn fs_control_members() {
        let f = [
            (0x08, &512u32.to_le_bytes()[..]),
            (0x10, &12u32.to_le_bytes()[..]),
            (0x18, &0x000C_4003u32.to_le_bytes()[..]),
            (0x20, &0x0000_7FF0_0000_1000u64.to_le_bytes()[..]),
        ];
        assert_eq!(
            decode(&stack(
                major::FILE_SYSTEM_CONTROL,
                IRP_MN_USER_FS_REQUEST,
                0,
                &f
            )),
            Request::FsControl {
                output_length: 512,
                input_length: 12,
                code: 0x000C_4003,
                input: 0x0000_7FF0_0000_1000
            }
        );
        // IRP_MN_MOUNT_VOLUME and friends are not ours.
        assert_eq!(
            decode(&stack(major::FILE_SYSTEM_CONTROL, 0x01, 0, &f)),
            Request::Refused(NtStatus::INVALID_DEVICE_REQUEST)
        );
    }

    #[test]
    fn other_majors_are_refused() {
        assert_eq!(decode(&stack(major::CLEANUP, 0, 0, &[])), Request::Cleanup);
        assert_eq!(decode(&stack(major::CLOSE, 0, 0, &[])), Request::Close);
        assert_eq!(
            decode(&stack(major::FLUSH_BUFFERS, 0, 0, &[])),
            Request::Flush
        );
        assert_eq!(
            decode(&stack(
                major::QUERY_SECURITY,
                0,
                0,
                &[(0x08, &4u32.to_le_bytes()), (0x10, &0x200u32.to_le_bytes())]
            )),
            Request::QuerySecurity {
                information: 0x4,
                length: 0x200
            }
        );
        assert_eq!(
            decode(&stack(
                major::SET_SECURITY,
                0,
                0,
                &[
                    (0x08, &4u32.to_le_bytes()),
                    (0x10, &0xFFFF_8000_1234_5678u64.to_le_bytes())
                ]
            )),
            Request::SetSecurity {
                information: 0x4,
                descriptor: 0xFFFF_8000_1234_5678
            }
        );
        for m in [0x01u8, 0x07, 0x08, 0x0B, 0x0E, 0x0F, 0x10, 0x11, 0x1B, 0xFF] {
            assert_eq!(
                decode(&stack(m, 0, 0, &[])),
                Request::Refused(NtStatus::INVALID_DEVICE_REQUEST),
                "major {m:#x}"
            );
        }
    }
}
