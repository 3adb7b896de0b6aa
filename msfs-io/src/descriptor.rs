//! The length of a self-relative security descriptor, read a piece at a time: the furthest
//! of its 20-byte header and its parts (owner and group SIDs: 8 bytes and 4 per
//! sub-authority; SACL and DACL: their AclSize), as the SECURITY_DESCRIPTOR_RELATIVE layout
//! defines them. The driver copies a creator's descriptor with it, without an Rtl routine
//! (whose import windows-sys would route to ntdll.dll).

use msfs::NtStatus;

/// `SECURITY_DESCRIPTOR_CONTROL` SE_SELF_RELATIVE.
const SE_SELF_RELATIVE: u16 = 0x8000;

/// The descriptor's length, where `read(offset, out)` fills `out` from `offset` bytes into it
/// (false when it cannot). STATUS_INVALID_SECURITY_DESCR for anything that is not a
/// revision-1 self-relative descriptor whose parts end within `limit` bytes.
pub fn self_relative_length(
    read: &mut dyn FnMut(usize, &mut [u8]) -> bool,
    limit: usize,
) -> Result<usize, NtStatus> {
    let bad = NtStatus::INVALID_SECURITY_DESCR;
    let mut head = [0u8; 20];
    if !read(0, &mut head) {
        return Err(bad);
    }
    let [revision, _, c0, c1, ..] = head;
    if revision != 1 || u16::from_le_bytes([c0, c1]) & SE_SELF_RELATIVE == 0 {
        return Err(bad);
    }
    let mut end = head.len();
    let parts = head.get(4..20).ok_or(bad)?.chunks_exact(4);
    for (raw, is_sid) in parts.zip([true, true, false, false]) {
        let offset = match *raw {
            [a, b, c, d] => usize::try_from(u32::from_le_bytes([a, b, c, d])).map_err(|_| bad)?,
            _ => return Err(bad),
        };
        if offset == 0 {
            continue;
        }
        if offset < head.len() || offset > limit {
            return Err(bad);
        }
        let mut part = [0u8; 8];
        if !read(offset, &mut part) {
            return Err(bad);
        }
        let len = part_size(is_sid, part).ok_or(bad)?;
        let part_end = offset.checked_add(len).filter(|&e| e <= limit).ok_or(bad)?;
        end = end.max(part_end);
    }
    Ok(end)
}

/// What a mailslot created without a descriptor starts from when its server first sets one
/// (SetSecurityInfo): a self-relative descriptor with no owner, no group and a NULL DACL, which
/// grants every user everything, as the slot's default did; the change replaces the parts it
/// names.
pub const OPEN_TO_ALL: [u8; 20] = {
    let mut sd = [0u8; 20];
    sd[0] = 1;
    let [c0, c1] = (SE_SELF_RELATIVE | SE_DACL_PRESENT).to_le_bytes();
    sd[2] = c0;
    sd[3] = c1;
    sd
};

/// `SECURITY_DESCRIPTOR_CONTROL` SE_DACL_PRESENT.
const SE_DACL_PRESENT: u16 = 0x0004;

/// `SECURITY_INFORMATION` bits.
pub const OWNER_SECURITY_INFORMATION: u32 = 0x1;
pub const GROUP_SECURITY_INFORMATION: u32 = 0x2;
pub const DACL_SECURITY_INFORMATION: u32 = 0x4;
pub const SACL_SECURITY_INFORMATION: u32 = 0x8;

/// Control bits that belong to each part (SE_OWNER_DEFAULTED; SE_GROUP_DEFAULTED; the DACL's
/// present, defaulted, auto-inherit and protected bits; the SACL's).
const OWNER_BITS: u16 = 0x0001;
const GROUP_BITS: u16 = 0x0002;
const DACL_BITS: u16 = 0x0004 | 0x0008 | 0x0100 | 0x0400 | 0x1000;
const SACL_BITS: u16 = 0x0010 | 0x0020 | 0x0200 | 0x0800 | 0x2000;

