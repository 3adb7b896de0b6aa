//! Mailslot names: decoding the caller's UTF-16 bytes into a validated name, and comparing
//! names case-insensitively under Unicode simple case folding.
//!
//! A name reaches the engine as the part of the NT path after the device
//! (`\Device\RsMailslot`), for example `\app\events`. The engine keeps it without the leading
//! backslash (`app\events`), in the case of the server that created it.

use core::hash::Hasher;

use crate::fold::folded_units;
use crate::status::NtStatus;

/// The longest name, in bytes including the leading backslash, that the engine accepts.
///
/// Windows accepts an NT path of at most 65,532 bytes (a 65,534-byte one is
/// STATUS_OBJECT_NAME_INVALID, [W] in Wine's om.c). Our device prefix `\Device\RsMailslot`
/// takes 36 of them, so a relative name may have 65,496.
pub const MAX_NAME_BYTES: usize = 65_532 - 36;

/// Code units a name component may not contain: control characters and the characters that
/// are wildcards in directory patterns (`*`, `?` and the DOS wildcards `<`, `>`, `"`), so a
/// pattern can never be mistaken for a name.
fn is_forbidden_unit(unit: u16) -> bool {
    unit < 0x20 || matches!(unit, 0x2A | 0x3F | 0x3C | 0x3E | 0x22)
}

const BACKSLASH: u16 = 0x5C;
const DOT: u16 = 0x2E;

/// UTF-16LE code units over a byte slice whose length is even.
pub(crate) fn le_units(bytes: &[u8]) -> impl Iterator<Item = u16> + Clone + '_ {
    bytes.chunks_exact(2).map(|pair| match *pair {
        [lo, hi] => u16::from_le_bytes([lo, hi]),
        _ => 0,
    })
}

/// What a name designates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    /// The device root: an empty name or a lone backslash.
    Root,
    /// A mailslot.
    Slot(SlotName<'a>),
}

/// A validated mailslot name, borrowed from the caller, without its leading backslash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotName<'a> {
    bytes: &'a [u8],
}

impl<'a> SlotName<'a> {
    /// The name's UTF-16 code units (`app\events`).
    pub fn units(&self) -> impl Iterator<Item = u16> + Clone + 'a {
        le_units(self.bytes)
    }

    /// Length in code units.
    pub fn len_units(&self) -> usize {
        self.bytes.len() / 2
    }
}

/// Decodes a name given as UTF-16LE bytes (the `FileName` of the file object).
///
/// Rules, each with its status:
/// - an odd byte length, or more than [`MAX_NAME_BYTES`]: STATUS_OBJECT_NAME_INVALID (as
///   Windows rejects odd and oversized names, [W]);
/// - empty or `\`: the root;
/// - otherwise it must start with `\` and every backslash-separated component must be
///   non-empty, must not be `.` or `..`, and must not contain a control character or a
///   wildcard: STATUS_OBJECT_NAME_INVALID. Intermediate components are pseudo-directories
///   that need not exist.
pub fn parse_target(bytes: &[u8]) -> Result<Target<'_>, NtStatus> {
    if bytes.len() % 2 != 0 || bytes.len() > MAX_NAME_BYTES {
        return Err(NtStatus::OBJECT_NAME_INVALID);
    }
    let rest = match bytes {
        [] | [0x5C, 0x00] => return Ok(Target::Root),
        [0x5C, 0x00, rest @ ..] => rest,
        _ => return Err(NtStatus::OBJECT_NAME_INVALID),
    };
    validate_components(le_units(rest))?;
    Ok(Target::Slot(SlotName { bytes: rest }))
}

fn validate_components(units: impl Iterator<Item = u16>) -> Result<(), NtStatus> {
    let mut component_len = 0usize;
    let mut only_dots = true;
    for unit in units.map(Some).chain(core::iter::once(None)) {
        match unit {
            Some(BACKSLASH) | None => {
                let dot_name = only_dots && component_len <= 2;
                if component_len == 0 || dot_name {
                    return Err(NtStatus::OBJECT_NAME_INVALID);
                }
                component_len = 0;
                only_dots = true;
            }
            Some(u) if is_forbidden_unit(u) => return Err(NtStatus::OBJECT_NAME_INVALID),
            Some(u) => {
                component_len = component_len.saturating_add(1);
                only_dots &= u == DOT;
            }
        }
    }
    Ok(())
}

