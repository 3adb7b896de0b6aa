//! Readers for the reply buffers the rows inspect (little-endian fields, directory records).

/// The u32 at `at`, if the buffer holds it.
pub fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The i64 at `at`, if the buffer holds it.
pub fn i64_at(b: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// The names in a chain of FILE_DIRECTORY_INFORMATION records (NextEntryOffset at 0,
/// FileNameLength at 60, FileName at 64), within the first `len` bytes. A record that does not
/// fit ends the walk.
pub fn directory_names(buf: &[u8], len: usize) -> Vec<String> {
    let buf = &buf[..len.min(buf.len())];
    let mut names = Vec::new();
    let mut at = 0usize;
    while let (Some(next), Some(name_len)) = (u32_at(buf, at), u32_at(buf, at + 60)) {
        let start = at + 64;
        let Some(bytes) = buf.get(start..start + name_len as usize) else {
            break;
        };
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        names.push(String::from_utf16_lossy(&units));
        if next == 0 {
            break;
        }
        at += next as usize;
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_little_endian_and_stop_at_the_end() {
        let b = [1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        assert_eq!(u32_at(&b, 0), Some(1));
        assert_eq!(i64_at(&b, 4), Some(-1));
        assert_eq!(u32_at(&b, 9), None);
        assert_eq!(i64_at(&b, usize::MAX - 2), None);
    }

    #[test]
    fn directory_records_are_walked() {
        let mut buf = vec![0u8; 200];
        let mut rec = |at: usize, next: u32, name: &str| {
            buf[at..at + 4].copy_from_slice(&next.to_le_bytes());
            let units: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
            buf[at + 60..at + 64].copy_from_slice(&(units.len() as u32).to_le_bytes());
            buf[at + 64..at + 64 + units.len()].copy_from_slice(&units);
        };
        rec(0, 72, "ab");
        rec(72, 0, "cde");
        assert_eq!(directory_names(&buf, 200), ["ab", "cde"]);
        // Cut inside the second record: only the first is whole.
        assert_eq!(directory_names(&buf, 100), ["ab"]);
        assert!(directory_names(&buf, 10).is_empty());
    }
}
