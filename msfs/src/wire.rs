//! Byte layouts the engine reads from and writes to caller buffers.
//!
//! Each layout is a value type with a `decode` that validates the caller's bytes before the
//! engine sees them, and an `encode` that checks the buffer length once and writes little-endian
//! fields at the Windows x64 offsets (`reference/kmdf-abi.md`, checked by the tests below).

use crate::status::NtStatus;

/// `MAILSLOT_NO_MESSAGE`: NextMessageSize when the queue is empty.
pub const MAILSLOT_NO_MESSAGE: u32 = 0xFFFF_FFFF;

/// The stored ReadTimeout meaning "wait forever" (`MAILSLOT_WAIT_FOREVER` after kernel32's
/// conversion, and what a create without a timeout stores).
pub const READ_TIMEOUT_FOREVER: i64 = -1;

/// `FSCTL_MAILSLOT_PEEK`: CTL_CODE(FILE_DEVICE_MAILSLOT, 0, METHOD_NEITHER, FILE_READ_DATA).
pub const FSCTL_MAILSLOT_PEEK: u32 = 0x000C_4003;

/// Writes `bytes` at `offset`; `None` if they do not fit.
pub fn put(out: &mut [u8], offset: usize, bytes: &[u8]) -> Option<()> {
    let end = offset.checked_add(bytes.len())?;
    out.get_mut(offset..end)?.copy_from_slice(bytes);
    Some(())
}

fn get<const N: usize>(bytes: &[u8], offset: usize) -> Option<[u8; N]> {
    let end = offset.checked_add(N)?;
    bytes.get(offset..end)?.try_into().ok()
}

/// `MAILSLOT_CREATE_PARAMETERS` (24 bytes): what `NtCreateMailslotFile` hands the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateParameters {
    /// MailslotQuota: payload bytes the slot may hold queued; 0 means no per-slot limit.
    pub mailslot_quota: u32,
    /// MaximumMessageSize: 0 means any size.
    pub maximum_message_size: u32,
    /// ReadTimeout when TimeoutSpecified is TRUE; `None` (a NULL timeout) waits forever.
    pub read_timeout: Option<i64>,
}

impl CreateParameters {
    pub const WIRE_SIZE: usize = 24;

    /// Decodes the structure; a buffer shorter than 24 bytes is STATUS_INVALID_PARAMETER.
    pub fn decode(bytes: &[u8]) -> Result<Self, NtStatus> {
        let quota = get::<4>(bytes, 0x0);
        let max = get::<4>(bytes, 0x4);
        let timeout = get::<8>(bytes, 0x8);
        let specified = bytes.get(0x10);
        match (
            quota,
            max,
            timeout,
            specified,
            bytes.len() >= Self::WIRE_SIZE,
        ) {
            (Some(q), Some(m), Some(t), Some(&s), true) => Ok(CreateParameters {
                mailslot_quota: u32::from_le_bytes(q),
                maximum_message_size: u32::from_le_bytes(m),
                // TimeoutSpecified is a BOOLEAN: any non-zero byte is TRUE. ReactOS reads the
                // timeout regardless and gets garbage; we honour the flag.
                read_timeout: (s != 0).then(|| i64::from_le_bytes(t)),
            }),
            _ => Err(NtStatus::INVALID_PARAMETER),
        }
    }

    /// Emits the structure (the harness and tests build requests with it).
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, NtStatus> {
        let out = out
            .get_mut(..Self::WIRE_SIZE)
            .ok_or(NtStatus::BUFFER_TOO_SMALL)?;
        out.fill(0);
        let mut bytes = [0u8; Self::WIRE_SIZE];
        bytes[0..4].copy_from_slice(&self.mailslot_quota.to_le_bytes());
        bytes[4..8].copy_from_slice(&self.maximum_message_size.to_le_bytes());
        bytes[8..16].copy_from_slice(&self.read_timeout.unwrap_or(0).to_le_bytes());
        bytes[16] = u8::from(self.read_timeout.is_some());
        out.copy_from_slice(&bytes);
        Ok(Self::WIRE_SIZE)
    }

    /// The ReadTimeout the slot stores: the caller's value verbatim, or -1 when absent.
    pub fn stored_read_timeout(&self) -> i64 {
        self.read_timeout.unwrap_or(READ_TIMEOUT_FOREVER)
    }
}

/// `FILE_MAILSLOT_QUERY_INFORMATION` (24 bytes), information class 26.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailslotInfo {
    pub maximum_message_size: u32,
    pub mailslot_quota: u32,
    /// Length of the head message, or [`MAILSLOT_NO_MESSAGE`].
    pub next_message_size: u32,
    pub messages_available: u32,
    /// The stored raw value: 0, -1, a negative relative or a positive absolute time.
    pub read_timeout: i64,
}

impl MailslotInfo {
    pub const WIRE_SIZE: usize = 24;