/// Feeds the case-folded form of a name to a hasher; equal-ignoring-case names hash alike.
pub(crate) fn hash_name<H: Hasher>(units: impl Iterator<Item = u16>, state: &mut H) {
    for unit in folded_units(units) {
        state.write_u16(unit);
    }
}

/// Case-insensitive equality under simple case folding: the audit's independent check of the
/// folded names the engine stores.
#[cfg(any(test, feature = "audit"))]
pub(crate) fn names_equal(a: impl Iterator<Item = u16>, b: impl Iterator<Item = u16>) -> bool {
    folded_units(a).eq(folded_units(b))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn bytes(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn slot(s: &str) -> Result<std::string::String, NtStatus> {
        let b = bytes(s);
        match parse_target(&b)? {
            Target::Root => Ok("<root>".into()),
            Target::Slot(n) => {
                Ok(std::string::String::from_utf16(&n.units().collect::<Vec<_>>()).unwrap())
            }
        }
    }

    #[test]
    fn root_forms() {
        assert_eq!(parse_target(&[]), Ok(Target::Root));
        assert_eq!(slot("\\"), Ok("<root>".into()));
    }

    #[test]
    fn names_keep_their_case_and_pseudo_directories() {
        assert_eq!(slot("\\App\\Events"), Ok("App\\Events".into()));
        assert_eq!(slot("\\abc\\def\\ghi"), Ok("abc\\def\\ghi".into()));
        assert_eq!(slot("\\a.b"), Ok("a.b".into()));
        assert_eq!(slot("\\...x"), Ok("...x".into()));
        assert_eq!(slot("\\ünïcødé\\名前"), Ok("ünïcødé\\名前".into()));
    }

    #[test]
    fn malformed_names_are_object_name_invalid() {
        for bad in [
            "x",
            "app\\x",
            "\\\\",
            "\\a\\",
            "\\a\\\\b",
            "\\.",
            "\\..",
            "\\a\\.\\b",
            "\\a\\..",
            "\\a*",
            "\\a?",
            "\\a<",
            "\\a>",
            "\\a\"",
            "\\a\u{0}",
            "\\a\u{1f}",
        ] {
            assert_eq!(slot(bad), Err(NtStatus::OBJECT_NAME_INVALID), "{bad:?}");
        }
    }

    #[test]
    fn odd_length_is_object_name_invalid() {
        let mut b = bytes("\\abc");
        b.push(0x41);
        assert_eq!(parse_target(&b), Err(NtStatus::OBJECT_NAME_INVALID));
        assert_eq!(parse_target(&[0x5C]), Err(NtStatus::OBJECT_NAME_INVALID));
    }

    #[test]
    fn length_limit_mirrors_the_object_manager() {
        let longest: std::string::String = core::iter::once('\\')
            .chain(core::iter::repeat_n('a', MAX_NAME_BYTES / 2 - 1))
            .collect();
        assert_eq!(bytes(&longest).len(), MAX_NAME_BYTES);
        assert!(matches!(
            parse_target(&bytes(&longest)),
            Ok(Target::Slot(_))
        ));
        let too_long = std::format!("{longest}a");
        assert_eq!(
            parse_target(&bytes(&too_long)),
            Err(NtStatus::OBJECT_NAME_INVALID)
        );
    }

    #[test]
    fn equality_and_hash_ignore_case() {
        use siphasher::sip::SipHasher13;
        let h = |s: &str| {
            let mut st = SipHasher13::new_with_keys(1, 2);
            hash_name(s.encode_utf16(), &mut st);
            st.finish()
        };
        assert!(names_equal(
            "App\\ÉVÉNEMENTS".encode_utf16(),
            "app\\événements".encode_utf16()
        ));
        assert_eq!(h("App\\ÉVÉNEMENTS"), h("app\\événements"));
        assert!(!names_equal("a".encode_utf16(), "ab".encode_utf16()));
        assert!(!names_equal("a\\b".encode_utf16(), "ab".encode_utf16()));
    }
}
