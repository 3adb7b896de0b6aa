//! Checks of a kernel driver image that need no Windows: everything a loader or a reviewer
//! would refuse in a `.sys`, read with the `object` crate.

use std::collections::BTreeSet;

use object::pe;
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader, PeFile64};
use object::LittleEndian as LE;
use object::Object;

/// One failed check.
#[derive(Debug, PartialEq, Eq)]
pub struct Finding(pub String);

/// Offset of `CheckSum` in the optional header, which follows the 4-byte signature and the
/// 20-byte file header.
const CHECKSUM_IN_OPTIONAL_HEADER: usize = 0x40;

fn checksum_offset(data: &[u8]) -> Option<usize> {
    let e_lfanew = u32::from_le_bytes(data.get(0x3C..0x40)?.try_into().ok()?) as usize;
    let offset = e_lfanew.checked_add(4 + 20 + CHECKSUM_IN_OPTIONAL_HEADER)?;
    (offset + 4 <= data.len()).then_some(offset)
}

/// The PE image checksum (as imagehlp's CheckSumMappedFile computes it): the one's-complement
/// style 16-bit sum of the file with the CheckSum field taken as zero, plus the file length.
pub fn pe_checksum(data: &[u8]) -> Option<u32> {
    let skip = checksum_offset(data)?;
    let mut sum: u64 = 0;
    for (i, chunk) in data.chunks(2).enumerate() {
        let at = i * 2;
        if at == skip || at == skip + 2 {
            continue;
        }
        let word = u64::from(chunk[0]) | chunk.get(1).map_or(0, |&b| u64::from(b) << 8);
        sum += word;
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum = (sum & 0xFFFF) + (sum >> 16);
    Some((sum as u32).wrapping_add(data.len() as u32))
}

/// Writes the correct checksum into the image.
pub fn fix_checksum(data: &mut [u8]) -> Option<u32> {
    let offset = checksum_offset(data)?;
    let sum = pe_checksum(data)?;
    data[offset..offset + 4].copy_from_slice(&sum.to_le_bytes());
    Some(sum)
}

/// `dll!name` lines; `#` starts a comment.
pub fn parse_allow_list(text: &str) -> BTreeSet<(String, String)> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once('!'))
        .map(|(dll, name)| (dll.trim().to_ascii_lowercase(), name.trim().to_string()))
        .collect()
}

