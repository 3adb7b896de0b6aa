//! The relay's receive loop, shared by the console program and the Windows service: receive a
//! datagram, judge it, deliver what is admitted, count and (verbose) log every decision, write
//! the counters every `stats_every` and when it ends. It ends when `stop` is set (the service's
//! stop request), after `exit_after` datagrams, or after `exit_idle` without one.

use std::io::Write;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::policy::{Policy, SinkSpec};
use crate::sink::{JsonLines, Sink};
use crate::{Decision, Relay};

#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub verbose: bool,
    pub stats_every: Duration,
    pub exit_after: Option<u64>,
    pub exit_idle: Option<Duration>,
}

/// The sink a policy names, on this system.
pub fn sink_for(spec: &SinkSpec) -> Result<Box<dyn Sink>, String> {
    match spec {
        SinkSpec::Stdout => Ok(Box::new(JsonLines(std::io::stdout()))),
        #[cfg(unix)]
        SinkSpec::UnixDirectory(dir) => crate::sink::UnixDirectory::new(dir.clone())
            .map(|s| Box::new(s) as Box<dyn Sink>)
            .map_err(|e| format!("sink: {e}")),
        #[cfg(windows)]
        SinkSpec::Mailslot { namespace } => Ok(Box::new(crate::sink::Mailslots::new(namespace))),
        #[allow(unreachable_patterns)]
        other => Err(format!("sink {other:?} is not available on this system")),
    }
}

/// The policy's listening socket, waking every 100 ms so that a stop request is seen.
pub fn listen(policy: &Policy) -> Result<UdpSocket, String> {
    let socket = UdpSocket::bind(policy.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", policy.listen))?;
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .map_err(|e| e.to_string())?;
    Ok(socket)
}

/// Runs the loop until it ends (see the module's text); the counters go to `log` as JSON
/// lines, decisions too when verbose.
pub fn serve(
    socket: &UdpSocket,
    relay: &mut Relay,
    sink: &mut dyn Sink,
    opts: &Options,
    stop: &AtomicBool,
    log: &mut dyn Write,
) {
    let mut buf = vec![0u8; 65_536];
    let mut last_packet = Instant::now();
    let mut last_stats = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        match socket.recv_from(&mut buf) {
            Ok((n, peer)) => {
                last_packet = Instant::now();
                let bytes = buf.get(..n).unwrap_or(&[]);
                let line = match relay.judge(peer, bytes, Instant::now()) {
                    Decision::Deliver(a) => match sink.deliver(&a) {
                        Ok(()) => {
                            relay.delivered();
                            format!(
                                "delivered from={} mailslot={} length={}",
                                a.from,
                                a.mailslot.as_str(),
                                a.data.len()
                            )
                        }
                        Err(why) => {
                            relay.undeliverable(&why);
                            format!(
                                "refused from={} mailslot={} reason=undeliverable:{why}",
                                a.from,
                                a.mailslot.as_str()
                            )
                        }
                    },
                    Decision::Refuse(reason) => {
                        format!("refused from={peer} length={n} reason={reason}")
                    }
                };
                if opts.verbose {
                    let _ = writeln!(log, "{line}");
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
                if opts.verbose {
                    let _ = writeln!(log, "receive error: {e}");
                }
            }
        }
        if last_stats.elapsed() >= opts.stats_every {
            let _ = writeln!(log, "{}", relay.counters().to_json());
            let _ = log.flush();
            last_stats = Instant::now();
        }
        if opts
            .exit_after
            .is_some_and(|n| relay.counters().received >= n)
            || opts.exit_idle.is_some_and(|d| last_packet.elapsed() >= d)
        {
            break;
        }
    }
    let _ = writeln!(log, "{}", relay.counters().to_json());
    let _ = log.flush();
}
