//! Unicode simple case folding over UTF-16, without allocating.
//!
//! Windows names are sequences of UTF-16 code units that need not be well formed, so an
//! unpaired surrogate is kept as it is rather than rejected or replaced: two names that differ
//! only in an unpaired surrogate stay different names.

use crate::fold_table::SIMPLE_FOLD;

/// The Unicode version whose CaseFolding.txt the folding table was generated from.
pub use crate::fold_table::UNICODE_VERSION;

/// The simple case folding of one code point (itself when the table has no entry).
pub fn fold_code_point(c: u32) -> u32 {
    if c < 0x80 {
        // ASCII is by far the common case and needs no table search.
        return if (0x41..=0x5A).contains(&c) {
            c | 0x20
        } else {
            c
        };
    }
    match SIMPLE_FOLD.binary_search_by_key(&c, |&(from, _)| from) {
        Ok(i) => SIMPLE_FOLD.get(i).map_or(c, |&(_, to)| to),
        Err(_) => c,
    }
}

/// Decodes UTF-16 into code points, passing unpaired surrogates through as their own values.
#[derive(Clone, Debug)]
pub struct CodePoints<I: Iterator<Item = u16>> {
    units: core::iter::Peekable<I>,
}

impl<I: Iterator<Item = u16>> CodePoints<I> {
    pub fn new(units: I) -> Self {
        CodePoints {
            units: units.peekable(),
        }
    }
}

impl<I: Iterator<Item = u16>> Iterator for CodePoints<I> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let unit = self.units.next()?;
        if (0xD800..0xDC00).contains(&unit) {
            if let Some(&low) = self.units.peek() {
                if (0xDC00..0xE000).contains(&low) {
                    self.units.next();
                    // Both halves were range-checked, so their low 10 bits are the payload
                    // and the sum stays below 0x110000.
                    let high = u32::from(unit) & 0x3FF;
                    let low = u32::from(low) & 0x3FF;
                    return Some(0x10000u32.wrapping_add(high << 10 | low));
                }
            }
        }
        Some(u32::from(unit))
    }
}

/// The UTF-16 code units of the simple case folding of `units`.
pub fn folded_units<I: Iterator<Item = u16>>(units: I) -> FoldedUnits<I> {
    FoldedUnits {
        points: CodePoints::new(units),
        pending_low: None,
    }
}

/// Iterator returned by [`folded_units`].
#[derive(Clone, Debug)]
pub struct FoldedUnits<I: Iterator<Item = u16>> {
    points: CodePoints<I>,
    pending_low: Option<u16>,
}

impl<I: Iterator<Item = u16>> Iterator for FoldedUnits<I> {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        if let Some(low) = self.pending_low.take() {
            return Some(low);
        }
        let c = fold_code_point(self.points.next()?);
        match c.checked_sub(0x10000) {
            // Casting after the range check keeps each half within 10 bits.
            Some(v) if c <= 0x10FFFF => {
                self.pending_low = Some(0xDC00 | (v & 0x3FF) as u16);
                Some(0xD800 | (v >> 10) as u16)
            }
            _ => Some(c as u16),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn fold_str(s: &str) -> Vec<u16> {
        folded_units(s.encode_utf16()).collect()
    }

    #[test]
    fn table_is_sorted_unique_and_idempotent() {
        for pair in SIMPLE_FOLD.windows(2) {
            assert!(pair[0].0 < pair[1].0, "unsorted at {:X}", pair[1].0);
        }
        for &(from, to) in SIMPLE_FOLD.iter() {
            assert_ne!(from, to);
            assert_eq!(
                fold_code_point(to),
                to,
                "fold of {from:X} is not a fixed point"
            );
            assert!(char::from_u32(to).is_some());
        }
        assert_eq!(UNICODE_VERSION, "15.0.0");
    }

    #[test]
    fn folding_agrees_with_std_lowercase_for_every_unicode_15_character() {
        // std's case tables are newer than the table's Unicode 15.0; these case pairs were
        // added in Unicode 16.0 and are not folded by a 15.0 table.
        const ADDED_IN_16: [core::ops::RangeInclusive<u32>; 4] = [
            0x1C89..=0x1C8A,
            0xA7CB..=0xA7DC,
            0x10D50..=0x10D85,
            0x16EA0..=0x16ED3,
        ];
        // Where std's lowercase is one character, simple folding agrees with it, or with the
        // folding of it (final sigma, Cherokee, the Greek symbol variants, ...).
        let mut disagreements = std::vec::Vec::new();
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let mut lower = c.to_lowercase();
            if let (Some(l), None) = (lower.next(), lower.next()) {
                let folded = fold_code_point(c as u32);
                if folded != l as u32 && fold_code_point(l as u32) != folded {
                    disagreements.push(c as u32);
                }
            }
        }
        disagreements.retain(|c| !ADDED_IN_16.iter().any(|r| r.contains(c)));
        assert_eq!(disagreements, [], "folding disagrees with std");
    }

    #[test]
    fn known_simple_foldings() {
        assert_eq!(fold_str("MailSlot\\App"), fold_str("mailslot\\app"));
        // Greek sigma: capital, small and final all fold to small sigma.
        assert_eq!(fold_code_point(0x3A3), 0x3C3);
        assert_eq!(fold_code_point(0x3C2), 0x3C3);
        // Kelvin sign folds to k; capital sharp s folds to sharp s (simple, not "ss").
        assert_eq!(fold_code_point(0x212A), 0x6B);
        assert_eq!(fold_code_point(0x1E9E), 0xDF);
        // Cherokee small letters fold to the capitals.
        assert_eq!(fold_code_point(0xAB70), 0x13A0);
        // Turkic dotted capital I has only full/Turkic foldings: unchanged here.
        assert_eq!(fold_code_point(0x130), 0x130);
        // Deseret, outside the BMP.
        assert_eq!(fold_code_point(0x10400), 0x10428);
    }

    #[test]
    fn surrogates_round_trip_and_unpaired_pass_through() {
        let deseret_upper: Vec<u16> = "\u{10400}x".encode_utf16().collect();
        let deseret_lower: Vec<u16> = "\u{10428}x".encode_utf16().collect();
        assert_eq!(
            folded_units(deseret_upper.iter().copied()).collect::<Vec<_>>(),
            deseret_lower
        );
        let unpaired = [0xD800u16, 0x41, 0xDC00, 0xDBFF];
        assert_eq!(
            folded_units(unpaired.iter().copied()).collect::<Vec<_>>(),
            [0xD800, 0x61, 0xDC00, 0xDBFF]
        );
    }
}
