//! How much the relay's decision costs per datagram, next to the codec's own parse of the same
//! bytes, measured in alternating batches in one run (the machine is shared and noisy, so only
//! ratios are judged):
//! - admitted: a 424-byte broadcast write to an allowed mailslot, judged (every check, the
//!   parse of both layers, the copy of the data into the message to deliver);
//! - parse: `Datagram::parse` and `MailslotWrite::parse` of the same bytes;
//! - refused early: the same bytes from a source outside the policy (what a flood from
//!   elsewhere costs);
//! - malformed: 424 random bytes from an allowed source.
//!
//! Goals: an admitted datagram costs at most 3 times its parse (the policy adds little to the
//! parse and the copy), and one from a source outside the policy at most a tenth of an admitted
//! one. `cargo bench -p rsmailslot-relay --bench judge` (add `-- --quick` for a short run); it
//! exits 1 when a goal is missed.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use msmail::{Datagram, DatagramKind, Header, MailslotName, MailslotWrite, NetbiosName, NodeType};
use rsmailslot_relay::{Decision, Policy, Relay};

fn datagram() -> Vec<u8> {
    let w = MailslotWrite::new(
        MailslotName::from_relative("app\\events").unwrap(),
        vec![0x5A; 424],
    )
    .unwrap();
    Datagram::whole(
        DatagramKind::Broadcast,
        Header {
            node: NodeType::B,
            first: true,
            more: false,
            id: 1,
            source_ip: "10.0.0.1".parse().unwrap(),
            source_port: 138,
        },
        NetbiosName::new("SENDER", 0).unwrap(),
        NetbiosName::wildcard(),
        w.emit(),
    )
    .unwrap()
    .emit()
    .unwrap()
}

/// ns per call of `f` over `n` calls.
fn time(n: u32, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_nanos() as f64 / f64::from(n)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, n) = if quick { (5, 2_000) } else { (31, 20_000) };
    let policy = Policy::parse(
        "[allow]\nsources = [\"10.0.0.0/8\"]\nmailslots = [\"app\\\\*\"]\n[limits]\nper_source_per_second = 1000000000\nper_source_burst = 1000000000\n[sink]\nkind = \"stdout\"\n",
    )
    .unwrap();
    let mut relay = Relay::new(policy);
    let bytes = datagram();
    let noise: Vec<u8> = (0..424u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let allowed: SocketAddr = "10.0.0.1:138".parse().unwrap();
    let outside: SocketAddr = "192.0.2.1:138".parse().unwrap();
    let now = Instant::now() + Duration::from_secs(1);
    let (mut admitted, mut parse, mut early, mut malformed) = (vec![], vec![], vec![], vec![]);
    for _ in 0..rounds {
        admitted.push(time(n, || {
            let d = relay.judge(allowed, black_box(&bytes), now);
            assert!(matches!(d, Decision::Deliver(_)));
            black_box(d);
        }));
        parse.push(time(n, || {
            let Ok(Datagram::Data { data, .. }) = Datagram::parse(black_box(&bytes)) else {
                panic!("parses")
            };
            black_box(MailslotWrite::parse(&data).unwrap());
        }));
        early.push(time(n, || {
            black_box(relay.judge(outside, black_box(&bytes), now));
        }));
        malformed.push(time(n, || {
            black_box(relay.judge(allowed, black_box(&noise), now));
        }));
    }
    // Each ratio is taken within a round, whose batches ran back to back, then the median of
    // the rounds: a slow moment of the machine moves both sides of a ratio together.
    let ratio = |x: &[f64], y: &[f64]| median(x.iter().zip(y).map(|(a, b)| a / b).collect());
    let to_parse = ratio(&admitted, &parse);
    let early_share = ratio(&early, &admitted);
    let malformed_share = ratio(&malformed, &admitted);
    let (a, p, e, m) = (
        median(admitted),
        median(parse),
        median(early),
        median(malformed),
    );
    println!("rsmailslot-relay: ns per datagram (median of {rounds} alternating batches of {n})");
    println!("| datagram | ns | ratio (median of the rounds' ratios) |");
    println!("|---|---|---|");
    println!("| admitted 424-byte write, judged | {a:.0} | {to_parse:.2} of its parse |");
    println!("| the codec's parse of it | {p:.0} | 1 |");
    println!("| from a source outside the policy | {e:.0} | {early_share:.3} of admitted |");
    println!(
        "| 424 random bytes from an allowed source | {m:.0} | {malformed_share:.3} of admitted |"
    );
    let met = to_parse <= 3.0 && early_share <= 0.1;
    println!(
        "goals: admitted at most 3 times its parse ({to_parse:.2}), outside source at most 0.1 of admitted ({early_share:.3}): {}",
        if met { "met" } else { "MISSED" }
    );
    if !met {
        std::process::exit(1);
    }
}
