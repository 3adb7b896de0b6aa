//! What a row reports through: checks that fail it, observations that describe it, and the
//! choice checks that are observations against Windows and assertions against rsmailslot;
//! and the system it calls ([`Ctx`] is a [`Recorder`] with an [`Api`]).

use std::fmt::{Debug, Display};
use std::ops::{Deref, DerefMut};

use crate::cli::Namespace;
use crate::report::Verdict;
use crate::system::Api;

/// What a row runs with: the system it calls and what it records.
pub struct Ctx<'a> {
    pub api: Api<'a>,
    rec: Recorder<'a>,
}

impl<'a> Ctx<'a> {
    pub fn new(ns: &'a Namespace, api: Api<'a>, unique: String) -> Ctx<'a> {
        Ctx {
            api,
            rec: Recorder::new(ns, unique),
        }
    }

    pub fn into_recorder(self) -> Recorder<'a> {
        self.rec
    }
}

impl<'a> Deref for Ctx<'a> {
    type Target = Recorder<'a>;
    fn deref(&self) -> &Recorder<'a> {
        &self.rec
    }
}

impl DerefMut for Ctx<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.rec
    }
}

/// A row stopped early (a setup step failed, or it skipped); the reason is already recorded.
#[derive(Debug)]
pub struct Stop;

pub struct Recorder<'a> {
    pub ns: &'a Namespace,
    /// Observe rows check our documented choices (only against the rsmailslot driver).
    pub check_choices: bool,
    unique: String,
    seq: u32,
    failed: bool,
    skipped: Option<String>,
    /// Failures and observations, in the order they were made.
    pub notes: Vec<String>,
}

impl<'a> Recorder<'a> {
    /// `unique` makes every name the row creates its own (process id and row number), so rows
    /// never see each other's mailslots, nor those of an earlier run.
    pub fn new(ns: &'a Namespace, unique: String) -> Recorder<'a> {
        Recorder {
            ns,
            check_choices: ns.is_rsmailslot(),
            unique,
            seq: 0,
            failed: false,
            skipped: None,
            notes: Vec::new(),
        }
    }

    /// A fresh mailslot name relative to the namespace (`umt1234r7s2`).
    pub fn fresh(&mut self) -> String {
        self.seq += 1;
        format!("umt{}s{}", self.unique, self.seq)
    }

    /// The Win32 path of a relative name.
    pub fn win32(&self, rel: &str) -> String {
        format!("{}{}", self.ns.win32, rel)
    }

    /// The NT path of a relative name.
    pub fn nt(&self, rel: &str) -> String {
        format!("{}{}", self.ns.nt, rel)
    }

    pub fn fail(&mut self, msg: impl Into<String>) {
        self.failed = true;
        self.notes.push(msg.into());
    }

    /// Fails the row unless `ok`, saying what was seen.
    pub fn check(&mut self, what: &str, ok: bool, got: impl Display) {
        if !ok {
            self.fail(format!("{what}: got {got}"));
        }
    }

    pub fn eq<T: PartialEq + Debug>(&mut self, what: &str, got: T, want: T) {
        if got != want {
            self.fail(format!("{what}: got {got:?}, expected {want:?}"));
        }
    }

    /// Records what happened (observe rows).
    pub fn note(&mut self, msg: impl Into<String>) {
        self.notes.push(msg.into());
    }

    /// An outcome Windows leaves open: observed against Windows or Wine, asserted against our
    /// driver's documented choice.
    pub fn choice(&mut self, what: &str, got: String, ours: String) {
        if self.check_choices {
            if got != ours {
                self.fail(format!(
                    "{what}: got {got}, our documented choice is {ours}"
                ));
            }
        } else {
            self.note(format!("{what}: {got} (rsmailslot: {ours})"));
        }
    }

    /// A step the row cannot go on without.
    pub fn need<T, E: Display>(&mut self, what: &str, r: Result<T, E>) -> Result<T, Stop> {
        r.map_err(|e| {
            self.fail(format!("{what} failed: {e}"));
            Stop
        })
    }

    /// The row does not apply here.
    pub fn skip(&mut self, why: impl Into<String>) -> Stop {
        self.skipped = Some(why.into());
        Stop
    }

    /// The row's verdict once it has returned.
    pub fn verdict(&self) -> Verdict {
        match (&self.skipped, self.failed) {
            (Some(why), false) => Verdict::Skipped(why.clone()),
            (_, true) => Verdict::Failed,
            (None, false) => Verdict::Clean,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_prefixed() {
        let ns = Namespace::parse("native").unwrap();
        let mut c = Recorder::new(&ns, "42r3".into());
        let a = c.fresh();
        let b = c.fresh();
        assert_ne!(a, b);
        assert_eq!(c.win32(&a), r"\\.\mailslot\umt42r3s1");
        assert_eq!(c.nt(&b), r"\??\MAILSLOT\umt42r3s2");
    }

    #[test]
    fn checks_fail_the_row_notes_do_not() {
        let ns = Namespace::parse("native").unwrap();
        let mut c = Recorder::new(&ns, "1".into());
        c.note("saw this");
        c.eq("count", 1, 1);
        c.check("read", true, "x");
        assert_eq!(c.verdict(), Verdict::Clean);
        c.eq("count", 2, 1);
        assert_eq!(c.verdict(), Verdict::Failed);
        assert_eq!(c.notes[1], "count: got 2, expected 1");
    }

    #[test]
    fn choices_are_observed_natively_and_checked_on_rsmailslot() {
        let native = Namespace::parse("native").unwrap();
        let mut c = Recorder::new(&native, "1".into());
        c.choice(
            "oversize write",
            "ok".into(),
            "ERROR_INVALID_PARAMETER (87)".into(),
        );
        assert_eq!(c.verdict(), Verdict::Clean);
        assert_eq!(
            c.notes[0],
            "oversize write: ok (rsmailslot: ERROR_INVALID_PARAMETER (87))"
        );

        let ours = Namespace::parse("rsmailslot").unwrap();
        let mut c = Recorder::new(&ours, "1".into());
        c.choice("x", "same".into(), "same".into());
        assert_eq!(c.verdict(), Verdict::Clean);
        c.choice("y", "ok".into(), "ERROR_INVALID_PARAMETER (87)".into());
        assert_eq!(c.verdict(), Verdict::Failed);
    }

    #[test]
    fn skips_and_setup_failures() {
        let ns = Namespace::parse("native").unwrap();
        let mut c = Recorder::new(&ns, "1".into());
        let _ = c.skip("needs the device path");
        assert_eq!(
            c.verdict(),
            Verdict::Skipped("needs the device path".into())
        );
        let mut c = Recorder::new(&ns, "1".into());
        assert!(c.need("CreateMailslotW", Err::<(), _>("ERROR_X")).is_err());
        assert_eq!(c.verdict(), Verdict::Failed);
        assert_eq!(c.notes[0], "CreateMailslotW failed: ERROR_X");
    }
}