    /// STATUS_INFO_LENGTH_MISMATCH when `out` is shorter than 24 bytes; otherwise the 24
    /// bytes are written and 24 (the IoStatus.Information) returned.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, NtStatus> {
        let out = out
            .get_mut(..Self::WIRE_SIZE)
            .ok_or(NtStatus::INFO_LENGTH_MISMATCH)?;
        let mut bytes = [0u8; Self::WIRE_SIZE];
        bytes[0x0..0x4].copy_from_slice(&self.maximum_message_size.to_le_bytes());
        bytes[0x4..0x8].copy_from_slice(&self.mailslot_quota.to_le_bytes());
        bytes[0x8..0xC].copy_from_slice(&self.next_message_size.to_le_bytes());
        bytes[0xC..0x10].copy_from_slice(&self.messages_available.to_le_bytes());
        bytes[0x10..0x18].copy_from_slice(&self.read_timeout.to_le_bytes());
        out.copy_from_slice(&bytes);
        Ok(Self::WIRE_SIZE)
    }

    /// Decodes the structure (for the harness and tests).
    pub fn decode(bytes: &[u8]) -> Result<Self, NtStatus> {
        let u = |o| get::<4>(bytes, o).map(u32::from_le_bytes);
        match (u(0x0), u(0x4), u(0x8), u(0xC), get::<8>(bytes, 0x10)) {
            (Some(a), Some(b), Some(c), Some(d), Some(t)) => Ok(MailslotInfo {
                maximum_message_size: a,
                mailslot_quota: b,
                next_message_size: c,
                messages_available: d,
                read_timeout: i64::from_le_bytes(t),
            }),
            _ => Err(NtStatus::INFO_LENGTH_MISMATCH),
        }
    }
}

/// `FILE_MAILSLOT_SET_INFORMATION`, information class 27: a *pointer* to the new ReadTimeout
/// (WDK ntifs.h), so 8 bytes from a 64-bit caller and 4 from a 32-bit one. The engine only
/// validates the buffer; the kernel layer reads the 64-bit value behind the pointer under the
/// requestor's mode and passes it to [`crate::Msfs::set_read_timeout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetInformation {
    /// The caller's `PLARGE_INTEGER ReadTimeout`, never null.
    pub read_timeout_ptr: core::num::NonZeroU64,
}

/// How wide the caller's pointers are: what `IoIs32bitProcess` tells the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PointerWidth {
    Bits64,
    /// A 32-bit process on 64-bit Windows (WoW64), whose structures hold 4-byte pointers.
    Bits32,
}

impl SetInformation {
    pub const WIRE_SIZE: usize = 8;
    /// The structure as a 32-bit process lays it out.
    pub const WIRE_SIZE_32: usize = 4;

    /// A 64-bit caller's structure: STATUS_INFO_LENGTH_MISMATCH for fewer than 8 bytes,
    /// STATUS_INVALID_PARAMETER for a null pointer.
    pub fn decode(bytes: &[u8]) -> Result<Self, NtStatus> {
        Self::decode_for(bytes, PointerWidth::Bits64)
    }

    /// The structure as a caller of `width` lays it out. A 32-bit caller's pointer is its first
    /// 4 bytes, zero-extended: bytes beyond them (a structure a thunk widened to 8, whose upper
    /// half is then 0) are not part of its pointer.
    pub fn decode_for(bytes: &[u8], width: PointerWidth) -> Result<Self, NtStatus> {
        let raw = match width {
            PointerWidth::Bits64 => get::<8>(bytes, 0).map(u64::from_le_bytes),
            PointerWidth::Bits32 => get::<4>(bytes, 0).map(|b| u64::from(u32::from_le_bytes(b))),
        }
        .ok_or(NtStatus::INFO_LENGTH_MISMATCH)?;
        core::num::NonZeroU64::new(raw)
            .map(|read_timeout_ptr| SetInformation { read_timeout_ptr })
            .ok_or(NtStatus::INVALID_PARAMETER)
    }
}

/// `FILE_MAILSLOT_PEEK_BUFFER` (12 bytes): the header FSCTL_MAILSLOT_PEEK returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeekHeader {
    /// Payload bytes queued in the slot (all messages), saturated to 32 bits.
    pub read_data_available: u32,
    pub number_of_messages: u32,
    /// Length of the head message (0 when empty).
    pub message_length: u32,
}

impl PeekHeader {
    pub const WIRE_SIZE: usize = 12;