/// The length of a part from its first 8 bytes: a SID's 8 bytes and 4 per sub-authority, an
/// ACL's AclSize.
fn part_size(is_sid: bool, head: [u8; 8]) -> Option<usize> {
    let [_, count, size0, size1, ..] = head;
    if is_sid {
        usize::from(count).checked_mul(4)?.checked_add(8)
    } else {
        Some(usize::from(u16::from_le_bytes([size0, size1])))
    }
}

/// The part a header field (4 owner, 8 group, 12 SACL, 16 DACL) of the valid self-relative
/// descriptor `sd` points to, if it has one.
fn part_of(sd: &[u8], field: usize) -> Option<&[u8]> {
    let raw: [u8; 4] = sd.get(field..field.checked_add(4)?)?.try_into().ok()?;
    let offset = usize::try_from(u32::from_le_bytes(raw)).ok()?;
    if offset == 0 {
        return None;
    }
    let head: [u8; 8] = sd.get(offset..offset.checked_add(8)?)?.try_into().ok()?;
    let size = part_size(field <= 8, head)?;
    sd.get(offset..offset.checked_add(size)?)
}

/// What IRP_MJ_QUERY_SECURITY returns of the self-relative descriptor `sd` (one
/// [`self_relative_length`] accepted): a self-relative descriptor holding only the parts
/// `information` asks for (owner, group, DACL, SACL) and their control bits, as
/// SeQuerySecurityDescriptorInfo builds it, written to `out`. `Ok(len)` when it fit; `Err(len)`
/// with the length it needs when `out` is too short (nothing written then).
pub fn select(sd: &[u8], information: u32, out: &mut [u8]) -> Result<usize, usize> {
    let control = match sd.get(2..4) {
        Some(&[c0, c1]) => u16::from_le_bytes([c0, c1]),
        _ => 0,
    };
    // (header field, information bit, control bits), in the order the parts are laid out.
    let wanted = [
        (4usize, OWNER_SECURITY_INFORMATION, OWNER_BITS),
        (8, GROUP_SECURITY_INFORMATION, GROUP_BITS),
        (12, SACL_SECURITY_INFORMATION, SACL_BITS),
        (16, DACL_SECURITY_INFORMATION, DACL_BITS),
    ];
    let mut keep = SE_SELF_RELATIVE;
    let mut total = 20usize;
    for &(field, bit, bits) in &wanted {
        if information & bit != 0 {
            keep |= control & bits;
            total = total.saturating_add(part_of(sd, field).map_or(0, <[u8]>::len));
        }
    }
    let Some(dst) = out.get_mut(..total) else {
        return Err(total);
    };
    dst.fill(0);
    let mut at = 20usize;
    for &(field, bit, _) in &wanted {
        let Some(p) = part_of(sd, field).filter(|_| information & bit != 0) else {
            continue;
        };
        let end = at.saturating_add(p.len());
        let offset = u32::try_from(at).unwrap_or(0);
        if let Some(d) = dst.get_mut(at..end) {
            d.copy_from_slice(p);
        }
        if let Some(h) = dst.get_mut(field..field.saturating_add(4)) {
            h.copy_from_slice(&offset.to_le_bytes());
        }
        at = end;
    }
    let [k0, k1] = keep.to_le_bytes();
    if let Some(h) = dst.get_mut(..4) {
        h.copy_from_slice(&[1, 0, k0, k1]);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate alloc;
    use alloc::vec;
    use alloc::vec::Vec;

    fn reader(bytes: &[u8]) -> impl FnMut(usize, &mut [u8]) -> bool + '_ {
        move |at, out| match bytes.get(at..at + out.len()) {
            Some(src) => {
                out.copy_from_slice(src);
                true
            }
            None => false,
        }
    }

    /// O:S-1-5-18 D:(A;;GA;;;S-1-5-18), self-relative: header, owner SID, DACL.
    fn sample() -> Vec<u8> {
        let sid = [1u8, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
        let mut sd = vec![
            1u8, 0, 0x04, 0x80, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0,
        ];
        sd.extend_from_slice(&sid);
        // ACL: revision 2, size 8 + ACE (8 + 12), one ACE.
        sd.extend_from_slice(&[2, 0, 28, 0, 1, 0, 0, 0]);
        sd.extend_from_slice(&[0, 0, 20, 0, 0, 0, 0, 0x10]);
        sd.extend_from_slice(&sid);
        sd
    }

    #[test]
    fn the_length_is_the_furthest_part() {
        let sd = sample();
        assert_eq!(self_relative_length(&mut reader(&sd), 4096), Ok(sd.len()));
        // Trailing bytes are not the descriptor's.
        let mut longer = sd.clone();
        longer.extend_from_slice(&[0xEE; 10]);
        assert_eq!(
            self_relative_length(&mut reader(&longer), 4096),
            Ok(sd.len())
        );
    }

    #[test]
    fn a_query_returns_only_the_parts_asked_for() {
        let sd = sample();
        let mut out = [0u8; 256];
        // Everything: the same parts (owner, DACL), laid out afresh.
        let n = select(
            &sd,
            OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
            &mut out,
        )
        .unwrap();
        assert_eq!(n, sd.len());
        assert_eq!(self_relative_length(&mut reader(&out[..n]), 4096), Ok(n));
        assert_eq!(&out[20..32], &sd[20..32], "the owner SID");
        assert_eq!(&out[32..n], &sd[32..], "the DACL");
        assert_eq!(u16::from_le_bytes([out[2], out[3]]), 0x8004);
        // Only the owner: no DACL, and no DACL-present bit.
        let n = select(&sd, OWNER_SECURITY_INFORMATION, &mut out).unwrap();
        assert_eq!(n, 32);
        assert_eq!(u16::from_le_bytes([out[2], out[3]]), 0x8000);
        assert_eq!(&out[16..20], &[0, 0, 0, 0]);
        // A group it has none of: just the header.
        assert_eq!(select(&sd, GROUP_SECURITY_INFORMATION, &mut out), Ok(20));
        // Too short: the length needed, nothing claimed written.
        assert_eq!(
            select(&sd, DACL_SECURITY_INFORMATION, &mut out[..10]),
            Err(48)
        );
        let n = select(&sd, DACL_SECURITY_INFORMATION, &mut out).unwrap();
        assert_eq!(n, 48);
        assert_eq!(u32::from_le_bytes([out[16], out[17], out[18], out[19]]), 20);
        assert_eq!(&out[20..48], &sd[32..]);
    }

    #[test]
    fn the_open_default_is_a_null_dacl_and_nothing_else() {
        let sd = OPEN_TO_ALL;
        assert_eq!(self_relative_length(&mut reader(&sd), 4096), Ok(20));
        assert_eq!(u16::from_le_bytes([sd[2], sd[3]]), 0x8004);
        assert_eq!(&sd[4..], &[0; 16], "no owner, group, SACL or ACL");
        let mut out = [0u8; 20];
        // Its DACL, queried: present and NULL.
        assert_eq!(select(&sd, DACL_SECURITY_INFORMATION, &mut out), Ok(20));
        assert_eq!(out, sd);
    }

    #[test]
    fn what_is_not_a_self_relative_descriptor_is_refused() {
        let bad = Err(NtStatus::INVALID_SECURITY_DESCR);
        let sd = sample();
        let mut absolute = sd.clone();
        absolute[3] = 0;
        assert_eq!(self_relative_length(&mut reader(&absolute), 4096), bad);
        let mut revision = sd.clone();
        revision[0] = 2;
        assert_eq!(self_relative_length(&mut reader(&revision), 4096), bad);
        // A part past the limit, or inside the header, or not readable.
        assert_eq!(self_relative_length(&mut reader(&sd), sd.len() - 1), bad);
        let mut inside = sd.clone();
        inside[16] = 8;
        assert_eq!(self_relative_length(&mut reader(&inside), 4096), bad);
        assert_eq!(self_relative_length(&mut reader(&sd[..30]), 4096), bad);
        assert_eq!(self_relative_length(&mut reader(&[]), 4096), bad);
    }
}
