//! Security: SIDs, security descriptors from SDDL, tokens of the users tests run as, and the
//! access check the I/O manager makes against a device's descriptor (SeAccessCheck).
//!
//! Facts used (learn.microsoft.com): the SDDL grammar and its SID and rights abbreviations
//! ("Security Descriptor String Format", "SID Strings", "ACE Strings"), the file object type's
//! generic mapping (FILE_GENERIC_READ 0x120089, FILE_GENERIC_WRITE 0x120116,
//! FILE_GENERIC_EXECUTE 0x1200A0, FILE_ALL_ACCESS 0x1F01FF), the owner's implicit READ_CONTROL
//! and WRITE_DAC unless an OWNER RIGHTS (S-1-3-4) ACE says otherwise ("How AccessCheck
//! Works", "SID Strings" for OW), MAXIMUM_ALLOWED, and ACE order (the first deny of a requested
//! right denies it; allow ACEs accumulate).

use std::fmt;

pub const DELETE: u32 = 0x0001_0000;
pub const READ_CONTROL: u32 = 0x0002_0000;
pub const WRITE_DAC: u32 = 0x0004_0000;
pub const WRITE_OWNER: u32 = 0x0008_0000;
pub const SYNCHRONIZE: u32 = 0x0010_0000;
pub const ACCESS_SYSTEM_SECURITY: u32 = 0x0100_0000;
pub const MAXIMUM_ALLOWED: u32 = 0x0200_0000;
pub const GENERIC_ALL: u32 = 0x1000_0000;
pub const GENERIC_EXECUTE: u32 = 0x2000_0000;
pub const GENERIC_WRITE: u32 = 0x4000_0000;
pub const GENERIC_READ: u32 = 0x8000_0000;

pub const FILE_GENERIC_READ: u32 = 0x0012_0089;
pub const FILE_GENERIC_WRITE: u32 = 0x0012_0116;
pub const FILE_GENERIC_EXECUTE: u32 = 0x0012_00A0;
pub const FILE_ALL_ACCESS: u32 = 0x001F_01FF;

/// Maps generic rights with the file object type's mapping.
pub fn map_generic(mask: u32) -> u32 {
    let mut out = mask & !(GENERIC_ALL | GENERIC_EXECUTE | GENERIC_WRITE | GENERIC_READ);
    if mask & GENERIC_READ != 0 {
        out |= FILE_GENERIC_READ;
    }
    if mask & GENERIC_WRITE != 0 {
        out |= FILE_GENERIC_WRITE;
    }
    if mask & GENERIC_EXECUTE != 0 {
        out |= FILE_GENERIC_EXECUTE;
    }
    if mask & GENERIC_ALL != 0 {
        out |= FILE_ALL_ACCESS;
    }
    out
}

/// A security identifier.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Sid {
    pub authority: u64,
    pub sub: Vec<u32>,
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S-1-{}", self.authority)?;
        for s in &self.sub {
            write!(f, "-{s}")?;
        }
        Ok(())
    }
}

impl Sid {
    pub fn new(authority: u64, sub: &[u32]) -> Sid {
        Sid {
            authority,
            sub: sub.to_vec(),
        }
    }

    pub fn everyone() -> Sid {
        Sid::new(1, &[0])
    }

    pub fn local_system() -> Sid {
        Sid::new(5, &[18])
    }

    pub fn administrators() -> Sid {
        Sid::new(5, &[32, 544])
    }

    pub fn users() -> Sid {
        Sid::new(5, &[32, 545])
    }

    pub fn owner_rights() -> Sid {
        Sid::new(3, &[4])
    }

    /// `S-1-5-21-...` style text, or an SDDL abbreviation.
    pub fn parse(text: &str) -> Option<Sid> {
        if let Some((_, full)) = SID_ALIASES.iter().find(|(alias, _)| *alias == text) {
            return Sid::parse(full);
        }
        let mut parts = text.strip_prefix("S-1-")?.split('-');
        let authority = parts.next()?.parse().ok()?;
        let sub = parts
            .map(|p| p.parse().ok())
            .collect::<Option<Vec<u32>>>()?;
        (sub.len() <= 15).then_some(Sid { authority, sub })
    }

