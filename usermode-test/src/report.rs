//! Results of a run: one record per row, the closing counts, the human-readable table and the
//! JSON file (`--json`) that `scripts/Deploy-VM.ps1` brings back from a VM and compares.

use std::fmt::Write as _;

/// Which API a row drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// kernel32: CreateMailslotW, CreateFileW, ReadFile, WriteFile, GetMailslotInfo, ...
    Win32,
    /// ntdll: NtCreateMailslotFile, NtReadFile, NtQueryInformationFile, ...
    Nt,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Win32 => "win32",
            Level::Nt => "nt",
        }
    }
}

/// Whether Windows' behaviour is known (the row passes or fails) or is to be measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The expected result is Windows' behaviour, from a source the row names.
    Assert,
    /// Windows' behaviour is unknown: the row records what happened. Against rsmailslot it
    /// checks the driver's documented choice instead.
    Observe,
}

/// The final verdict on one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Skip,
    /// A known divergence of the host (Wine) from Windows: expected to fail, and it did.
    KnownDivergence,
    /// A known divergence that passed: the list is out of date, which is an error.
    UnexpectedPass,
    /// An observe row: what happened is recorded, neither pass nor fail.
    Observed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
            Status::KnownDivergence => "known",
            Status::UnexpectedPass => "XPASS",
            Status::Observed => "observe",
        }
    }

    fn json(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::KnownDivergence => "known-divergence",
            Status::UnexpectedPass => "unexpected-pass",
            Status::Observed => "observed",
        }
    }
}

/// What a row reported before the known-divergence list was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every check held; observations (if any) are in the notes.
    Clean,
    /// At least one check failed; the reasons are in the notes.
    Failed,
    Skipped(String),
}

/// What a row is, before it runs.
#[derive(Clone, Copy, Debug)]
pub struct RowInfo {
    pub id: &'static str,
    pub level: Level,
    pub title: &'static str,
    /// The result Windows gives (or, for observe rows, what is unknown and our choice).
    pub expected: &'static str,
    /// Where the expectation comes from (keys of docs/mailslot-reference.md).
    pub source: &'static str,
    pub kind: Kind,
}

/// One row's record.
#[derive(Clone, Debug)]
pub struct RowResult {
    pub info: RowInfo,
    pub status: Status,
    /// Failed checks, then observations, in the order the row made them.
    pub notes: Vec<String>,
    /// Why the host is known to diverge here, when it is.
    pub divergence: Option<&'static str>,
    pub millis: u64,
}

/// Turns a row's verdict into its status, given whether its observations were checked against
/// our choices and whether the host is known to diverge on it.
pub fn resolve(kind: Kind, checked_choices: bool, verdict: &Verdict, known: bool) -> Status {
    let raw = match verdict {
        Verdict::Skipped(_) => return Status::Skip,
        Verdict::Failed => Status::Fail,
        Verdict::Clean if kind == Kind::Observe && !checked_choices => Status::Observed,
        Verdict::Clean => Status::Pass,
    };
    match (known, raw) {
        (true, Status::Fail) => Status::KnownDivergence,
        (true, _) => Status::UnexpectedPass,
        (false, status) => status,
    }
}

/// The closing counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub known: usize,
    pub observed: usize,
}

impl Summary {
    pub fn of(results: &[RowResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            match r.status {
                Status::Pass => s.passed += 1,
                Status::Fail | Status::UnexpectedPass => s.failed += 1,
                Status::Skip => s.skipped += 1,
                Status::KnownDivergence => s.known += 1,
                Status::Observed => s.observed += 1,
            }
        }
        s
    }

    /// `N passed, N failed, N skipped`, then the rows that are neither.
    pub fn closing_line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped, {} known divergences, {} observed",
            self.passed, self.failed, self.skipped, self.known, self.observed
        )
    }
}

/// One line per row as it finishes: status, id, title, then indented notes.
pub fn row_lines(r: &RowResult) -> String {
    let mut out = format!(
        "{:<8} {:<40} {}\n",
        r.status.as_str(),
        r.info.id,
        r.info.title
    );
    if r.status != Status::Pass {
        if r.status != Status::Skip {
            let _ = writeln!(out, "           expected: {}", r.info.expected);
        }
        for note in &r.notes {
            let _ = writeln!(out, "           {note}");
        }
        if let Some(why) = r.divergence {
            let _ = writeln!(out, "           known divergence: {why}");
        }
    }
    out
}

/// Facts about the run that the JSON file carries beside the rows.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    pub namespace: String,
    pub win32_prefix: String,
    pub nt_prefix: String,
    pub host: String,
    pub windows_version: String,
    pub harness_version: String,
}

