//! rsmailslot-relay: receives remote mailslot datagrams on UDP and delivers what its policy
//! admits to local mailslots.
//!
//!   rsmailslot-relay --config FILE [--listen ADDR:PORT] [--verbose]
//!                    [--stats-every SECONDS] [--exit-after N] [--exit-idle-ms MS]
//!
//! Off until configured: without a policy file it does not start. `--verbose` logs every
//! decision to standard error; the counters (received, delivered, refused by reason) are
//! written to standard error as a JSON line every `--stats-every` seconds (default 60) and at
//! exit. `--exit-after` and `--exit-idle-ms` bound a run (tests, one-shot use).

use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rsmailslot_relay::policy::SinkSpec;
use rsmailslot_relay::sink::{JsonLines, Sink};
use rsmailslot_relay::{Decision, Policy, Relay};

struct Args {
    config: String,
    listen: Option<SocketAddr>,
    verbose: bool,
    stats_every: Duration,
    exit_after: Option<u64>,
    exit_idle: Option<Duration>,
}

const USAGE: &str = "usage: rsmailslot-relay --config FILE [--listen ADDR:PORT] [--verbose] [--stats-every SECONDS] [--exit-after N] [--exit-idle-ms MS]";

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        config: String::new(),
        listen: None,
        verbose: false,
        stats_every: Duration::from_secs(60),
        exit_after: None,
        exit_idle: None,
    };
    while let Some(arg) = it.next() {
        let mut value = |what: &str| it.next().ok_or(format!("{what} needs a value"));
        match arg.as_str() {
            "--config" => a.config = value("--config")?,
            "--listen" => {
                a.listen = Some(
                    value("--listen")?
                        .parse()
                        .map_err(|e| format!("--listen: {e}"))?,
                )
            }
            "--verbose" => a.verbose = true,
            "--stats-every" => {
                a.stats_every = Duration::from_secs(
                    value("--stats-every")?
                        .parse::<u64>()
                        .map_err(|e| format!("--stats-every: {e}"))?
                        .max(1),
                )
            }
            "--exit-after" => {
                a.exit_after = Some(
                    value("--exit-after")?
                        .parse()
                        .map_err(|e| format!("--exit-after: {e}"))?,
                )
            }
            "--exit-idle-ms" => {
                a.exit_idle = Some(Duration::from_millis(
                    value("--exit-idle-ms")?
                        .parse()
                        .map_err(|e| format!("--exit-idle-ms: {e}"))?,
                ))
            }
            "--help" | "-h" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if a.config.is_empty() {
        return Err(format!(
            "the relay is off until configured: give it a policy file with --config\n{USAGE}"
        ));
    }
    Ok(a)
}

fn sink_for(spec: &SinkSpec) -> Result<Box<dyn Sink>, String> {
    match spec {
        SinkSpec::Stdout => Ok(Box::new(JsonLines(std::io::stdout()))),
        #[cfg(unix)]
        SinkSpec::UnixDirectory(dir) => rsmailslot_relay::sink::UnixDirectory::new(dir.clone())
            .map(|s| Box::new(s) as Box<dyn Sink>)
            .map_err(|e| format!("sink: {e}")),
        #[cfg(windows)]
        SinkSpec::Mailslot { namespace } => {
            Ok(Box::new(rsmailslot_relay::sink::Mailslots::new(namespace)))
        }
        #[allow(unreachable_patterns)]
        other => Err(format!("sink {other:?} is not available on this system")),
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rsmailslot-relay: {e}");
            return ExitCode::from(2);
        }
    };
    let policy = std::fs::read_to_string(&args.config)
        .map_err(|e| format!("{}: {e}", args.config))
        .and_then(|text| Policy::parse(&text).map_err(|e| format!("{}: {e}", args.config)));
    let mut policy = match policy {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rsmailslot-relay: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(l) = args.listen {
        policy.listen = l;
    }
    if !policy.admits_anything() {
        eprintln!("rsmailslot-relay: warning: the policy allows no source or no mailslot, so nothing will be delivered");
    }
    let mut sink = match sink_for(&policy.sink) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rsmailslot-relay: {e}");
            return ExitCode::from(2);
        }
    };
    let socket = match UdpSocket::bind(policy.listen) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rsmailslot-relay: cannot listen on {}: {e}", policy.listen);
            return ExitCode::from(1);
        }
    };
    if let Err(e) = socket.set_read_timeout(Some(Duration::from_millis(100))) {
        eprintln!("rsmailslot-relay: {e}");
        return ExitCode::from(1);
    }
    match socket.local_addr() {
        Ok(a) => eprintln!("rsmailslot-relay: listening on {a}"),
        Err(e) => eprintln!("rsmailslot-relay: listening ({e})"),
    }
    let mut relay = Relay::new(policy);
    let mut buf = vec![0u8; 65_536];
    let mut last_packet = Instant::now();
    let mut last_stats = Instant::now();
    loop {
        match socket.recv_from(&mut buf) {
            Ok((n, peer)) => {
                last_packet = Instant::now();
                let bytes = buf.get(..n).unwrap_or(&[]);
                match relay.judge(peer, bytes, Instant::now()) {
                    Decision::Deliver(a) => match sink.deliver(&a) {
                        Ok(()) => {
                            relay.delivered();
                            if args.verbose {
                                eprintln!(
                                    "delivered from={} mailslot={} length={}",
                                    a.from,
                                    a.mailslot.as_str(),
                                    a.data.len()
                                );
                            }
                        }
                        Err(why) => {
                            relay.undeliverable(&why);
                            if args.verbose {
                                eprintln!(
                                    "refused from={} mailslot={} reason=undeliverable:{why}",
                                    a.from,
                                    a.mailslot.as_str()
                                );
                            }
                        }
                    },
                    Decision::Refuse(reason) => {
                        if args.verbose {
                            eprintln!("refused from={peer} length={n} reason={reason}");
                        }
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => {
                // Windows reports an ICMP port-unreachable of an earlier send as a receive
                // error (WSAECONNRESET); nothing was received, so nothing is counted.
                if args.verbose {
                    eprintln!("receive error: {e}");
                }
            }
        }
        if last_stats.elapsed() >= args.stats_every {
            eprintln!("{}", relay.counters().to_json());
            last_stats = Instant::now();
        }
        if args
            .exit_after
            .is_some_and(|n| relay.counters().received >= n)
            || args.exit_idle.is_some_and(|d| last_packet.elapsed() >= d)
        {
            break;
        }
    }
    eprintln!("{}", relay.counters().to_json());
    ExitCode::SUCCESS
}
