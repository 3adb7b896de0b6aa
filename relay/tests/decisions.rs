//! The relay's decisions, in process: what the policy admits is delivered whole; everything
//! else is refused with its reason and counted; a flood from one source is cut to its rate;
//! mutated and random datagrams never panic the relay and never deliver anything the policy
//! would not admit.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use msmail::{
    Class, Datagram, DatagramKind, ErrorCode, Header, MailslotName, MailslotWrite, NetbiosName,
    NodeType,
};
use rsmailslot_relay::{Decision, Policy, Relay};

fn policy() -> Policy {
    Policy::parse(
        r#"
        [allow]
        sources = ["127.0.0.0/8", "192.168.7.0/24"]
        mailslots = ["BROWSE", "app\\*"]
        destinations = ["PLANT", "WORKGROUP"]
        [limits]
        max_message = 100
        per_source_per_second = 10
        per_source_burst = 5
        [sink]
        kind = "stdout"
        "#,
    )
    .expect("a valid policy")
}

fn header() -> Header {
    Header {
        node: NodeType::B,
        first: true,
        more: false,
        id: 1,
        source_ip: Ipv4Addr::new(203, 0, 113, 9),
        source_port: 138,
    }
}

fn packet(to: &str, slot: &str, data: &[u8], class: Class) -> Vec<u8> {
    let w = MailslotWrite::new(MailslotName::from_relative(slot).unwrap(), data.to_vec())
        .unwrap()
        .with_class(class);
    Datagram::whole(
        DatagramKind::DirectUnique,
        header(),
        NetbiosName::new("SENDER", 0).unwrap(),
        NetbiosName::new(to, 0).unwrap(),
        w.emit(),
    )
    .unwrap()
    .emit()
    .unwrap()
}

fn peer(ip: [u8; 4]) -> SocketAddr {
    SocketAddr::from((ip, 50_000))
}

fn reason(d: Decision) -> String {
    match d {
        Decision::Refuse(r) => r.to_string(),
        Decision::Deliver(a) => format!("delivered {}", a.mailslot.as_str()),
    }
}

#[test]
fn each_rule_of_the_policy() {
    let mut r = Relay::new(policy());
    let now = Instant::now();
    let good = packet("plant", "app\\events", b"temperature 21", Class::Second);
    match r.judge(peer([127, 0, 0, 1]), &good, now) {
        Decision::Deliver(a) => {
            assert_eq!(a.mailslot.as_str(), "\\MAILSLOT\\app\\events");
            assert_eq!(a.data, b"temperature 21");
            assert_eq!(a.source_name.to_string(), "SENDER<00>");
            assert_eq!(a.destination_name.to_string(), "PLANT<00>");
        }
        other => panic!("{other:?}"),
    }
    r.delivered();
    let cases: Vec<(SocketAddr, Vec<u8>, &str)> = vec![
        (peer([10, 0, 0, 1]), good.clone(), "source-not-allowed"),
        (
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 138)),
            good.clone(),
            "source-not-allowed",
        ),
        (
            peer([192, 168, 7, 1]),
            packet("PLANT", "secret", b"x", Class::Second),
            "mailslot-not-allowed",
        ),
        (
            peer([192, 168, 7, 2]),
            packet("OTHER", "BROWSE", b"x", Class::Second),
            "destination-not-allowed",
        ),
        (
            peer([192, 168, 7, 3]),
            packet("PLANT", "BROWSE", &[0; 101], Class::Second),
            "too-large",
        ),
        (
            peer([192, 168, 7, 4]),
            packet("PLANT", "BROWSE", b"x", Class::First),
            "not-class-2",
        ),
        (
            peer([192, 168, 7, 5]),
            good[..good.len() - 1].to_vec(),
            "malformed:bad-length",
        ),
        (
            peer([192, 168, 7, 6]),
            [good.clone(), vec![0]].concat(),
            "malformed:trailing-bytes",
        ),
        (
            peer([192, 168, 7, 7]),
            vec![0x10, 0x02, 0, 1],
            "malformed:truncated",
        ),
        (
            peer([192, 168, 7, 8]),
            Datagram::Error {
                header: header(),
                code: ErrorCode::DestinationNameNotPresent,
            }
            .emit()
            .unwrap(),
            "not-a-data-datagram",
        ),
    ];
    for (from, bytes, want) in &cases {
        assert_eq!(reason(r.judge(*from, bytes, now)), *want, "from {from}");
    }
    // A fragment, and a write whose SMB part is cut.
    let mut fragment = good.clone();
    fragment[1] |= 0x01;
    assert_eq!(
        reason(r.judge(peer([192, 168, 7, 9]), &fragment, now)),
        "fragment"
    );
    let d = Datagram::parse(&good).unwrap();
    let Datagram::Data {
        source,
        destination,
        data,
        ..
    } = d
    else {
        unreachable!()
    };
    let cut = Datagram::whole(
        DatagramKind::Broadcast,
        header(),
        source,
        destination,
        data[..70].to_vec(),
    )
    .unwrap()
    .emit()
    .unwrap();
    assert_eq!(
        reason(r.judge(peer([192, 168, 7, 10]), &cut, now)),
        "malformed-write:bad-length"
    );
    let c = r.counters();
    assert_eq!(c.received, 1 + cases.len() as u64 + 2);
    assert_eq!(c.delivered, 1);
    assert_eq!(c.refused_total(), cases.len() as u64 + 2);
    assert_eq!(c.refused["source-not-allowed"], 2);
}