    /// STATUS_BUFFER_TOO_SMALL when `out` cannot hold the 12 bytes.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, NtStatus> {
        let out = out
            .get_mut(..Self::WIRE_SIZE)
            .ok_or(NtStatus::BUFFER_TOO_SMALL)?;
        let mut bytes = [0u8; Self::WIRE_SIZE];
        bytes[0x0..0x4].copy_from_slice(&self.read_data_available.to_le_bytes());
        bytes[0x4..0x8].copy_from_slice(&self.number_of_messages.to_le_bytes());
        bytes[0x8..0xC].copy_from_slice(&self.message_length.to_le_bytes());
        out.copy_from_slice(&bytes);
        Ok(Self::WIRE_SIZE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_parameters_layout_and_timeout_flag() {
        let mut raw = [0u8; 24];
        raw[0..4].copy_from_slice(&7u32.to_le_bytes());
        raw[4..8].copy_from_slice(&424u32.to_le_bytes());
        raw[8..16].copy_from_slice(&(-10_000_000i64).to_le_bytes());
        raw[16] = 1;
        let p = CreateParameters::decode(&raw).unwrap();
        assert_eq!(p.mailslot_quota, 7);
        assert_eq!(p.maximum_message_size, 424);
        assert_eq!(p.read_timeout, Some(-10_000_000));
        // Any non-zero BOOLEAN is TRUE; zero ignores whatever sits in ReadTimeout.
        raw[16] = 0x80;
        assert_eq!(
            CreateParameters::decode(&raw).unwrap().read_timeout,
            Some(-10_000_000)
        );
        raw[16] = 0;
        let p = CreateParameters::decode(&raw).unwrap();
        assert_eq!(p.read_timeout, None);
        assert_eq!(p.stored_read_timeout(), -1);
        assert_eq!(
            CreateParameters::decode(&raw[..23]),
            Err(NtStatus::INVALID_PARAMETER)
        );
        let mut back = [0xAAu8; 24];
        CreateParameters {
            read_timeout: Some(5),
            ..p
        }
        .encode(&mut back)
        .unwrap();
        assert_eq!(
            CreateParameters::decode(&back).unwrap().read_timeout,
            Some(5)
        );
    }

    #[test]
    fn query_information_layout() {
        let info = MailslotInfo {
            maximum_message_size: 0x11223344,
            mailslot_quota: 0x55667788,
            next_message_size: MAILSLOT_NO_MESSAGE,
            messages_available: 3,
            read_timeout: -1,
        };
        let mut out = [0u8; 30];
        assert_eq!(info.encode(&mut out), Ok(24));
        assert_eq!(&out[0..4], &[0x44, 0x33, 0x22, 0x11]);
        assert_eq!(&out[4..8], &[0x88, 0x77, 0x66, 0x55]);
        assert_eq!(&out[8..12], &[0xFF; 4]);
        assert_eq!(&out[12..16], &[3, 0, 0, 0]);
        assert_eq!(&out[16..24], &[0xFF; 8]);
        assert_eq!(&out[24..], &[0; 6], "nothing written past the structure");
        assert_eq!(MailslotInfo::decode(&out), Ok(info));
        assert_eq!(
            info.encode(&mut [0u8; 23]),
            Err(NtStatus::INFO_LENGTH_MISMATCH)
        );
        assert_eq!(
            MailslotInfo::decode(&out[..23]),
            Err(NtStatus::INFO_LENGTH_MISMATCH)
        );
    }

    #[test]
    fn set_information_is_a_pointer() {
        assert_eq!(
            SetInformation::decode(&[1, 0, 0, 0, 0, 0, 0]),
            Err(NtStatus::INFO_LENGTH_MISMATCH)
        );
        assert_eq!(
            SetInformation::decode(&[0; 8]),
            Err(NtStatus::INVALID_PARAMETER)
        );
        let s = SetInformation::decode(&0x7FF0_1234_5678u64.to_le_bytes()).unwrap();
        assert_eq!(s.read_timeout_ptr.get(), 0x7FF0_1234_5678);
    }

    #[test]
    fn a_32_bit_caller_sends_a_4_byte_pointer() {
        let w = PointerWidth::Bits32;
        assert_eq!(
            SetInformation::decode_for(&[1, 0, 0], w),
            Err(NtStatus::INFO_LENGTH_MISMATCH)
        );
        assert_eq!(
            SetInformation::decode_for(&[0; 4], w),
            Err(NtStatus::INVALID_PARAMETER)
        );
        let s = SetInformation::decode_for(&0x7FFE_0010u32.to_le_bytes(), w).unwrap();
        assert_eq!(s.read_timeout_ptr.get(), 0x7FFE_0010);
        // Widened to 8 bytes by a thunk, or followed by anything: the pointer is 4 bytes.
        let s = SetInformation::decode_for(&[0x10, 0, 0xFE, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF], w);
        assert_eq!(s.unwrap().read_timeout_ptr.get(), 0x7FFE_0010);
        // The same 4 bytes from a 64-bit caller are too short.
        assert_eq!(
            SetInformation::decode_for(&0x7FFE_0010u32.to_le_bytes(), PointerWidth::Bits64),
            Err(NtStatus::INFO_LENGTH_MISMATCH)
        );
    }

    #[test]
    fn peek_header_layout() {
        let h = PeekHeader {
            read_data_available: 10,
            number_of_messages: 2,
            message_length: 4,
        };
        let mut out = [0u8; 12];
        assert_eq!(h.encode(&mut out), Ok(12));
        assert_eq!(out, [10, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0]);
        assert_eq!(h.encode(&mut [0u8; 11]), Err(NtStatus::BUFFER_TOO_SMALL));
    }

    #[test]
    fn fsctl_code_is_ctl_code() {
        let ctl = ((0x0Cu32 << 16) | (1 << 14)) | 3;
        assert_eq!(FSCTL_MAILSLOT_PEEK, ctl);
    }
}
