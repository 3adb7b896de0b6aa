//! Replies built from the engine's answers: file information, volume information, set
//! information, peek, create names and directory queries.
//!
//! Buffer rules follow Windows file systems: a buffer shorter than a class's fixed part is
//! STATUS_INFO_LENGTH_MISMATCH (the I/O manager already refuses those from user mode; kernel
//! callers reach us directly); a variable-length name that does not fit is cut, with
//! STATUS_BUFFER_OVERFLOW and Information counting the bytes written.

use alloc::vec::Vec;

use msfs::dir::FILE_ATTRIBUTE_NORMAL;
use msfs::wire::MAILSLOT_NO_MESSAGE;
use msfs::{
    FileFacts, Handle, HandleRole, Msfs, NtStatus, Peek, PeekHeader, PointerWidth, SetInformation,
};

use crate::Reply;

/// `FILE_INFORMATION_CLASS` values served by IRP_MJ_QUERY/SET_INFORMATION [M, R].
pub mod class {
    pub const FILE_BASIC_INFORMATION: u32 = 4;
    pub const FILE_STANDARD_INFORMATION: u32 = 5;
    pub const FILE_NAME_INFORMATION: u32 = 9;
    pub const FILE_MAILSLOT_QUERY_INFORMATION: u32 = 26;
    pub const FILE_MAILSLOT_SET_INFORMATION: u32 = 27;
    /// `FS_INFORMATION_CLASS`.
    pub const FILE_FS_DEVICE_INFORMATION: u32 = 4;
    pub const FILE_FS_ATTRIBUTE_INFORMATION: u32 = 5;
}

pub const FILE_ATTRIBUTE_DIRECTORY: u32 = 0x10;
pub const FILE_CASE_PRESERVED_NAMES: u32 = 0x2;
pub const FILE_UNICODE_ON_DISK: u32 = 0x4;
/// `FILE_DEVICE_MAILSLOT`.
pub const FILE_DEVICE_MAILSLOT: u32 = 0x0C;

/// The file-system name FileFsAttributeInformation reports: the native driver's name, so
/// that code which checks it treats both alike (our choice; the harness records native's).
pub const FILE_SYSTEM_NAME: &str = "MSFS";

/// Writes `bytes` at `offset`. Every caller has checked the buffer's length first, so a
/// field that does not fit cannot happen and is simply not written.
fn put(out: &mut [u8], offset: usize, bytes: &[u8]) {
    let _ = msfs::wire::put(out, offset, bytes);
}

/// The prologue of the classes answered from [`Msfs::describe`]: a buffer shorter than the
/// class's fixed part is STATUS_INFO_LENGTH_MISMATCH; the fixed part is zeroed.
fn describe_into<'e>(
    engine: &'e Msfs,
    handle: &Handle,
    out: &mut [u8],
    fixed: usize,
) -> Result<FileFacts<'e>, NtStatus> {
    let head = out.get_mut(..fixed).ok_or(NtStatus::INFO_LENGTH_MISMATCH)?;
    let facts = engine.describe(handle)?;
    head.fill(0);
    Ok(facts)
}

/// Writes as many whole UTF-16 units of `units` as fit at `offset`; returns the bytes written.
fn put_units(out: &mut [u8], offset: usize, units: impl Iterator<Item = u16>) -> usize {
    let mut at = offset;
    for unit in units {
        let Some(end) = at.checked_add(2) else { break };
        let Some(dst) = out.get_mut(at..end) else {
            break;
        };
        dst.copy_from_slice(&unit.to_le_bytes());
        at = end;
    }
    at.saturating_sub(offset)
}

