//! Every source a row cites, and every one the known-divergence list cites, resolves inside the
//! repository: a key listed in docs/mailslot-reference.md's "Source key", a row of its §10
//! table (`W-T #N`) or one of its sections (`research §N`).

use usermode_test::known::WINE;
use usermode_test::rows::ROWS;

const REFERENCE: &str = include_str!("../../docs/mailslot-reference.md");

/// The keys the reference defines: each `**KEY**` (or `**A / B**`) of its Source key list.
fn keys() -> Vec<String> {
    let list = &REFERENCE[REFERENCE
        .find("### Source key")
        .expect("a Source key section")..];
    let mut keys = Vec::new();
    for line in list.lines().filter(|l| l.starts_with("- **")) {
        let mut rest = line;
        while let Some(start) = rest.find("**") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("**") else { break };
            keys.extend(after[..end].split(" / ").map(|k| k.trim().to_string()));
            rest = &after[end + 2..];
        }
    }
    keys
}

/// Row numbers of the §10 table.
fn checklist_rows() -> Vec<u32> {
    let table = &REFERENCE[REFERENCE.find("## 10.").expect("§10")..];
    table
        .lines()
        .skip_while(|l| !l.starts_with("| # |"))
        .filter_map(|l| l.strip_prefix("| ")?.split(' ').next()?.parse().ok())
        .collect()
}

fn section_exists(n: u32) -> bool {
    REFERENCE
        .lines()
        .any(|l| l.starts_with(&format!("## {n}. ")))
}

/// Splits on `sep` outside parentheses.
fn split_outside(text: &str, sep: char) -> Vec<String> {
    let (mut parts, mut depth, mut current) = (Vec::new(), 0, String::new());
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if c == sep && depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
}

/// The problem with one cited source, if any (`W-T #3 [W]`, `research §4 (unknown)`, ...).
fn check(cited: &str, keys: &[String], rows: &[u32], last_key: &mut String) -> Option<String> {
    let plain: String = {
        let without_parens = split_outside(cited, '(')
            .first()
            .cloned()
            .unwrap_or_default();
        without_parens.replace("[W]", "").trim().to_string()
    };
    if plain.is_empty() {
        return Some(format!("{cited:?} names no source"));
    }
    // "#18" continues the previous W-T citation ("W-T #16, #18").
    let (key, rest) = if plain.starts_with('#') {
        (last_key.clone(), plain.as_str())
    } else {
        let Some(key) = keys
            .iter()
            .filter(|k| {
                plain == **k
                    || plain
                        .strip_prefix(k.as_str())
                        .is_some_and(|r| r.starts_with(' '))
            })
            .max_by_key(|k| k.len())
        else {
            return Some(format!("{cited:?}: no key of the reference starts it"));
        };
        (key.clone(), plain[key.len()..].trim())
    };
    *last_key = key.clone();
    let number = |s: &str, mark: char| -> Vec<u32> {
        let s = s.trim_start_matches(mark);
        match s.split_once('-') {
            Some((a, b)) => match (a.parse::<u32>(), b.parse::<u32>()) {
                (Ok(a), Ok(b)) => (a..=b).collect(),
                _ => Vec::new(),
            },
            None => s.parse().map(|n| vec![n]).unwrap_or_default(),
        }
    };
    match key.as_str() {
        "W-T #N" | "W-T" if rest.starts_with('#') => {
            let cited_rows = number(rest.split(' ').next().unwrap_or(""), '#');
            if cited_rows.is_empty() || cited_rows.iter().any(|r| !rows.contains(r)) {
                return Some(format!("{cited:?}: no such row in §10"));
            }
        }
        "research §N" | "research" => {
            let sections = number(rest.split(' ').next().unwrap_or(""), '§');
            if sections.is_empty() || sections.iter().any(|&s| !section_exists(s)) {
                return Some(format!("{cited:?}: no such section"));
            }
        }
        _ => {}
    }
    None
}

fn problems_in(source: &str, keys: &[String], rows: &[u32]) -> Vec<String> {
    let mut last = String::new();
    let mut problems = Vec::new();
    for part in split_outside(source, ';') {
        for cited in split_outside(&part, ',') {
            problems.extend(check(cited.trim(), keys, rows, &mut last));
        }
    }
    problems
}

#[test]
fn every_row_source_resolves_in_the_reference() {
    let (keys, rows) = (keys(), checklist_rows());
    assert!(keys.iter().any(|k| k == "W-T"), "{keys:?}");
    assert_eq!(rows.len(), 37, "the §10 table's rows");
    let mut problems = Vec::new();
    for row in ROWS {
        for p in problems_in(row.info.source, &keys, &rows) {
            problems.push(format!("{}: {p}", row.info.id));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_known_divergence_cites_the_reference() {
    let (keys, rows) = (keys(), checklist_rows());
    let mut problems = Vec::new();
    for d in WINE {
        // The citations are the parenthesised tail of each reason.
        let Some(open) = d.why.rfind('(') else {
            problems.push(format!("{}: cites nothing", d.row));
            continue;
        };
        let cited = d.why[open + 1..].trim_end_matches(')');
        for p in problems_in(cited, &keys, &rows) {
            problems.push(format!("{}: {p}", d.row));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_refuses_what_does_not_resolve() {
    let (keys, rows) = (keys(), checklist_rows());
    assert!(problems_in("W-T #3 [W]; MS-CM", &keys, &rows).is_empty());
    assert!(problems_in("W-T #16, #18 [W]", &keys, &rows).is_empty());
    assert!(problems_in("W-T [W] (2-byte write; zero-length)", &keys, &rows).is_empty());
    assert_eq!(problems_in("W-T #99", &keys, &rows).len(), 1);
    assert_eq!(problems_in("W-T #36-38", &keys, &rows).len(), 1);
    assert_eq!(problems_in("research §42", &keys, &rows).len(), 1);
    assert_eq!(problems_in("shared/somewhere.md", &keys, &rows).len(), 1);
    assert_eq!(problems_in("MS-CMX", &keys, &rows).len(), 1);
}