#[test]
fn a_flooding_source_is_held_to_its_rate_and_others_are_not() {
    let mut r = Relay::new(policy());
    let t0 = Instant::now();
    let good = packet("PLANT", "BROWSE", b"hello", Class::Second);
    let mut delivered = 0;
    for i in 0..10_000u32 {
        // 10,000 datagrams over one simulated second from one source.
        let at = t0 + Duration::from_micros(u64::from(i) * 100);
        if let Decision::Deliver(_) = r.judge(peer([127, 0, 0, 1]), &good, at) {
            delivered += 1;
            r.delivered();
        }
    }
    // The burst (5) and one second at 10 per second.
    assert!((14..=16).contains(&delivered), "{delivered} delivered");
    assert_eq!(r.counters().refused["rate-limited"], 10_000 - delivered);
    // Another source still gets through at once.
    assert!(matches!(
        r.judge(peer([127, 0, 0, 2]), &good, t0 + Duration::from_secs(1)),
        Decision::Deliver(_)
    ));
}

/// A deterministic generator.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
}

#[test]
fn mutated_and_random_datagrams_never_deliver_what_the_policy_refuses() {
    let mut policy = policy();
    policy.limits.burst = u32::MAX;
    let mut r = Relay::new(policy.clone());
    let mut g = Lcg(7);
    let seeds = [
        packet("PLANT", "BROWSE", b"hello", Class::Second),
        packet("WORKGROUP", "app\\x", &[7; 100], Class::Second),
        packet("PLANT", "nope", b"no", Class::Second),
    ];
    let now = Instant::now();
    let mut delivered = 0u64;
    for i in 0..20_000 {
        let mut bytes = seeds[i % seeds.len()].clone();
        match g.next() % 4 {
            0 => {
                let at = g.next() as usize % bytes.len();
                bytes[at] = g.next() as u8;
            }
            1 => bytes.truncate(g.next() as usize % bytes.len()),
            2 => bytes = (0..g.next() % 300).map(|_| g.next() as u8).collect(),
            _ => {
                let at = g.next() as usize % bytes.len();
                bytes.insert(at, g.next() as u8);
            }
        }
        if let Decision::Deliver(a) = r.judge(peer([127, 0, 0, 1]), &bytes, now) {
            // Whatever is delivered is a whole, valid datagram the policy admits, and its data
            // is exactly the write's.
            let d = Datagram::parse(&bytes).expect("delivered, so it parses");
            assert!(d.is_whole());
            let Datagram::Data {
                destination, data, ..
            } = d
            else {
                panic!("not data")
            };
            let w = MailslotWrite::parse(&data).expect("a write");
            assert_eq!(w.class(), Class::Second);
            assert!(["PLANT", "WORKGROUP"].contains(&destination.text().as_str()));
            assert!(policy
                .mailslots
                .iter()
                .any(|p| p.matches(w.name().relative())));
            assert!(w.data().len() <= 100);
            assert_eq!(a.data, w.data());
            delivered += 1;
            r.delivered();
        }
    }
    let c = r.counters();
    assert_eq!(c.received, 20_000);
    assert_eq!(c.delivered + c.refused_total(), 20_000);
    assert!(delivered > 0 && c.refused_total() > 10_000, "{c:?}");
}