/// The names the image exports, read from IMAGE_EXPORT_DIRECTORY (NumberOfNames at 0x18,
/// AddressOfNames at 0x20) directly: lld-link writes a directory size that `object`'s own
/// export parser refuses.
fn export_names(data: &[u8], file: &PeFile64) -> Result<Vec<String>, String> {
    let Some(dir) = file
        .data_directories()
        .get(pe::IMAGE_DIRECTORY_ENTRY_EXPORT)
        .filter(|d| d.virtual_address.get(LE) != 0)
    else {
        return Ok(Vec::new());
    };
    let sections = file.section_table();
    let at = |rva: u32, len: usize| -> Result<&[u8], String> {
        sections
            .pe_data_at(data, rva)
            .and_then(|d| d.get(..len))
            .ok_or_else(|| format!("export data at RVA {rva:#x} is outside the image"))
    };
    let u32_at = |rva: u32| -> Result<u32, String> {
        let b = at(rva, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let base = dir.virtual_address.get(LE);
    let count = u32_at(base + 0x18)?;
    let names = u32_at(base + 0x20)?;
    if count > 4096 {
        return Err(format!("{count} exported names"));
    }
    (0..count)
        .map(|i| {
            let name = u32_at(names + 4 * i)?;
            let bytes = sections
                .pe_data_at(data, name)
                .ok_or_else(|| format!("export name at RVA {name:#x} is outside the image"))?;
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            Ok(String::from_utf8_lossy(&bytes[..end]).into_owned())
        })
        .collect()
}

/// Every check on one image. `signed` also requires an Authenticode certificate table (its
/// validity is checked with osslsigncode).
pub fn check(
    data: &[u8],
    allowed: &BTreeSet<(String, String)>,
    signed: bool,
) -> Result<Vec<Finding>, String> {
    let file = PeFile64::parse(data).map_err(|e| format!("not a PE32+ image: {e}"))?;
    let mut findings = Vec::new();
    let mut fail = |s: String| findings.push(Finding(s));
    let nt = file.nt_headers();
    let header = nt.file_header();
    let optional = nt.optional_header();

    if header.machine.get(LE) != pe::IMAGE_FILE_MACHINE_AMD64 {
        fail(format!(
            "machine {:#x}, expected AMD64",
            header.machine.get(LE)
        ));
    }
    if optional.subsystem() != pe::IMAGE_SUBSYSTEM_NATIVE {
        fail(format!(
            "subsystem {}, expected NATIVE (1)",
            optional.subsystem()
        ));
    }
    let dll = optional.dll_characteristics();
    for (bit, name) in [
        (pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT, "NX_COMPAT"),
        (pe::IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE, "DYNAMIC_BASE"),
        (
            pe::IMAGE_DLLCHARACTERISTICS_FORCE_INTEGRITY,
            "FORCE_INTEGRITY",
        ),
    ] {
        if dll & bit == 0 {
            fail(format!("DLL characteristic {name} missing"));
        }
    }
    let stored = optional.check_sum();
    match pe_checksum(data) {
        Some(computed) if computed == stored && stored != 0 => {}
        Some(computed) => fail(format!(
            "checksum {stored:#010x}, computed {computed:#010x}"
        )),
        None => fail("no checksum field".into()),
    }

    let sections = file.section_table();
    let entry = optional.address_of_entry_point();
    let entry_ok = sections.iter().any(|s| {
        let start = s.virtual_address.get(LE);
        let size = s.virtual_size.get(LE).max(s.size_of_raw_data.get(LE));
        let exec = s.characteristics.get(LE) & pe::IMAGE_SCN_MEM_EXECUTE != 0;
        exec && entry >= start && entry < start.saturating_add(size)
    });
    if entry == 0 || !entry_ok {
        fail(format!(
            "entry point {entry:#x} is not inside an executable section"
        ));
    }
    for s in sections.iter() {
        let c = s.characteristics.get(LE);
        if c & pe::IMAGE_SCN_MEM_WRITE != 0 && c & pe::IMAGE_SCN_MEM_EXECUTE != 0 {
            fail(format!(
                "section {} is writable and executable",
                String::from_utf8_lossy(s.raw_name())
            ));
        }
    }

    let allowed_dlls: BTreeSet<&str> = allowed.iter().map(|(d, _)| d.as_str()).collect();
    let imports = file.imports().map_err(|e| format!("imports: {e}"))?;
    if imports.is_empty() {
        fail("no imports at all".into());
    }
    for import in imports {
        let dll = String::from_utf8_lossy(import.library()).to_ascii_lowercase();
        let name = String::from_utf8_lossy(import.name()).to_string();
        if !allowed_dlls.contains(dll.as_str()) {
            fail(format!("import from {dll} (only ntoskrnl.exe, hal.dll and wdfldr.sys may be imported): {name}"));
        } else if !allowed.contains(&(dll.clone(), name.clone())) {
            fail(format!("import {dll}!{name} is not in the allow-list"));
        }
    }

    // A driver's only export may be its entry point: anything else (a marker symbol the linker
    // needs, a helper) is surface other modules could bind to.
    for name in export_names(data, &file)? {
        if name != "DriverEntry" {
            fail(format!("exports {name}: only DriverEntry may be exported"));
        }
    }

    let security = file
        .data_directories()
        .get(pe::IMAGE_DIRECTORY_ENTRY_SECURITY)
        .filter(|d| d.size.get(LE) != 0);
    if signed && security.is_none() {
        fail("no Authenticode certificate table".into());
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_a_small_buffer() {
        // A fake header: e_lfanew = 0x40, checksum field at 0x40 + 0x58 = 0x98.
        let mut data = vec![0u8; 0x100];
        data[0x3C] = 0x40;
        data[0x10] = 0x34;
        data[0x11] = 0x12;
        data[0x98..0x9C].copy_from_slice(&[0xFF; 4]);
        // Words: 0x0040 at 0x3C and 0x1234 at 0x10; the checksum field is skipped.
        assert_eq!(pe_checksum(&data), Some(0x40 + 0x1234 + 0x100));
        let sum = fix_checksum(&mut data).unwrap();
        assert_eq!(
            u32::from_le_bytes(data[0x98..0x9C].try_into().unwrap()),
            sum
        );
        assert_eq!(pe_checksum(&data), Some(sum), "the field does not count");
    }

    #[test]
    fn checksum_folds_carries_and_odd_lengths() {
        let mut data = vec![0xFFu8; 0x101];
        data[0x3C..0x40].copy_from_slice(&0x40u32.to_le_bytes());
        let sum = pe_checksum(&data).unwrap();
        assert!(sum >= 0x101);
        assert!(sum - 0x101 <= 0xFFFF, "the 16-bit sum stays folded");
    }

    #[test]
    fn allow_list_parsing() {
        let list = parse_allow_list(
            "# c\nntoskrnl.exe!KeBugCheckEx  # why\n\nWDFLDR.SYS!WdfVersionBind\nbad line\n",
        );
        assert!(list.contains(&("ntoskrnl.exe".into(), "KeBugCheckEx".into())));
        assert!(list.contains(&("wdfldr.sys".into(), "WdfVersionBind".into())));
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn garbage_is_not_an_image() {
        assert!(check(b"MZ nonsense", &BTreeSet::new(), false).is_err());
    }
}
