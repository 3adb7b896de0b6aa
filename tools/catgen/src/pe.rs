//! Authenticode's hash of a PE image: SHA-256 of the file without the checksum field, the
//! certificate-table directory entry and the certificate table itself (Microsoft's
//! "Windows Authenticode Portable Executable Signature Format"; osslsigncode hashes the same
//! ranges, which is what `osslsigncode verify -catalog` compares a catalog member with).

use sha2::{Digest, Sha256};

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        data.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        data.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The image's Authenticode SHA-256. An image without a certificate table is hashed to its end,
/// padded with zeros to a multiple of 8 bytes, as a signer would hash it.
pub fn image_digest(data: &[u8]) -> Result<[u8; 32], String> {
    let bad = |what: &str| format!("not a PE image: {what}");
    if data.get(..2) != Some(b"MZ") {
        return Err(bad("no MZ header"));
    }
    let pe = u32_at(data, 0x3C).ok_or_else(|| bad("truncated DOS header"))? as usize;
    if data.get(pe..pe.saturating_add(4)) != Some(b"PE\0\0") {
        return Err(bad("no PE signature"));
    }
    let optional = pe + 24;
    let magic = u16_at(data, optional).ok_or_else(|| bad("truncated optional header"))?;
    // The data directories begin 96 bytes into a PE32 optional header, 112 into a PE32+ one.
    let directories = match magic {
        0x10B => optional + 96,
        0x20B => optional + 112,
        other => return Err(bad(&format!("optional header magic {other:#x}"))),
    };
    let checksum = optional + 64;
    // Entry 4: the certificate table, whose "address" is a file offset.
    let cert_entry = directories + 4 * 8;
    let cert_offset = u32_at(data, cert_entry).ok_or_else(|| bad("truncated directories"))?;
    let cert_size = u32_at(data, cert_entry + 4).ok_or_else(|| bad("truncated directories"))?;
    let end = if cert_size == 0 {
        data.len()
    } else {
        let offset = cert_offset as usize;
        if offset > data.len() || offset < cert_entry + 8 {
            return Err(bad("certificate table outside the file"));
        }
        offset
    };
    let mut hash = Sha256::new();
    hash.update(&data[..checksum]);
    hash.update(&data[checksum + 4..cert_entry]);
    hash.update(&data[cert_entry + 8..end]);
    if cert_size == 0 && end % 8 != 0 {
        hash.update(&[0u8; 8][..8 - end % 8]);
    }
    Ok(hash.finalize().into())
}