    /// The binary SID (revision 1).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![1, self.sub.len() as u8];
        b.extend_from_slice(&self.authority.to_be_bytes()[2..]);
        for s in &self.sub {
            b.extend_from_slice(&s.to_le_bytes());
        }
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<(Sid, usize)> {
        let (&rev, &count) = (b.first()?, b.get(1)?);
        if rev != 1 || count > 15 {
            return None;
        }
        let mut auth = [0u8; 8];
        auth[2..].copy_from_slice(b.get(2..8)?);
        let len = 8 + count as usize * 4;
        let sub = (0..count as usize)
            .map(|i| {
                let at = 8 + i * 4;
                b.get(at..at + 4)
                    .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
            })
            .collect::<Option<Vec<u32>>>()?;
        Some((
            Sid {
                authority: u64::from_be_bytes(auth),
                sub,
            },
            len,
        ))
    }
}

/// SDDL's two-letter SID aliases ("SID Strings") and the SIDs they stand for, both ways:
/// parsed by [`Sid::parse`], written by [`crate::sddl`].
pub const SID_ALIASES: [(&str, &str); 14] = [
    ("WD", "S-1-1-0"),
    ("SY", "S-1-5-18"),
    ("BA", "S-1-5-32-544"),
    ("BU", "S-1-5-32-545"),
    ("AU", "S-1-5-11"),
    ("IU", "S-1-5-4"),
    ("NU", "S-1-5-2"),
    ("AN", "S-1-5-7"),
    ("RC", "S-1-5-12"),
    ("LS", "S-1-5-19"),
    ("NS", "S-1-5-20"),
    ("OW", "S-1-3-4"),
    ("CO", "S-1-3-0"),
    ("CG", "S-1-3-1"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AceKind {
    Allow,
    Deny,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ace {
    pub kind: AceKind,
    pub flags: u8,
    pub mask: u32,
    pub sid: Sid,
}

/// A security descriptor: owner, group, and a DACL (`None` is a NULL DACL, which grants all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityDescriptor {
    pub owner: Option<Sid>,
    pub group: Option<Sid>,
    pub dacl: Option<Vec<Ace>>,
    pub protected: bool,
}

fn rights(text: &str) -> Option<u32> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16).ok();
    }
    if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() {
        return text.parse().ok();
    }
    let mut mask = 0u32;
    let b = text.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    for pair in b.chunks(2) {
        mask |= match pair {
            b"GA" => GENERIC_ALL,
            b"GR" => GENERIC_READ,
            b"GW" => GENERIC_WRITE,
            b"GX" => GENERIC_EXECUTE,
            b"RC" => READ_CONTROL,
            b"SD" => DELETE,
            b"WD" => WRITE_DAC,
            b"WO" => WRITE_OWNER,
            b"FA" => FILE_ALL_ACCESS,
            b"FR" => FILE_GENERIC_READ,
            b"FW" => FILE_GENERIC_WRITE,
            b"FX" => FILE_GENERIC_EXECUTE,
            b"CC" => 0x1,
            b"DC" => 0x2,
            b"LC" => 0x4,
            b"SW" => 0x8,
            b"RP" => 0x10,
            b"WP" => 0x20,
            b"DT" => 0x40,
            b"LO" => 0x80,
            b"CR" => 0x100,
            _ => return None,
        };
    }
    Some(mask)
}