/// IRP_MJ_QUERY_INFORMATION on any of our handles.
///
/// - FileMailslotQueryInformation (26): 24 bytes from the engine.
/// - FileBasicInformation (4), 40 bytes: the slot's creation time in all four stamps (0 for
///   the root), FILE_ATTRIBUTE_NORMAL, or FILE_ATTRIBUTE_DIRECTORY for the root.
/// - FileStandardInformation (5), 24 bytes: AllocationSize = EndOfFile = queued bytes, one
///   link, not delete-pending, Directory for the root.
/// - FileNameInformation (9): `\name` relative to the device (`\` for the root), cut with
///   STATUS_BUFFER_OVERFLOW when it does not fit, FileNameLength always the whole length.
/// - Anything else: STATUS_INVALID_PARAMETER, as Windows file systems answer unsupported
///   classes.
pub fn query_information(engine: &Msfs, handle: &Handle, class: u32, out: &mut [u8]) -> Reply {
    match class {
        class::FILE_MAILSLOT_QUERY_INFORMATION => engine
            .query_info(handle)
            .and_then(|info| info.encode(out))
            .into(),
        class::FILE_BASIC_INFORMATION => {
            let facts = match describe_into(engine, handle, out, 40) {
                Ok(f) => f,
                Err(s) => return Reply::error(s),
            };
            let attributes = if facts.role == HandleRole::Root {
                FILE_ATTRIBUTE_DIRECTORY
            } else {
                FILE_ATTRIBUTE_NORMAL
            };
            for stamp in 0..4usize {
                put(out, stamp.saturating_mul(8), &facts.created.to_le_bytes());
            }
            put(out, 0x20, &attributes.to_le_bytes());
            Reply::success(40)
        }
        class::FILE_STANDARD_INFORMATION => {
            let facts = match describe_into(engine, handle, out, 24) {
                Ok(f) => f,
                Err(s) => return Reply::error(s),
            };
            let size = i64::try_from(facts.queued_bytes).unwrap_or(i64::MAX);
            put(out, 0x00, &size.to_le_bytes());
            put(out, 0x08, &size.to_le_bytes());
            put(out, 0x10, &1u32.to_le_bytes());
            put(out, 0x15, &[u8::from(facts.role == HandleRole::Root)]);
            Reply::success(24)
        }
        class::FILE_NAME_INFORMATION => {
            let facts = match describe_into(engine, handle, out, 4) {
                Ok(f) => f,
                Err(s) => return Reply::error(s),
            };
            let units = || core::iter::once(u16::from(b'\\')).chain(facts.name.iter().copied());
            let whole = facts.name.len().saturating_add(1).saturating_mul(2);
            let copied = put_units(out, 4, units());
            put(
                out,
                0,
                &u32::try_from(whole).unwrap_or(u32::MAX).to_le_bytes(),
            );
            let status = if copied < whole {
                NtStatus::BUFFER_OVERFLOW
            } else {
                NtStatus::SUCCESS
            };
            Reply::new(status, copied.saturating_add(4))
        }
        _ => Reply::error(NtStatus::INVALID_PARAMETER),
    }
}

/// IRP_MJ_QUERY_VOLUME_INFORMATION.
///
/// - FileFsDeviceInformation (4), 8 bytes: FILE_DEVICE_MAILSLOT and the device's
///   characteristics.
/// - FileFsAttributeInformation (5): case-preserving Unicode names, the longest component the
///   engine accepts (in characters), and [`FILE_SYSTEM_NAME`], cut with STATUS_BUFFER_OVERFLOW
///   (FileSystemNameLength then counts the bytes copied, as FAT and NTFS report it).
/// - Anything else: STATUS_INVALID_PARAMETER.
pub fn query_volume(class: u32, characteristics: u32, out: &mut [u8]) -> Reply {
    match class {
        class::FILE_FS_DEVICE_INFORMATION => {
            if out.len() < 8 {
                return Reply::error(NtStatus::INFO_LENGTH_MISMATCH);
            }
            put(out, 0, &FILE_DEVICE_MAILSLOT.to_le_bytes());
            put(out, 4, &characteristics.to_le_bytes());
            Reply::success(8)
        }
        class::FILE_FS_ATTRIBUTE_INFORMATION => {
            if out.len() < 12 {
                return Reply::error(NtStatus::INFO_LENGTH_MISMATCH);
            }
            let max_component = u32::try_from(msfs::name::MAX_NAME_BYTES / 2).unwrap_or(0);
            put(
                out,
                0,
                &(FILE_CASE_PRESERVED_NAMES | FILE_UNICODE_ON_DISK).to_le_bytes(),
            );
            put(out, 4, &max_component.to_le_bytes());
            let whole = FILE_SYSTEM_NAME.len().saturating_mul(2);
            let copied = put_units(out, 12, FILE_SYSTEM_NAME.encode_utf16());
            put(out, 8, &u32::try_from(copied).unwrap_or(0).to_le_bytes());
            let status = if copied < whole {
                NtStatus::BUFFER_OVERFLOW
            } else {
                NtStatus::SUCCESS
            };
            Reply::new(status, copied.saturating_add(12))
        }
        _ => Reply::error(NtStatus::INVALID_PARAMETER),
    }
}

