//! Directory-enumeration patterns: `*` (any run of code points, backslashes included) and `?`
//! (exactly one code point), matched case-insensitively under simple case folding.

use alloc::vec::Vec;

use crate::fold::{fold_code_point, folded_units, CodePoints};
use crate::name::le_units;
use crate::status::NtStatus;

/// The longest pattern with wildcards, in code points.
///
/// Matching `*`/`?` is quadratic in the worst case and the driver matches under a spin lock,
/// so wildcard patterns are bounded (a file-name component on NTFS has at most 255
/// characters). A pattern without wildcards is an exact name and may be as long as a name.
pub const MAX_WILDCARD_PATTERN: usize = 255;

const STAR: u32 = 0x2A;
const QUESTION: u32 = 0x3F;

/// A validated, case-folded pattern, owned by the directory handle that scans with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// Folded code points; `*` and `?` keep their meaning.
    folded: Vec<u32>,
}

impl Pattern {
    /// Decodes a pattern from UTF-16LE bytes. `Ok(None)` means "match everything" (an empty
    /// pattern or a lone `*`, which need no storage).
    ///
    /// STATUS_OBJECT_NAME_INVALID for an odd byte length or a wildcard pattern longer than
    /// [`MAX_WILDCARD_PATTERN`]; STATUS_INSUFFICIENT_RESOURCES if it cannot be stored.
    pub fn parse(bytes: &[u8]) -> Result<Option<Pattern>, NtStatus> {
        if bytes.len() % 2 != 0 {
            return Err(NtStatus::OBJECT_NAME_INVALID);
        }
        let points = || CodePoints::new(folded_units(le_units(bytes)));
        let count = points().count();
        let wild = points().any(|c| c == STAR || c == QUESTION);
        if count == 0 || (count == 1 && points().all(|c| c == STAR)) {
            return Ok(None);
        }
        if wild && count > MAX_WILDCARD_PATTERN {
            return Err(NtStatus::OBJECT_NAME_INVALID);
        }
        let mut folded = Vec::new();
        folded
            .try_reserve_exact(count)
            .map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
        folded.extend(points());
        Ok(Some(Pattern { folded }))
    }

    /// Whether `name` (UTF-16 code units) matches, ignoring case.
    pub fn matches(&self, name: impl Iterator<Item = u16> + Clone) -> bool {
        matches_points(&self.folded, CodePoints::new(name).map(fold_code_point))
    }
}

/// Greedy `*`/`?` matching with a single backtrack point: after a mismatch, the most recent
/// `*` absorbs one more code point. Linear for most patterns, O(pattern × name) at worst.
fn matches_points<I: Iterator<Item = u32> + Clone>(pattern: &[u32], name: I) -> bool {
    let mut p = 0usize;
    let mut rest = name;
    // Pattern index after the last `*` and the name position that `*` currently stops at.
    let mut backtrack: Option<(usize, I)> = None;
    loop {
        let mut lookahead = rest.clone();
        let c = lookahead.next();
        match (pattern.get(p).copied(), c) {
            (Some(STAR), _) => {
                p = p.saturating_add(1);
                backtrack = Some((p, rest.clone()));
                continue;
            }
            (Some(pc), Some(c)) if pc == QUESTION || pc == c => {
                p = p.saturating_add(1);
                rest = lookahead;
                continue;
            }
            (None, None) => return true,
            _ => {}
        }
        // Mismatch: let the last `*` swallow one more code point, if there is one.
        match backtrack.as_mut() {
            Some((star_p, star_rest)) => {
                if star_rest.next().is_none() {
                    return false;
                }
                p = *star_p;
                rest = star_rest.clone();
            }
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn bytes(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn m(pattern: &str, name: &str) -> bool {
        match Pattern::parse(&bytes(pattern)).unwrap() {
            None => true,
            Some(p) => p.matches(name.encode_utf16()),
        }
    }

    #[test]
    fn match_all_forms_need_no_storage() {
        assert_eq!(Pattern::parse(&[]), Ok(None));
        assert_eq!(Pattern::parse(&bytes("*")), Ok(None));
        assert!(Pattern::parse(&bytes("**")).unwrap().is_some());
    }

    #[test]
    fn star_and_question() {
        assert!(m("*", "anything\\at\\all"));
        assert!(m("**", ""));
        assert!(m("app\\*", "app\\events"));
        assert!(!m("app\\*", "apps\\events"));
        assert!(m("*\\events", "app\\events"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(!m("a?c", "abbc"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("*a", "aaa"));
        assert!(m("*ab*ab", "abxabab"));
        assert!(!m("exact", "exactly"));
        assert!(m("exact", "EXACT"));
    }

    #[test]
    fn case_insensitive_including_non_ascii() {
        assert!(m("ÉV*", "événements"));
        assert!(m("?vénements", "Événements"));
        assert!(m("\u{10400}*", "\u{10428}x"));
        // `?` is one code point, so a surrogate pair is one character.
        assert!(m("?", "\u{10400}"));
    }

    #[test]
    fn limits() {
        assert_eq!(Pattern::parse(&[0x2A]), Err(NtStatus::OBJECT_NAME_INVALID));
        let long_wild: std::string::String = core::iter::repeat_n('a', MAX_WILDCARD_PATTERN)
            .chain(['*'])
            .collect();
        assert_eq!(
            Pattern::parse(&bytes(&long_wild)),
            Err(NtStatus::OBJECT_NAME_INVALID)
        );
        let ok_wild: std::string::String = core::iter::repeat_n('a', MAX_WILDCARD_PATTERN - 1)
            .chain(['*'])
            .collect();
        assert!(Pattern::parse(&bytes(&ok_wild)).unwrap().is_some());
        let long_exact: std::string::String = core::iter::repeat_n('a', 5000).collect();
        assert!(m(&long_exact, &long_exact.to_uppercase()));
    }

    #[test]
    fn adversarial_pattern_stays_bounded() {
        // The worst case for greedy matching: many stars against a long near-miss.
        let pattern: std::string::String = core::iter::repeat_n("*a", 120).chain(["b"]).collect();
        let name: std::string::String = core::iter::repeat_n('a', 32_000).collect();
        assert!(!m(&pattern, &name));
    }
}
