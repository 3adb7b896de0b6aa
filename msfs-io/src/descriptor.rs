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
        let [_, count, size0, size1, ..] = part;
        let len = if is_sid {
            usize::from(count)
                .checked_mul(4)
                .and_then(|n| n.checked_add(8))
        } else {
            Some(usize::from(u16::from_le_bytes([size0, size1])))
        }
        .ok_or(bad)?;
        let part_end = offset.checked_add(len).filter(|&e| e <= limit).ok_or(bad)?;
        end = end.max(part_end);
    }
    Ok(end)
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