impl SecurityDescriptor {
    /// Parses an SDDL string (owner, group and DACL; a SACL is refused).
    pub fn from_sddl(text: &str) -> Result<SecurityDescriptor, String> {
        let mut sd = SecurityDescriptor {
            owner: None,
            group: None,
            dacl: None,
            protected: false,
        };
        let mut rest = text.trim();
        while !rest.is_empty() {
            let (tag, body) = rest.split_at(2.min(rest.len()));
            // Each component runs until the next "X:" tag outside parentheses.
            let mut depth = 0;
            let mut end = body.len();
            for (i, c) in body.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    ':' if depth == 0 && i >= 1 => {
                        end = i - 1;
                        break;
                    }
                    _ => {}
                }
            }
            let (component, next) = body.split_at(end);
            rest = next;
            match tag {
                "O:" => {
                    sd.owner =
                        Some(Sid::parse(component).ok_or(format!("bad owner {component:?}"))?)
                }
                "G:" => {
                    sd.group =
                        Some(Sid::parse(component).ok_or(format!("bad group {component:?}"))?)
                }
                "D:" => {
                    let (flags, aces) =
                        component.split_at(component.find('(').unwrap_or(component.len()));
                    sd.protected = flags.contains('P');
                    if flags.contains("NO_ACCESS_CONTROL") {
                        // A NULL DACL: every access granted.
                        sd.dacl = None;
                        continue;
                    }
                    let mut list = Vec::new();
                    for ace in aces.split(')').filter(|a| !a.is_empty()) {
                        let fields: Vec<&str> = ace.trim_start_matches('(').split(';').collect();
                        if fields.len() != 6 {
                            return Err(format!("bad ACE {ace:?}"));
                        }
                        let kind = match fields[0] {
                            "A" => AceKind::Allow,
                            "D" => AceKind::Deny,
                            other => return Err(format!("unsupported ACE type {other:?}")),
                        };
                        let mask =
                            rights(fields[2]).ok_or(format!("bad rights {:?}", fields[2]))?;
                        let sid =
                            Sid::parse(fields[5]).ok_or(format!("bad SID {:?}", fields[5]))?;
                        list.push(Ace {
                            kind,
                            flags: 0,
                            mask,
                            sid,
                        });
                    }
                    sd.dacl = Some(list);
                }
                other => return Err(format!("unsupported SDDL component {other:?}")),
            }
        }
        Ok(sd)
    }

    /// The length of the self-relative descriptor whose bytes `read(offset, len)` gives (the
    /// furthest of its header and parts), or `None` when it is not a revision-1 self-relative
    /// descriptor or a part cannot be read.
    pub fn self_relative_length(read: &dyn Fn(usize, usize) -> Option<Vec<u8>>) -> Option<usize> {
        const SE_SELF_RELATIVE: u16 = 0x8000;
        let head = read(0, 20)?;
        let control = u16::from_le_bytes([head[2], head[3]]);
        if head[0] != 1 || control & SE_SELF_RELATIVE == 0 {
            return None;
        }
        let mut end = 20usize;
        for field in [4usize, 8, 12, 16] {
            let off = u32::from_le_bytes(head[field..field + 4].try_into().ok()?) as usize;
            if off == 0 {
                continue;
            }
            let part = read(off, 8)?;
            let len = if field == 4 || field == 8 {
                8 + usize::from(part[1]) * 4
            } else {
                usize::from(u16::from_le_bytes([part[2], part[3]]))
            };
            end = end.max(off + len);
        }
        Some(end)
    }

    /// Parses a self-relative descriptor (owner, group, DACL of allow and deny ACEs; a SACL is
    /// ignored, as access checks ignore it).
    pub fn from_self_relative(b: &[u8]) -> Option<SecurityDescriptor> {
        const SE_DACL_PRESENT: u16 = 0x0004;
        const SE_DACL_PROTECTED: u16 = 0x1000;
        let u32_at = |at: usize| -> Option<u32> {
            Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
        };
        let control = u16::from_le_bytes([*b.get(2)?, *b.get(3)?]);
        let sid_at = |field: usize| -> Option<Option<Sid>> {
            match u32_at(field)? as usize {
                0 => Some(None),
                off => Some(Some(Sid::from_bytes(b.get(off..)?)?.0)),
            }
        };
        let dacl = if control & SE_DACL_PRESENT == 0 {
            None
        } else {
            match u32_at(16)? as usize {
                // DACL present with no ACL: a NULL DACL.
                0 => None,
                off => {
                    let count =
                        usize::from(u16::from_le_bytes([*b.get(off + 4)?, *b.get(off + 5)?]));
                    let mut at = off + 8;
                    let mut aces = Vec::new();
                    for _ in 0..count {
                        let kind = match *b.get(at)? {
                            0 => AceKind::Allow,
                            1 => AceKind::Deny,
                            _ => return None,
                        };
                        let flags = *b.get(at + 1)?;
                        let size =
                            usize::from(u16::from_le_bytes([*b.get(at + 2)?, *b.get(at + 3)?]));
                        let mask = u32_at(at + 4)?;
                        let (sid, _) = Sid::from_bytes(b.get(at + 8..at + size)?)?;
                        aces.push(Ace {
                            kind,
                            flags,
                            mask,
                            sid,
                        });
                        at += size;
                    }
                    Some(aces)
                }
            }
        };
        Some(SecurityDescriptor {
            owner: sid_at(4)?,
            group: sid_at(8)?,
            dacl,
            protected: control & SE_DACL_PROTECTED != 0,
        })
    }

    /// The self-relative binary form (SECURITY_DESCRIPTOR_RELATIVE with its SIDs and ACL).
    pub fn to_self_relative(&self) -> Vec<u8> {
        const SE_DACL_PRESENT: u16 = 0x0004;
        const SE_DACL_PROTECTED: u16 = 0x1000;
        const SE_SELF_RELATIVE: u16 = 0x8000;
        let mut control = SE_SELF_RELATIVE;
        let mut out = vec![0u8; 20];
        out[0] = 1;
        let put = |out: &mut Vec<u8>, at: usize, bytes: Vec<u8>| {
            let offset = out.len() as u32;
            out[at..at + 4].copy_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&bytes);
        };
        if let Some(o) = &self.owner {
            put(&mut out, 4, o.to_bytes());
        }
        if let Some(g) = &self.group {
            put(&mut out, 8, g.to_bytes());
        }
        if let Some(aces) = &self.dacl {
            control |= SE_DACL_PRESENT;
            if self.protected {
                control |= SE_DACL_PROTECTED;
            }
            let mut body = Vec::new();
            for a in aces {
                let sid = a.sid.to_bytes();
                let size = (8 + sid.len()) as u16;
                body.push(if a.kind == AceKind::Allow { 0 } else { 1 });
                body.push(a.flags);
                body.extend_from_slice(&size.to_le_bytes());
                body.extend_from_slice(&a.mask.to_le_bytes());
                body.extend_from_slice(&sid);
            }
            let mut acl = vec![2u8, 0];
            acl.extend_from_slice(&((8 + body.len()) as u16).to_le_bytes());
            acl.extend_from_slice(&(aces.len() as u16).to_le_bytes());
            acl.extend_from_slice(&[0, 0]);
            acl.extend_from_slice(&body);
            put(&mut out, 16, acl);
        }
        out[2..4].copy_from_slice(&control.to_le_bytes());
        out
    }
}

