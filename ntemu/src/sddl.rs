//! A security descriptor as an SDDL string, as advapi32's
//! ConvertSecurityDescriptorToStringSecurityDescriptorW writes one (Microsoft's "Security
//! Descriptor String Format", "ACE Strings" and "SID Strings"): the parts the information
//! asks for in the order O, G, D; well-known SIDs by their two-letter aliases; an access mask
//! by the one right string that equals it, else by the single-bit strings that make it up, else
//! in hexadecimal; a NULL DACL as `NO_ACCESS_CONTROL`.

use crate::se::{AceKind, SecurityDescriptor, Sid, SID_ALIASES};

const OWNER: u32 = 0x1;
const GROUP: u32 = 0x2;
const DACL: u32 = 0x4;

/// Composite rights first: a mask equal to one is written as it.
const WHOLE: [(u32, &str); 8] = [
    (0x1000_0000, "GA"),
    (0x8000_0000, "GR"),
    (0x4000_0000, "GW"),
    (0x2000_0000, "GX"),
    (0x001F_01FF, "FA"),
    (0x0012_0089, "FR"),
    (0x0012_0116, "FW"),
    (0x0012_00A0, "FX"),
];

/// Single rights, in the order advapi32 writes them.
const BITS: [(u32, &str); 13] = [
    (0x1, "CC"),
    (0x2, "DC"),
    (0x4, "LC"),
    (0x8, "SW"),
    (0x10, "RP"),
    (0x20, "WP"),
    (0x40, "DT"),
    (0x80, "LO"),
    (0x100, "CR"),
    (0x0001_0000, "SD"),
    (0x0002_0000, "RC"),
    (0x0004_0000, "WD"),
    (0x0008_0000, "WO"),
];

fn sid(s: &Sid) -> String {
    let full = format!("{s:?}");
    SID_ALIASES
        .iter()
        .find(|(_, f)| *f == full)
        .map_or(full, |(a, _)| (*a).to_string())
}

fn rights(mask: u32) -> String {
    if let Some((_, w)) = WHOLE.iter().find(|(m, _)| *m == mask) {
        return (*w).to_string();
    }
    let known = BITS.iter().fold(0, |acc, (m, _)| acc | m);
    if mask != 0 && mask & !known == 0 {
        return BITS
            .iter()
            .filter(|(m, _)| mask & m != 0)
            .map(|(_, s)| *s)
            .collect();
    }
    format!("0x{mask:x}")
}

/// The SDDL string of the parts of `sd` that `information` names.
pub fn render(sd: &SecurityDescriptor, information: u32) -> String {
    let mut out = String::new();
    if information & OWNER != 0 {
        if let Some(o) = &sd.owner {
            out += &format!("O:{}", sid(o));
        }
    }
    if information & GROUP != 0 {
        if let Some(g) = &sd.group {
            out += &format!("G:{}", sid(g));
        }
    }
    if information & DACL != 0 {
        out += "D:";
        if sd.protected {
            out.push('P');
        }
        match &sd.dacl {
            None => out += "NO_ACCESS_CONTROL",
            Some(aces) => {
                for a in aces {
                    let kind = if a.kind == AceKind::Allow { "A" } else { "D" };
                    out += &format!("({kind};;{};;;{})", rights(a.mask), sid(&a.sid));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_what_it_parses() {
        for text in [
            "O:SYD:P(A;;GA;;;SY)",
            "O:S-1-5-21-1-2-3-1001D:(A;;FA;;;S-1-5-21-1-2-3-1001)(D;;FW;;;WD)",
            "D:NO_ACCESS_CONTROL",
            "O:BAG:SYD:(A;;RCWD;;;BU)(A;;0x10000000;;;AU)",
        ] {
            let sd = SecurityDescriptor::from_sddl(text).unwrap();
            let expected = text.replace("0x10000000", "GA");
            assert_eq!(render(&sd, OWNER | GROUP | DACL), expected);
        }
        let sd = SecurityDescriptor::from_sddl("O:SYD:P(A;;0x3;;;SY)").unwrap();
        assert_eq!(render(&sd, DACL), "D:P(A;;CCDC;;;SY)");
        assert_eq!(render(&sd, OWNER), "O:SY");
        let odd = SecurityDescriptor::from_sddl("D:(A;;0x200;;;SY)").unwrap();
        assert_eq!(render(&odd, DACL), "D:(A;;0x200;;;SY)");
    }
}
