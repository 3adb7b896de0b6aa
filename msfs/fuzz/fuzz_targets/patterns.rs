//! Pattern decoding and matching, checked against a dynamic-programming matcher.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use msfs::fold::{fold_code_point, folded_units, CodePoints};
use msfs::pattern::{Pattern, MAX_WILDCARD_PATTERN};
use msfs::NtStatus;

#[derive(Arbitrary, Debug)]
struct Input {
    pattern: Vec<u8>,
    name: Vec<u16>,
}

/// Classic O(n*m) table: does pattern[..i] match name[..j]?
fn reference(pattern: &[u32], name: &[u32]) -> bool {
    let (n, m) = (pattern.len(), name.len());
    let mut table = vec![vec![false; m + 1]; n + 1];
    table[0][0] = true;
    for i in 1..=n {
        let p = pattern[i - 1];
        table[i][0] = p == '*' as u32 && table[i - 1][0];
        for j in 1..=m {
            table[i][j] = match p {
                0x2A => table[i - 1][j] || table[i][j - 1],
                0x3F => table[i - 1][j - 1],
                c => c == name[j - 1] && table[i - 1][j - 1],
            };
        }
    }
    table[n][m]
}

fuzz_target!(|input: Input| {
    let name: Vec<u16> = input.name.into_iter().take(300).collect();
    let parsed = Pattern::parse(&input.pattern);
    let units: Vec<u16> = input
        .pattern
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    let folded: Vec<u32> = CodePoints::new(folded_units(units.iter().copied())).collect();
    match parsed {
        Err(NtStatus::OBJECT_NAME_INVALID) => {
            let wild = folded.iter().any(|&c| c == 0x2A || c == 0x3F);
            assert!(input.pattern.len() % 2 == 1 || (wild && folded.len() > MAX_WILDCARD_PATTERN));
        }
        Err(other) => panic!("unexpected {other:?}"),
        Ok(None) => assert!(folded.is_empty() || folded == [0x2A]),
        Ok(Some(p)) => {
            let name_points: Vec<u32> = CodePoints::new(name.iter().copied()).map(fold_code_point).collect();
            assert_eq!(p.matches(name.iter().copied()), reference(&folded, &name_points));
        }
    }
});