/// A JSON string literal.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The whole run as one JSON document (stable field names; `scripts/Deploy-VM.ps1` reads it).
pub fn json(info: &RunInfo, results: &[RowResult]) -> String {
    let s = Summary::of(results);
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"namespace\": {},", json_string(&info.namespace));
    let _ = writeln!(
        out,
        "  \"win32Prefix\": {},",
        json_string(&info.win32_prefix)
    );
    let _ = writeln!(out, "  \"ntPrefix\": {},", json_string(&info.nt_prefix));
    let _ = writeln!(out, "  \"host\": {},", json_string(&info.host));
    let _ = writeln!(
        out,
        "  \"windowsVersion\": {},",
        json_string(&info.windows_version)
    );
    let _ = writeln!(
        out,
        "  \"harnessVersion\": {},",
        json_string(&info.harness_version)
    );
    let _ = writeln!(
        out,
        "  \"summary\": {{\"passed\": {}, \"failed\": {}, \"skipped\": {}, \"knownDivergences\": {}, \"observed\": {}}},",
        s.passed, s.failed, s.skipped, s.known, s.observed
    );
    out.push_str("  \"rows\": [");
    for (i, r) in results.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        let notes: Vec<String> = r.notes.iter().map(|n| json_string(n)).collect();
        let _ = write!(
            out,
            "    {{\"id\": {}, \"level\": {}, \"title\": {}, \"expected\": {}, \"source\": {}, \"kind\": {}, \"status\": {}, \"notes\": [{}], \"divergence\": {}, \"millis\": {}}}",
            json_string(r.info.id),
            json_string(r.info.level.as_str()),
            json_string(r.info.title),
            json_string(r.info.expected),
            json_string(r.info.source),
            json_string(match r.info.kind {
                Kind::Assert => "assert",
                Kind::Observe => "observe",
            }),
            json_string(r.status.json()),
            notes.join(", "),
            r.divergence.map_or_else(|| "null".to_string(), json_string),
            r.millis
        );
    }
    out.push_str("\n  ]\n}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &'static str, status: Status) -> RowResult {
        RowResult {
            info: RowInfo {
                id,
                level: Level::Win32,
                title: "a row",
                expected: "it works",
                source: "W-T #1",
                kind: Kind::Assert,
            },
            status,
            notes: vec!["got \"this\"\nand that".to_string()],
            divergence: None,
            millis: 3,
        }
    }

    #[test]
    fn verdicts_resolve_against_the_known_list() {
        use Kind::*;
        assert_eq!(resolve(Assert, false, &Verdict::Clean, false), Status::Pass);
        assert_eq!(
            resolve(Assert, false, &Verdict::Failed, false),
            Status::Fail
        );
        assert_eq!(
            resolve(Assert, false, &Verdict::Failed, true),
            Status::KnownDivergence
        );
        assert_eq!(
            resolve(Assert, false, &Verdict::Clean, true),
            Status::UnexpectedPass
        );
        assert_eq!(
            resolve(Observe, false, &Verdict::Clean, false),
            Status::Observed
        );
        // Against rsmailslot an observe row checks the documented choice.
        assert_eq!(resolve(Observe, true, &Verdict::Clean, false), Status::Pass);
        assert_eq!(
            resolve(Observe, true, &Verdict::Failed, false),
            Status::Fail
        );
        // A known divergence on an observe row that now matches is still news.
        assert_eq!(
            resolve(Observe, false, &Verdict::Clean, true),
            Status::UnexpectedPass
        );
        assert_eq!(
            resolve(Assert, false, &Verdict::Skipped("x".into()), true),
            Status::Skip
        );
    }

    #[test]
    fn unexpected_passes_count_as_failures() {
        let rows = [
            row("a", Status::Pass),
            row("b", Status::UnexpectedPass),
            row("c", Status::Fail),
            row("d", Status::KnownDivergence),
            row("e", Status::Observed),
            row("f", Status::Skip),
            row("g", Status::Pass),
        ];
        let s = Summary::of(&rows);
        assert_eq!(
            s,
            Summary {
                passed: 2,
                failed: 2,
                skipped: 1,
                known: 1,
                observed: 1
            }
        );
        assert_eq!(
            s.closing_line(),
            "2 passed, 2 failed, 1 skipped, 1 known divergences, 1 observed"
        );
    }

    #[test]
    fn json_escapes_and_lists_every_row() {
        assert_eq!(json_string("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
        let info = RunInfo {
            namespace: "native".into(),
            ..RunInfo::default()
        };
        let text = json(&info, &[row("x.y", Status::Pass), row("x.z", Status::Fail)]);
        assert!(text.contains("\"namespace\": \"native\""));
        assert!(text.contains("\"summary\": {\"passed\": 1, \"failed\": 1,"));
        assert!(text.contains("{\"id\": \"x.y\", \"level\": \"win32\""));
        assert!(text.contains("\"notes\": [\"got \\\"this\\\"\\nand that\"]"));
        assert!(text.contains("\"status\": \"fail\""));
        assert!(text.trim_end().ends_with('}'));
    }

    #[test]
    fn passing_rows_print_one_line_others_say_why() {
        assert_eq!(row_lines(&row("x.y", Status::Pass)).lines().count(), 1);
        let mut r = row("x.z", Status::KnownDivergence);
        r.divergence = Some("Wine truncates");
        let text = row_lines(&r);
        assert!(text.contains("expected: it works"));
        assert!(text.contains("known divergence: Wine truncates"));
    }
}
