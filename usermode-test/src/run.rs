//! Runs the table: selects rows, applies the host's known divergences, prints each row as it
//! finishes and the closing counts, and writes the JSON file.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cli::{Known, Options};
use crate::ctx::Ctx;
use crate::known::{self, Divergence};
use crate::report::{self, Kind, RowResult, RunInfo, Summary, Verdict};
use crate::rows::{Row, ROWS};
use crate::system::{Api, System};

/// A row that has not finished after this long stops the run (a hung read must not hang CI).
const ROW_LIMIT: Duration = Duration::from_secs(60);

fn divergences(opts: &Options, wine: bool) -> &'static [Divergence] {
    match opts.known {
        Known::Wine => known::WINE,
        Known::Auto if wine && opts.namespace.label == "native" => known::WINE,
        _ => &[],
    }
}

fn list(rows: &[&Row]) {
    for r in rows.iter().map(|r| &r.info) {
        let kind = match r.kind {
            Kind::Assert => "assert",
            Kind::Observe => "observe",
        };
        println!(
            "{:<40} {:<5} {:<7} {}",
            r.id,
            r.level.as_str(),
            kind,
            r.title
        );
        println!("{:<40} expected: {}", "", r.expected);
        println!("{:<40} source:   {}", "", r.source);
    }
    println!("{} rows", rows.len());
}

/// What the watchdog is told when the run is over.
const DONE: &str = "(done)";

/// Stops the process when a row runs past ROW_LIMIT, naming the row.
fn watchdog(current: Arc<Mutex<(&'static str, Instant)>>) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(500));
        let (id, since) = match current.lock() {
            Ok(g) => *g,
            Err(_) => return,
        };
        if id == DONE {
            return;
        }
        if since.elapsed() > ROW_LIMIT {
            println!(
                "FAIL     {id:<40} did not finish within {} s; run stopped",
                ROW_LIMIT.as_secs()
            );
            println!(
                "0 passed, 1 failed, 0 skipped, 0 known divergences, 0 observed (run stopped)"
            );
            std::process::exit(1);
        }
    });
}

/// Runs the selected rows against `sys`, printing each row as it finishes; the exit code
/// (1 when a row failed).
pub fn run(opts: &Options, sys: &dyn System) -> i32 {
    match execute(opts, sys) {
        Ok((info, results)) => {
            let summary = Summary::of(&results);
            if let Some(path) = &opts.json {
                if let Err(e) = std::fs::write(path, report::json(&info, &results)) {
                    eprintln!("usermode-test: writing {path}: {e}");
                    return 2;
                }
            }
            println!("{}", summary.closing_line());
            i32::from(summary.failed != 0)
        }
        Err(code) => code,
    }
}

/// Runs the selected rows (or lists them), printing each as it finishes; the run's
/// description and every row's result, or an exit code when nothing ran.
pub fn execute(opts: &Options, sys: &dyn System) -> Result<(RunInfo, Vec<RowResult>), i32> {
    let selected: Vec<&Row> = ROWS
        .iter()
        .filter(|r| opts.selects(r.info.id, r.info.title))
        .collect();
    if opts.list {
        list(&selected);
        return Err(0);
    }
    let api = Api(sys);
    let host = api.host();
    let known = divergences(opts, host.wine);
    if let Some(d) = known
        .iter()
        .find(|d| !ROWS.iter().any(|r| r.info.id == d.row))
    {
        eprintln!(
            "usermode-test: the known-divergence list names {:?}, which is no row",
            d.row
        );
        return Err(2);
    }
    let info = RunInfo {
        namespace: opts.namespace.label.clone(),
        win32_prefix: opts.namespace.win32.clone(),
        nt_prefix: opts.namespace.nt.clone(),
        host: host.host.clone(),
        windows_version: host.windows_version.clone(),
        harness_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    println!(
        "usermode-test {} against {} ({}), host {} (reports Windows {}), {} rows{}",
        info.harness_version,
        info.namespace,
        info.win32_prefix,
        info.host,
        info.windows_version,
        selected.len(),
        if known.is_empty() {
            String::new()
        } else {
            format!(", {} known divergences of the host", known.len())
        }
    );

    let current = Arc::new(Mutex::new(("(start)", Instant::now())));
    watchdog(current.clone());
    let pid = std::process::id();
    let mut results = Vec::with_capacity(selected.len());
    for (i, row) in selected.iter().enumerate() {
        if let Ok(mut g) = current.lock() {
            *g = (row.info.id, Instant::now());
        }
        let started = Instant::now();
        let mut ctx = Ctx::new(&opts.namespace, api, format!("{pid}r{i}"));
        let _ = (row.run)(&mut ctx);
        let rec = ctx.into_recorder();
        let verdict = rec.verdict();
        let divergence = known::find(known, row.info.id);
        let status = report::resolve(
            row.info.kind,
            rec.check_choices,
            &verdict,
            divergence.is_some(),
        );
        let mut notes = rec.notes;
        if let Verdict::Skipped(why) = &verdict {
            notes.push(format!("skipped: {why}"));
        }
        let result = RowResult {
            info: row.info,
            status,
            notes,
            divergence,
            millis: started.elapsed().as_millis() as u64,
        };
        print!("{}", report::row_lines(&result));
        results.push(result);
    }
    if let Ok(mut g) = current.lock() {
        *g = (DONE, Instant::now());
    }
    Ok((info, results))
}
