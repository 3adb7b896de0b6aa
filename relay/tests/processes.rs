//! The three programs as a user runs them, on loopback only: rsmailslot-send writes to a
//! mailslot through rsmailslot-relay, which delivers it to the Unix socket rsmailslot-recv
//! reads; a flood of valid, refused and random datagrams leaves the counters consistent and
//! delivers only what the policy admits.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const RELAY: &str = env!("CARGO_BIN_EXE_rsmailslot-relay");
const SEND: &str = env!("CARGO_BIN_EXE_rsmailslot-send");
const RECV: &str = env!("CARGO_BIN_EXE_rsmailslot-recv");

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rsmailslot-relay-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a scratch directory");
    d
}

/// A child's standard error, line by line, through a channel.
fn lines_of(child: &mut Child) -> Receiver<String> {
    let (tx, rx) = channel();
    let err = child.stderr.take().expect("piped stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for(rx: &Receiver<String>, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(l) if l.starts_with(prefix) => return l,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("no line starting {prefix:?}");
}

/// Starts the relay with `policy` (its listen address replaced by 127.0.0.1 and a free port):
/// the child, its stderr lines and its address.
fn relay(dir: &Path, policy: &str, extra: &[&str]) -> (Child, Receiver<String>, SocketAddr) {
    let config = dir.join("policy.toml");
    std::fs::write(&config, policy).expect("writing the policy");
    let mut child = Command::new(RELAY)
        .args([
            "--config",
            config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the relay");
    let rx = lines_of(&mut child);
    let line = wait_for(&rx, "rsmailslot-relay: listening on ");
    let addr = line
        .trim_start_matches("rsmailslot-relay: listening on ")
        .parse()
        .expect("an address");
    (child, rx, addr)
}

fn counters(rx: &Receiver<String>) -> serde_json::Value {
    let line = wait_for(rx, "{\"received\"");
    serde_json::from_str(&line).expect("the counters as JSON")
}

#[test]
fn send_relay_receive() {
    let dir = scratch("chain");
    let sockets = dir.join("sockets");
    std::fs::create_dir_all(&sockets).unwrap();
    let policy = format!(
        "[allow]\nsources = [\"127.0.0.0/8\"]\nmailslots = [\"app\\\\*\"]\n[sink]\nkind = \"unix\"\ndirectory = \"{}\"\n",
        sockets.display()
    );
    let (mut relay, rx, addr) = relay(&dir, &policy, &["--verbose", "--exit-after", "4"]);
    let mut recv = Command::new(RECV)
        .args([
            "--directory",
            sockets.to_str().unwrap(),
            "--count",
            "2",
            "--timeout-ms",
            "10000",
            "APP\\Events",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting rsmailslot-recv");
    let recv_err = lines_of(&mut recv);
    wait_for(&recv_err, "ready");
    let to = addr.to_string();
    let send = |args: &[&str]| {
        Command::new(SEND)
            .args(["--to", &to])
            .args(args)
            .status()
            .expect("running rsmailslot-send")
    };
    assert!(send(&["--text", "first", r"\\PLANT\mailslot\app\events"]).success());
    assert!(send(&["--hex", "00ff10", r"\\*\mailslot\APP\EVENTS"]).success());
    // Admitted but nobody listens; refused by the policy.
    assert!(send(&["--text", "lost", r"\\PLANT\mailslot\app\nobody"]).success());
    assert!(send(&["--text", "no", r"\\PLANT\mailslot\other"]).success());
    // Refused by the sender itself: a broadcast over 424 bytes.
    let big = "x".repeat(425);
    assert!(!send(&["--text", &big, r"\\*\mailslot\app\events"]).success());

    let out = recv.wait_with_output().expect("rsmailslot-recv");
    assert!(
        out.status.success(),
        "rsmailslot-recv got fewer than 2 messages"
    );
    let got: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["text"], "first");
    assert_eq!(got[1]["data_hex"], "00ff10");
    let c = counters(&rx);
    assert_eq!(c["received"], 4);
    assert_eq!(c["delivered"], 2);
    assert_eq!(c["refused"]["undeliverable:no-such-mailslot"], 1);
    assert_eq!(c["refused"]["mailslot-not-allowed"], 1);
    assert!(relay.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_a_policy_the_relay_does_not_start() {
    let out = Command::new(RELAY).output().expect("running the relay");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("off until configured"));
    let dir = scratch("bad-policy");
    let bad = dir.join("policy.toml");
    std::fs::write(
        &bad,
        "[allow]\nsources = [\"10.0.0.1/8\"]\nmailslots = []\n[sink]\nkind = \"stdout\"\n",
    )
    .unwrap();
    let out = Command::new(RELAY)
        .args(["--config", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("host bits"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// 20,000 datagrams in a burst from one socket (bounded in count; a few seconds at most):
/// valid writes to an allowed mailslot, valid writes to a refused one, and random bytes. The
/// relay's counters account for every datagram it received, it delivers only valid writes to
/// the allowed mailslot, and no more than the source's rate allows.
#[test]
fn a_flood_on_loopback() {
    use msmail::{
        Datagram, DatagramKind, Header, MailslotName, MailslotWrite, NetbiosName, NodeType,
    };
    let dir = scratch("flood");
    let policy = "[allow]\nsources = [\"127.0.0.1\"]\nmailslots = [\"ok\"]\n[limits]\nper_source_per_second = 200\nper_source_burst = 50\n[sink]\nkind = \"stdout\"\n";
    let (relay, rx, addr) = relay(&dir, policy, &["--exit-idle-ms", "1500"]);
    let packet = |slot: &str, data: &[u8]| {
        let w =
            MailslotWrite::new(MailslotName::from_relative(slot).unwrap(), data.to_vec()).unwrap();
        Datagram::whole(
            DatagramKind::Broadcast,
            Header {
                node: NodeType::B,
                first: true,
                more: false,
                id: 0,
                source_ip: "127.0.0.1".parse().unwrap(),
                source_port: 138,
            },
            NetbiosName::new("FLOOD", 0).unwrap(),
            NetbiosName::wildcard(),
            w.emit(),
        )
        .unwrap()
        .emit()
        .unwrap()
    };
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let start = Instant::now();
    let mut seed = 1u64;
    for i in 0..20_000u32 {
        let bytes = match i % 3 {
            0 => packet("ok", format!("valid {i}").as_bytes()),
            1 => packet("refused", b"nope"),
            _ => {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                (0..(seed >> 56) as usize)
                    .map(|k| (seed >> (k % 56)) as u8)
                    .collect()
            }
        };
        let _ = socket.send_to(&bytes, addr);
    }
    let elapsed = start.elapsed();
    let out = relay.wait_with_output().expect("the relay");
    assert!(out.status.success());
    let c = counters(&rx);
    let received = c["received"].as_u64().unwrap();
    let delivered = c["delivered"].as_u64().unwrap();
    let refused: u64 = c["refused"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(received > 0 && received <= 20_000);
    assert_eq!(
        received,
        delivered + refused,
        "every datagram counted once: {c}"
    );
    // The rate: the burst and 200 per second over the flood and the relay's idle wait.
    let allowed = 50.0 + 200.0 * (elapsed.as_secs_f64() + 2.0);
    assert!(
        (delivered as f64) <= allowed,
        "{delivered} delivered in {elapsed:?}"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, delivered);
    for l in &lines {
        assert_eq!(l["mailslot"], "\\MAILSLOT\\ok");
        assert!(l["text"].as_str().unwrap().starts_with("valid "), "{l}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The systemd unit's ExecStart is a command line the relay accepts: run with the same
/// arguments (the policy replaced by a test one, bounded to one idle tenth of a second), it
/// starts, listens and ends cleanly.
#[test]
fn the_systemd_units_command_line_is_accepted() {
    let unit = include_str!("../dist/rsmailslot-relay.service");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart line");
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/rsmailslot-relay"));
    let dir = scratch("unit");
    let policy = dir.join("relay.toml");
    std::fs::write(
        &policy,
        "[allow]\nsources = [\"127.0.0.1\"]\nmailslots = [\"x\"]\n[sink]\nkind = \"stdout\"\n",
    )
    .unwrap();
    let args: Vec<String> = words
        .map(|w| {
            if w == "/etc/rsmailslot/relay.toml" {
                policy.display().to_string()
            } else {
                w.to_string()
            }
        })
        .chain(["--listen", "127.0.0.1:0", "--exit-idle-ms", "100"].map(String::from))
        .collect();
    let out = Command::new(RELAY).args(&args).output().expect("the relay");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("listening on 127.0.0.1:"));
    let _ = std::fs::remove_dir_all(&dir);
}