/// A token: who a thread is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub name: &'static str,
    pub user: Sid,
    /// Enabled groups (deny-only groups are left out: they never grant).
    pub groups: Vec<Sid>,
    /// The default owner of what this token creates.
    pub owner: Sid,
    /// SeChangeNotifyPrivilege (bypass traverse checking): every standard token has it.
    pub traverse: bool,
}

impl Token {
    fn matches(&self, sid: &Sid) -> bool {
        *sid == self.user || self.groups.contains(sid)
    }

    /// Whether this token may make `sid` an object's owner: its user, or the group its
    /// default owner names (a group the token holds with SE_GROUP_OWNER, as an elevated
    /// administrator's Administrators). No token here holds SeRestorePrivilege enabled, which
    /// would allow any SID [TOKEN_GROUPS SE_GROUP_OWNER; SetFileSecurity of another user as
    /// owner fails with ERROR_INVALID_OWNER].
    pub fn may_own(&self, sid: &Sid) -> bool {
        *sid == self.user || *sid == self.owner
    }

    /// A standard (non-administrator) interactive user.
    pub fn standard_user(rid: u32) -> Token {
        Token {
            name: "standard user",
            user: Sid::new(5, &[21, 1000, 2000, 3000, rid]),
            groups: vec![
                Sid::everyone(),
                Sid::users(),
                Sid::new(5, &[4]),
                Sid::new(5, &[11]),
                Sid::new(5, &[15]),
                Sid::new(2, &[0]),
            ],
            owner: Sid::new(5, &[21, 1000, 2000, 3000, rid]),
            traverse: true,
        }
    }