/// IRP_MJ_SET_INFORMATION: the caller's `PLARGE_INTEGER ReadTimeout` to capture, or the
/// status to fail with (STATUS_INVALID_PARAMETER for any class but
/// FileMailslotSetInformation, STATUS_INFO_LENGTH_MISMATCH for a buffer shorter than the
/// caller's pointer, STATUS_INVALID_PARAMETER for a null pointer). `width` is the caller's
/// (`IoIs32bitProcess`): a 32-bit process's structure is its 4-byte pointer.
pub fn set_information(class: u32, input: &[u8], width: PointerWidth) -> Result<u64, NtStatus> {
    if class != class::FILE_MAILSLOT_SET_INFORMATION {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    SetInformation::decode_for(input, width).map(|s| s.read_timeout_ptr.get())
}

/// The 8 bytes captured from behind the ReadTimeout pointer, as the timeout to store.
pub fn read_timeout_value(bytes: [u8; 8]) -> i64 {
    i64::from_le_bytes(bytes)
}

/// FSCTL_MAILSLOT_PEEK's output buffer (METHOD_NEITHER: the caller's own memory) holds the
/// 12-byte `FILE_MAILSLOT_PEEK_BUFFER` followed by as much of the head message as fits; the
/// input buffer is not used. Our choice, like `FSCTL_PIPE_PEEK`'s layout, until a Windows run
/// shows native's. Fewer than 12 bytes of output: STATUS_BUFFER_TOO_SMALL.
pub fn peek_data_capacity(output_length: u32) -> Result<usize, NtStatus> {
    usize::try_from(output_length)
        .ok()
        .and_then(|n| n.checked_sub(PeekHeader::WIRE_SIZE))
        .ok_or(NtStatus::BUFFER_TOO_SMALL)
}

/// How many message bytes the driver's bounce buffer needs: no more than the caller offered,
/// no more than the head message's length when it looked (so a huge output length costs
/// nothing). `next_message_size` is FileMailslotQueryInformation's field.
pub fn peek_bounce_len(data_capacity: usize, next_message_size: u32) -> usize {
    if next_message_size == MAILSLOT_NO_MESSAGE {
        return 0;
    }
    core::cmp::min(
        data_capacity,
        usize::try_from(next_message_size).unwrap_or(usize::MAX),
    )
}

/// Whether a peek into a bounce buffer of `bounce_len` cut a message that the caller's
/// `data_capacity` could have held whole (the head changed between sizing and peeking): the
/// driver then sizes again.
pub fn peek_needs_retry(peek: &Peek, bounce_len: usize, data_capacity: usize) -> bool {
    let head = usize::try_from(peek.header.message_length).unwrap_or(usize::MAX);
    head > bounce_len && bounce_len < data_capacity
}

/// The peek reply: the header encoded at the start of `header_out` (12 bytes), the status
/// (STATUS_BUFFER_OVERFLOW when the message was cut) and Information = 12 + bytes copied.
pub fn peek_reply(peek: &Peek, header_out: &mut [u8; 12]) -> Reply {
    if peek.header.encode(header_out).is_err() {
        return Reply::error(NtStatus::BUFFER_TOO_SMALL);
    }
    Reply::new(
        peek.status,
        peek.copied.saturating_add(PeekHeader::WIRE_SIZE),
    )
}

/// The name a create hands the engine. `related` is the role of the file object the name is
/// relative to (NtCreateFile's RootDirectory), if any: relative to the root the name gets its
/// leading backslash (an empty one designates the root itself; one that starts with a
/// backslash is STATUS_OBJECT_NAME_INVALID); relative to a mailslot it is
/// STATUS_INVALID_PARAMETER, since mailslots contain nothing.
pub fn create_name(related: Option<HandleRole>, name: &[u8]) -> Result<Vec<u8>, NtStatus> {
    let prefix: &[u8] = match related {
        None => &[],
        // A relative name never starts with a separator.
        Some(HandleRole::Root) if name.starts_with(b"\\\0") => {
            return Err(NtStatus::OBJECT_NAME_INVALID)
        }
        Some(HandleRole::Root) => b"\\\0",
        Some(_) => return Err(NtStatus::INVALID_PARAMETER),
    };
    let len = prefix
        .len()
        .checked_add(name.len())
        .ok_or(NtStatus::OBJECT_NAME_INVALID)?;
    let mut out = Vec::new();
    out.try_reserve_exact(len)
        .map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
    out.extend_from_slice(prefix);
    out.extend_from_slice(name);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use msfs::{Access, Completion, Config, CreateParameters};

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn setup() -> (Msfs, Handle, Handle, Handle) {
        let mut m = Msfs::new(Config {
            budget_bytes: 1 << 20,
            hash_keys: [3, 4],
            owner_limit_bytes: u64::MAX,
        });
        let p = CreateParameters {
            mailslot_quota: 0,
            maximum_message_size: 0,
            read_timeout: Some(0),
        };
        let s = m
            .create_server(
                &utf16("\\App\\Events"),
                &p,
                Access::READ,
                0x01D9_0000_0000_0000,
            )
            .unwrap();
        let c = m.open(&utf16("\\app\\events"), Access::WRITE).unwrap();
        let root = m.open(&utf16("\\"), Access::READ).unwrap();
        m.write(&c, b"hello", |_, _: Completion<'_>| {}).unwrap();
        (m, s, c, root)
    }

    fn u32_at(b: &[u8], o: usize) -> u32 {
        u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
    }
    fn i64_at(b: &[u8], o: usize) -> i64 {
        i64::from_le_bytes(b[o..o + 8].try_into().unwrap())
    }

    #[test]
    fn mailslot_query_on_server_and_client() {
        let (m, s, c, root) = setup();
        for h in [&s, &c] {
            let mut out = [0u8; 24];
            assert_eq!(query_information(&m, h, 26, &mut out), Reply::success(24));
            assert_eq!((u32_at(&out, 8), u32_at(&out, 12)), (5, 1));
        }
        let mut short = [0u8; 23];
        assert_eq!(
            query_information(&m, &s, 26, &mut short),
            Reply::error(NtStatus::INFO_LENGTH_MISMATCH)
        );
        let mut out = [0u8; 24];
        assert_eq!(
            query_information(&m, &root, 26, &mut out),
            Reply::error(NtStatus::INVALID_PARAMETER)
        );
    }

    #[test]
    fn basic_and_standard_information() {
        let (m, s, _c, root) = setup();
        let mut out = [0xAAu8; 40];
        assert_eq!(query_information(&m, &s, 4, &mut out), Reply::success(40));
        for o in [0, 8, 16, 24] {
            assert_eq!(i64_at(&out, o), 0x01D9_0000_0000_0000);
        }
        assert_eq!(u32_at(&out, 0x20), FILE_ATTRIBUTE_NORMAL);
        assert_eq!(u32_at(&out, 0x24), 0, "padding zeroed");
        assert_eq!(
            query_information(&m, &root, 4, &mut out),
            Reply::success(40)
        );
        assert_eq!(u32_at(&out, 0x20), FILE_ATTRIBUTE_DIRECTORY);
        assert_eq!(
            query_information(&m, &s, 4, &mut [0u8; 39]),
            Reply::error(NtStatus::INFO_LENGTH_MISMATCH)
        );

        let mut out = [0xAAu8; 24];
        assert_eq!(query_information(&m, &s, 5, &mut out), Reply::success(24));
        assert_eq!((i64_at(&out, 0), i64_at(&out, 8)), (5, 5));
        assert_eq!(u32_at(&out, 0x10), 1);
        assert_eq!((out[0x14], out[0x15]), (0, 0));
        assert_eq!(
            query_information(&m, &root, 5, &mut out),
            Reply::success(24)
        );
        assert_eq!(out[0x15], 1, "the root is a directory");
        assert_eq!(
            query_information(&m, &s, 5, &mut [0u8; 23]),
            Reply::error(NtStatus::INFO_LENGTH_MISMATCH)
        );
    }

    #[test]
    fn name_information_whole_and_cut() {
        let (m, s, c, root) = setup();
        let want = utf16("\\App\\Events");
        let mut out = vec![0u8; 4 + want.len()];
        for h in [&s, &c] {
            assert_eq!(
                query_information(&m, h, 9, &mut out),
                Reply::success(4 + want.len())
            );
            assert_eq!(u32_at(&out, 0) as usize, want.len());
            assert_eq!(&out[4..], &want[..]);
        }
        // Cut: as many whole characters as fit, the full length still reported.
        let mut out = [0u8; 9];
        assert_eq!(
            query_information(&m, &s, 9, &mut out),
            Reply::new(NtStatus::BUFFER_OVERFLOW, 8)
        );
        assert_eq!(u32_at(&out, 0) as usize, want.len());
        assert_eq!(&out[4..8], &want[..4]);
        assert_eq!(
            query_information(&m, &s, 9, &mut [0u8; 3]),
            Reply::error(NtStatus::INFO_LENGTH_MISMATCH)
        );
        let mut out = [0u8; 6];
        assert_eq!(query_information(&m, &root, 9, &mut out), Reply::success(6));
        assert_eq!((u32_at(&out, 0), &out[4..6]), (2, &b"\\\0"[..]));
    }

    #[test]
    fn gone_slots_and_unknown_classes() {
        let (mut m, s, c, _root) = setup();
        let mut out = [0u8; 64];
        for class in [1u32, 6, 14, 18, 27, 34, 0, u32::MAX] {
            assert_eq!(
                query_information(&m, &s, class, &mut out),
                Reply::error(NtStatus::INVALID_PARAMETER),
                "class {class}"
            );
        }
        m.cleanup(&s, |_, _| {});
        for class in [4u32, 5, 9, 26] {
            assert_eq!(
                query_information(&m, &s, class, &mut out).status,
                NtStatus::FILE_CLOSED
            );
            assert_eq!(
                query_information(&m, &c, class, &mut out).status,
                NtStatus::FILE_FORCED_CLOSED
            );
        }
    }

    #[test]
    fn volume_information() {
        let mut out = [0u8; 8];
        assert_eq!(query_volume(4, 0x100, &mut out), Reply::success(8));
        assert_eq!((u32_at(&out, 0), u32_at(&out, 4)), (0x0C, 0x100));
        assert_eq!(
            query_volume(4, 0, &mut [0u8; 7]),
            Reply::error(NtStatus::INFO_LENGTH_MISMATCH)
        );
        let mut out = [0u8; 20];
        assert_eq!(query_volume(5, 0, &mut out), Reply::success(20));
        assert_eq!(u32_at(&out, 0), 0x6);
        assert_eq!(u32_at(&out, 4), 32_748);
        assert_eq!(u32_at(&out, 8), 8);
        assert_eq!(&out[12..], &utf16("MSFS")[..]);
        let mut out = [0u8; 15];
        assert_eq!(
            query_volume(5, 0, &mut out),
            Reply::new(NtStatus::BUFFER_OVERFLOW, 14)
        );
        assert_eq!(u32_at(&out, 8), 2, "bytes copied");
        assert_eq!(
            query_volume(5, 0, &mut [0u8; 11]),
            Reply::error(NtStatus::INFO_LENGTH_MISMATCH)
        );
        for class in [1u32, 2, 3, 6, 7, 0, 99] {
            assert_eq!(
                query_volume(class, 0, &mut [0u8; 64]),
                Reply::error(NtStatus::INVALID_PARAMETER)
            );
        }
    }

    #[test]
    fn set_information_input() {
        let w = PointerWidth::Bits64;
        let ptr = 0x0000_00AB_CDEF_0000u64.to_le_bytes();
        assert_eq!(set_information(27, &ptr, w), Ok(0x0000_00AB_CDEF_0000));
        assert_eq!(
            set_information(27, &ptr[..7], w),
            Err(NtStatus::INFO_LENGTH_MISMATCH)
        );
        assert_eq!(
            set_information(27, &[0u8; 8], w),
            Err(NtStatus::INVALID_PARAMETER)
        );
        assert_eq!(
            set_information(26, &ptr, w),
            Err(NtStatus::INVALID_PARAMETER)
        );
        assert_eq!(
            set_information(4, &[0u8; 40], w),
            Err(NtStatus::INVALID_PARAMETER)
        );
        let w = PointerWidth::Bits32;
        assert_eq!(
            set_information(27, &0x7FFE_0000u32.to_le_bytes(), w),
            Ok(0x7FFE_0000)
        );
        assert_eq!(
            set_information(27, &[1, 2, 3], w),
            Err(NtStatus::INFO_LENGTH_MISMATCH)
        );
        assert_eq!(
            set_information(26, &[1, 2, 3, 4], w),
            Err(NtStatus::INVALID_PARAMETER)
        );
        assert_eq!(read_timeout_value((-10_000i64).to_le_bytes()), -10_000);
    }

    #[test]
    fn peek_sizing() {
        assert_eq!(peek_data_capacity(11), Err(NtStatus::BUFFER_TOO_SMALL));
        assert_eq!(peek_data_capacity(0), Err(NtStatus::BUFFER_TOO_SMALL));
        assert_eq!(peek_data_capacity(12), Ok(0));
        assert_eq!(peek_data_capacity(u32::MAX), Ok(u32::MAX as usize - 12));
        assert_eq!(
            peek_bounce_len(1 << 30, 5),
            5,
            "a huge buffer costs nothing"
        );
        assert_eq!(peek_bounce_len(3, 5), 3);
        assert_eq!(peek_bounce_len(100, MAILSLOT_NO_MESSAGE), 0);

        let (m, s, _c, _root) = setup();
        let mut bounce = vec![0u8; 3];
        let p = m.peek(&s, &mut bounce).unwrap();
        assert!(
            peek_needs_retry(&p, 3, 100),
            "the head grew past the bounce"
        );
        assert!(
            !peek_needs_retry(&p, 3, 3),
            "the caller's buffer is the limit"
        );
        let mut header = [0u8; 12];
        assert_eq!(
            peek_reply(&p, &mut header),
            Reply::new(NtStatus::BUFFER_OVERFLOW, 15)
        );
        assert_eq!(
            (u32_at(&header, 0), u32_at(&header, 4), u32_at(&header, 8)),
            (5, 1, 5)
        );
        let mut bounce = vec![0u8; 5];
        let p = m.peek(&s, &mut bounce).unwrap();
        assert!(!peek_needs_retry(&p, 5, 100));
        assert_eq!(peek_reply(&p, &mut header), Reply::success(17));
        assert_eq!(&bounce[..], b"hello");
    }

    #[test]
    fn create_names() {
        assert_eq!(create_name(None, &utf16("\\a")), Ok(utf16("\\a")));
        assert_eq!(create_name(None, &[]), Ok(Vec::new()));
        assert_eq!(
            create_name(Some(HandleRole::Root), &utf16("a\\b")),
            Ok(utf16("\\a\\b"))
        );
        assert_eq!(create_name(Some(HandleRole::Root), &[]), Ok(utf16("\\")));
        assert_eq!(
            create_name(Some(HandleRole::Root), &utf16("\\a")),
            Err(NtStatus::OBJECT_NAME_INVALID)
        );
        for role in [HandleRole::Server, HandleRole::Client] {
            assert_eq!(
                create_name(Some(role), &utf16("a")),
                Err(NtStatus::INVALID_PARAMETER)
            );
        }
    }
}
