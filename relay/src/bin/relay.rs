//! rsmailslot-relay: receives remote mailslot datagrams on UDP and delivers what its policy
//! admits to local mailslots.
//!
//!   rsmailslot-relay --config FILE [--listen ADDR:PORT] [--verbose] [--log FILE]
//!                    [--stats-every SECONDS] [--exit-after N] [--exit-idle-ms MS]
//!   rsmailslot-relay install --config FILE [--log FILE] [--verbose]   (Windows, elevated)
//!   rsmailslot-relay uninstall                                        (Windows, elevated)
//!
//! Off until configured: without a policy file it does not start. `--verbose` logs every
//! decision; the counters (received, delivered, refused by reason) are written as a JSON line
//! every `--stats-every` seconds (default 60) and at exit, to standard error or to `--log`
//! (appended). `--exit-after` and `--exit-idle-ms` bound a run (tests, one-shot use).
//! `install` makes the `RsMailslotRelay` service (automatic start, LocalService) run this
//! program with `--service` and the given options; the service control manager starts and stops
//! it.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use rsmailslot_relay::serve::{self, Options};
use rsmailslot_relay::{Policy, Relay};

#[derive(Clone)]
struct Args {
    command: Command,
    config: String,
    listen: Option<SocketAddr>,
    log: Option<String>,
    opts: Options,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Command {
    Run,
    Service,
    Install,
    Uninstall,
}

const USAGE: &str = "usage: rsmailslot-relay [install|uninstall] --config FILE [--listen ADDR:PORT] [--verbose] [--log FILE] [--stats-every SECONDS] [--exit-after N] [--exit-idle-ms MS]";

fn parse_args(raw: &[String]) -> Result<Args, String> {
    let mut it = raw.iter().cloned();
    let mut a = Args {
        command: Command::Run,
        config: String::new(),
        listen: None,
        log: None,
        opts: Options {
            verbose: false,
            stats_every: Duration::from_secs(60),
            exit_after: None,
            exit_idle: None,
        },
    };
    let number = |what: &str, v: String| v.parse::<u64>().map_err(|e| format!("{what}: {e}"));
    while let Some(arg) = it.next() {
        let mut value = |what: &str| it.next().ok_or(format!("{what} needs a value"));
        match arg.as_str() {
            "install" if a.command == Command::Run => a.command = Command::Install,
            "uninstall" if a.command == Command::Run => a.command = Command::Uninstall,
            "--service" => a.command = Command::Service,
            "--config" => a.config = value("--config")?,
            "--listen" => {
                a.listen = Some(
                    value("--listen")?
                        .parse()
                        .map_err(|e| format!("--listen: {e}"))?,
                )
            }
            "--log" => a.log = Some(value("--log")?),
            "--verbose" => a.opts.verbose = true,
            "--stats-every" => {
                a.opts.stats_every =
                    Duration::from_secs(number("--stats-every", value("--stats-every")?)?.max(1))
            }
            "--exit-after" => {
                a.opts.exit_after = Some(number("--exit-after", value("--exit-after")?)?)
            }
            "--exit-idle-ms" => {
                a.opts.exit_idle = Some(Duration::from_millis(number(
                    "--exit-idle-ms",
                    value("--exit-idle-ms")?,
                )?))
            }
            "--help" | "-h" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if a.config.is_empty() && a.command != Command::Uninstall {
        return Err(format!(
            "the relay is off until configured: give it a policy file with --config\n{USAGE}"
        ));
    }
    Ok(a)
}

fn load(a: &Args) -> Result<Policy, String> {
    let text = std::fs::read_to_string(&a.config).map_err(|e| format!("{}: {e}", a.config))?;
    let mut policy = Policy::parse(&text).map_err(|e| format!("{}: {e}", a.config))?;
    if let Some(l) = a.listen {
        policy.listen = l;
    }
    Ok(policy)
}

fn log_target(a: &Args) -> Result<Box<dyn Write + Send>, String> {
    match &a.log {
        None => Ok(Box::new(std::io::stderr())),
        Some(path) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(|f| Box::new(f) as Box<dyn Write + Send>)
            .map_err(|e| format!("{path}: {e}")),
    }
}

/// Why the program ends unsuccessfully: its exit code (2 for a usage or policy error, 1 for
/// anything else) and the message.
type Failure = (u8, String);

fn failed(e: String) -> Failure {
    (1, e)
}

fn misconfigured(e: String) -> Failure {
    (2, e)
}

/// Loads the policy, listens and serves until the loop ends.
fn relay(a: &Args, stop: &AtomicBool) -> Result<(), Failure> {
    let policy = load(a).map_err(misconfigured)?;
    let mut log = log_target(a).map_err(misconfigured)?;
    if !policy.admits_anything() {
        let _ = writeln!(log, "rsmailslot-relay: warning: the policy allows no source or no mailslot, so nothing will be delivered");
    }
    let mut sink = serve::sink_for(&policy.sink).map_err(misconfigured)?;
    let socket = serve::listen(&policy).map_err(failed)?;
    match socket.local_addr() {
        Ok(addr) => {
            let _ = writeln!(log, "rsmailslot-relay: listening on {addr}");
        }
        Err(e) => {
            let _ = writeln!(log, "rsmailslot-relay: listening ({e})");
        }
    }
    let _ = log.flush();
    let mut r = Relay::new(policy);
    serve::serve(&socket, &mut r, sink.as_mut(), &a.opts, stop, log.as_mut());
    Ok(())
}

/// The options the service keeps, as given on the command line (the policy path made
/// absolute, since a service starts elsewhere).
#[cfg(windows)]
fn service_args(a: &Args) -> Result<Vec<String>, String> {
    let abs = |p: &str| {
        std::path::absolute(p)
            .map(|p| p.display().to_string())
            .map_err(|e| format!("{p}: {e}"))
    };
    let mut out = vec!["--config".to_string(), abs(&a.config)?];
    if let Some(l) = &a.log {
        out.extend(["--log".to_string(), abs(l)?]);
    }
    if let Some(l) = a.listen {
        out.extend(["--listen".to_string(), l.to_string()]);
    }
    if a.opts.verbose {
        out.push("--verbose".into());
    }
    out.extend([
        "--stats-every".to_string(),
        a.opts.stats_every.as_secs().to_string(),
    ]);
    Ok(out)
}

#[cfg(windows)]
fn windows_command(a: &Args) -> Result<(), Failure> {
    use rsmailslot_relay::service;
    match a.command {
        Command::Install => {
            load(a).map_err(misconfigured)?;
            let exe = std::env::current_exe().map_err(|e| failed(e.to_string()))?;
            service::install(
                &exe.display().to_string(),
                &service_args(a).map_err(misconfigured)?,
            )
            .map_err(failed)?;
            eprintln!(
                "rsmailslot-relay: installed the {} service; start it with: sc start {}",
                service::NAME,
                service::NAME
            );
            Ok(())
        }
        Command::Uninstall => service::uninstall().map_err(failed),
        Command::Service => {
            let args = a.clone();
            service::run(Box::new(move |stop| match relay(&args, stop) {
                Ok(()) => 0,
                Err((code, e)) => {
                    if let Ok(mut log) = log_target(&args) {
                        let _ = writeln!(log, "rsmailslot-relay: {e}");
                    }
                    u32::from(code)
                }
            }))
            .map_err(failed)
        }
        Command::Run => relay(a, &AtomicBool::new(false)),
    }
}

#[cfg(not(windows))]
fn windows_command(a: &Args) -> Result<(), Failure> {
    match a.command {
        Command::Run => relay(a, &AtomicBool::new(false)),
        _ => Err(misconfigured(
            "install, uninstall and --service are for Windows; on Linux run it under systemd (README)".into(),
        )),
    }
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&raw) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rsmailslot-relay: {e}");
            return ExitCode::from(2);
        }
    };
    match windows_command(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, e)) => {
            eprintln!("rsmailslot-relay: {e}");
            ExitCode::from(code)
        }
    }
}