    /// An administrator running elevated: Administrators enabled and the default owner.
    pub fn elevated_administrator() -> Token {
        Token {
            name: "elevated administrator",
            user: Sid::new(5, &[21, 1000, 2000, 3000, 1000]),
            groups: vec![
                Sid::everyone(),
                Sid::administrators(),
                Sid::users(),
                Sid::new(5, &[4]),
                Sid::new(5, &[11]),
                Sid::new(5, &[15]),
                Sid::new(2, &[0]),
            ],
            owner: Sid::administrators(),
            traverse: true,
        }
    }

    pub fn system() -> Token {
        Token {
            name: "SYSTEM",
            user: Sid::local_system(),
            groups: vec![Sid::administrators(), Sid::everyone(), Sid::new(5, &[11])],
            owner: Sid::administrators(),
            traverse: true,
        }
    }
}

/// SeAccessCheck for one descriptor: the granted access (generic rights mapped), or `Err`
/// with the rights the descriptor refuses.
pub fn access_check(sd: &SecurityDescriptor, token: &Token, desired: u32) -> Result<u32, u32> {
    let desired = map_generic(desired);
    let maximum = desired & MAXIMUM_ALLOWED != 0;
    let wanted = desired & !MAXIMUM_ALLOWED;
    if wanted & ACCESS_SYSTEM_SECURITY != 0 {
        // Needs SeSecurityPrivilege, which no token here holds enabled.
        return Err(ACCESS_SYSTEM_SECURITY);
    }
    let Some(aces) = &sd.dacl else {
        // A NULL DACL grants everything.
        return Ok(if maximum {
            FILE_ALL_ACCESS | wanted
        } else {
            wanted
        });
    };
    let is_owner = sd.owner.as_ref().is_some_and(|o| token.matches(o));
    let owner_rights_ace = aces.iter().any(|a| a.sid == Sid::owner_rights());
    let implicit = if is_owner && !owner_rights_ace {
        READ_CONTROL | WRITE_DAC
    } else {
        0
    };
    let applies = |a: &Ace| token.matches(&a.sid) || (is_owner && a.sid == Sid::owner_rights());
    if maximum {
        let (mut allowed, mut denied) = (implicit, 0u32);
        for a in aces.iter().filter(|a| applies(a)) {
            let m = map_generic(a.mask);
            match a.kind {
                AceKind::Allow => allowed |= m & !denied,
                AceKind::Deny => denied |= m & !allowed,
            }
        }
        let missing = wanted & !allowed;
        return if missing == 0 {
            Ok(allowed | wanted)
        } else {
            Err(missing)
        };
    }
    let mut remaining = wanted & !implicit;
    let mut granted = wanted & implicit;
    for a in aces.iter().filter(|a| applies(a)) {
        if remaining == 0 {
            break;
        }
        let m = map_generic(a.mask);
        match a.kind {
            AceKind::Allow => {
                granted |= remaining & m;
                remaining &= !m;
            }
            AceKind::Deny => {
                if remaining & m != 0 {
                    return Err(remaining & m);
                }
            }
        }
    }
    if remaining == 0 {
        Ok(granted)
    } else {
        Err(remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_RW_RES_R from wdmsec.h: a familiar device descriptor.
    const DRIVER_SDDL: &str = "D:P(A;;GA;;;SY)(A;;GRGWGX;;;BA)(A;;GRGW;;;WD)(A;;GR;;;RC)";

    #[test]
    fn sddl_parses_and_serializes() {
        let sd = SecurityDescriptor::from_sddl(DRIVER_SDDL).unwrap();
        assert!(sd.protected);
        let aces = sd.dacl.as_ref().unwrap();
        assert_eq!(aces.len(), 4);
        assert_eq!(aces[1].sid, Sid::administrators());
        assert_eq!(aces[1].mask, GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE);
        let bin = sd.to_self_relative();
        assert_eq!(bin[0], 1);
        assert_eq!(u16::from_le_bytes([bin[2], bin[3]]) & 0x8004, 0x8004);
        let with_owner =
            SecurityDescriptor::from_sddl("O:BAG:SYD:(A;;FA;;;S-1-5-21-1-2-3-500)").unwrap();
        assert_eq!(with_owner.owner, Some(Sid::administrators()));
        assert_eq!(
            with_owner.dacl.unwrap()[0].sid,
            Sid::new(5, &[21, 1, 2, 3, 500])
        );
        assert!(SecurityDescriptor::from_sddl("D:(X;;GA;;;WD)").is_err());
        assert_eq!(
            Sid::from_bytes(&Sid::administrators().to_bytes())
                .unwrap()
                .0,
            Sid::administrators()
        );
    }

    #[test]
    fn access_checks() {
        let mut sd = SecurityDescriptor::from_sddl(DRIVER_SDDL).unwrap();
        let user = Token::standard_user(1001);
        let admin = Token::elevated_administrator();
        // Everyone may read and write.
        assert_eq!(
            access_check(&sd, &user, GENERIC_WRITE),
            Ok(FILE_GENERIC_WRITE)
        );
        // WRITE_DAC is granted to no one but SYSTEM (and an owner).
        let server = GENERIC_READ | SYNCHRONIZE | WRITE_DAC;
        assert_eq!(access_check(&sd, &user, server), Err(WRITE_DAC));
        sd.owner = Some(Sid::local_system());
        assert_eq!(access_check(&sd, &admin, server), Err(WRITE_DAC));
        sd.owner = Some(Sid::administrators());
        assert_eq!(
            access_check(&sd, &admin, server),
            Ok(FILE_GENERIC_READ | WRITE_DAC)
        );
        // MAXIMUM_ALLOWED is what the ACEs give, never more.
        assert_eq!(
            access_check(&sd, &user, MAXIMUM_ALLOWED),
            Ok(FILE_GENERIC_READ | FILE_GENERIC_WRITE)
        );
        // A deny before the allow wins, right by right: denying FILE_WRITE_DATA leaves reading,
        // but denying GENERIC_WRITE also denies the SYNCHRONIZE and READ_CONTROL it maps to,
        // which reading needs too.
        let deny = SecurityDescriptor::from_sddl("D:(D;;0x2;;;WD)(A;;GA;;;WD)").unwrap();
        assert_eq!(access_check(&deny, &user, GENERIC_WRITE), Err(0x2));
        assert_eq!(
            access_check(&deny, &user, GENERIC_READ),
            Ok(FILE_GENERIC_READ)
        );
        let deny = SecurityDescriptor::from_sddl("D:(D;;GW;;;WD)(A;;GA;;;WD)").unwrap();
        assert_eq!(
            access_check(&deny, &user, GENERIC_READ),
            Err(READ_CONTROL | SYNCHRONIZE)
        );
        // An empty DACL grants nothing; a NULL DACL grants everything.
        let empty = SecurityDescriptor::from_sddl("D:").unwrap();
        assert!(access_check(&empty, &user, GENERIC_READ).is_err());
        let null = SecurityDescriptor {
            owner: None,
            group: None,
            dacl: None,
            protected: false,
        };
        assert_eq!(
            access_check(&null, &user, GENERIC_READ),
            Ok(FILE_GENERIC_READ)
        );
    }
}
