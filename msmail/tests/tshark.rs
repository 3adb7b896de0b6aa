//! A decoder we did not write agrees with ours: every packet the codec emits, wrapped in
//! IPv4 and UDP to port 138 in a capture file, is dissected by Wireshark's `tshark` (NBDS,
//! SMB and MAILSLOT dissectors) as not malformed, with every field equal to the value we
//! built. Needs `tshark` (Debian's package; `tools/test.sh` installs it).

use std::net::Ipv4Addr;
use std::process::Command;

use msmail::{
    Class, Datagram, DatagramKind, ErrorCode, Header, MailslotName, MailslotWrite, NetbiosName,
    NodeType, QueryKind, Scope,
};

/// A classic pcap file of raw IPv4 packets (LINKTYPE_RAW, 101).
fn pcap(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xA1B2_C3D4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&101u32.to_le_bytes());
    for (i, p) in packets.iter().enumerate() {
        out.extend_from_slice(&(i as u32 + 1).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// `payload` in a UDP datagram from and to port 138, in an IPv4 packet on loopback.
fn udp_ipv4(payload: &[u8]) -> Vec<u8> {
    let total = 20 + 8 + payload.len();
    let mut ip = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0,
        0,
        64,
        17,
        0,
        0,
    ];
    ip.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 2]);
    let sum = ip
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum::<u32>();
    let sum = !(((sum & 0xFFFF) + (sum >> 16)) as u16);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    let udp_len = (8 + payload.len()) as u16;
    ip.extend_from_slice(&138u16.to_be_bytes());
    ip.extend_from_slice(&138u16.to_be_bytes());
    ip.extend_from_slice(&udp_len.to_be_bytes());
    ip.extend_from_slice(&[0, 0]);
    ip.extend_from_slice(payload);
    ip
}

/// The fields compared, in order.
const FIELDS: [&str; 27] = [
    "nbdgm.type",
    "nbdgm.first",
    "nbdgm.next",
    "nbdgm.node_type",
    "nbdgm.dgram_id",
    "nbdgm.src.ip",
    "nbdgm.src.port",
    "nbdgm.dgram_len",
    "nbdgm.pkt_offset",
    "nbdgm.source_name",
    "nbdgm.destination_name",
    "nbdgm.error_code",
    "smb.cmd",
    "smb.wct",
    "smb.tdc",
    "smb.dc",
    "smb.data_offset",
    "smb.timeout",
    "smb.sc",
    "mailslot.opcode",
    "mailslot.priority",
    "mailslot.class",
    "mailslot.name",
    "smb.bcc",
    "data.data",
    "_ws.malformed",
    "_ws.expert.message",
];

/// A name as Wireshark writes it: the first 15 bytes without trailing spaces, printable
/// ASCII as itself and anything else as `<xx>`, then the suffix as `<xx>`, then `.scope`.
fn shown(n: &NetbiosName) -> String {
    let raw = n.raw();
    let head = &raw[..15];
    let end = head.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    let mut s = String::new();
    for &b in &head[..end] {
        if (0x20..0x7F).contains(&b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("<{b:02x}>"));
        }
    }
    s.push_str(&format!("<{:02x}>", raw[15]));
    if !n.scope().is_empty() {
        s.push_str(&format!(".{}", n.scope()));
    }
    s
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What tshark should print for `d` (FIELDS, `|`-separated).
fn expected(d: &Datagram) -> String {
    let h = d.header();
    let mut f = vec![String::new(); FIELDS.len()];
    f[1] = u8::from(h.first).to_string();
    f[2] = u8::from(h.more).to_string();
    f[3] = (h.node as u8).to_string();
    f[4] = format!("0x{:04x}", h.id);
    f[5] = h.source_ip.to_string();
    f[6] = h.source_port.to_string();
    match d {
        Datagram::Data {
            kind,
            offset,
            source,
            destination,
            data,
            ..
        } => {
            f[0] = (*kind as u8).to_string();
            f[7] = (source.encoded_len() + destination.encoded_len() + data.len()).to_string();
            f[8] = offset.to_string();
            f[9] = shown(source);
            f[10] = shown(destination);
            if d.is_whole() {
                let w =
                    MailslotWrite::parse(data).expect("every whole datagram here carries a write");
                f[12] = "0x25".into();
                f[13] = "17".into();
                f[14] = w.data().len().to_string();
                f[15] = w.data().len().to_string();
                f[16] = (70 + w.name().as_str().len()).to_string();
                f[17] = w.timeout().to_string();
                f[18] = "3".into();
                f[19] = "1".into();
                f[20] = w.priority().to_string();
                f[21] = (w.class() as u16).to_string();
                f[22] = w.name().as_str().to_string();
                f[23] = (w.name().as_str().len() + 1 + w.data().len()).to_string();
                f[24] = hex(w.data());
            } else {
                f[24] = hex(data);
            }
        }
        Datagram::Error { code, .. } => {
            f[0] = "19".into();
            f[11] = format!("0x{:02x}", *code as u8);
        }
        Datagram::Query {
            kind, destination, ..
        } => {
            f[0] = (*kind as u8).to_string();
            f[10] = shown(destination);
        }
    }
    f.join("|")
}

/// A small deterministic generator: the same packets on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn word(&mut self, min: usize, max: usize) -> String {
        let n = min + self.below((max - min + 1) as u32) as usize;
        (0..n)
            .map(|_| {
                char::from(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
                        [self.below(64) as usize],
                )
            })
            .collect()
    }
}

fn name(g: &mut Lcg) -> NetbiosName {
    let n = match g.below(4) {
        0 => NetbiosName::wildcard(),
        1 => NetbiosName::from_raw(g.bytes(16).try_into().expect("16 bytes")),
        _ => NetbiosName::new(&g.word(1, 15).to_ascii_uppercase(), g.next() as u8).expect("valid"),
    };
    if g.below(4) == 0 {
        let labels: Vec<String> = (0..1 + g.below(3)).map(|_| g.word(1, 12)).collect();
        n.with_scope(Scope::new(&labels.join(".")).expect("valid"))
    } else {
        n
    }
}

fn header(g: &mut Lcg, whole: bool) -> Header {
    let node = [NodeType::B, NodeType::P, NodeType::M, NodeType::Nbdd][g.below(4) as usize];
    Header {
        node,
        first: whole || g.below(2) == 0,
        more: !whole && g.below(2) == 0,
        id: g.next() as u16,
        source_ip: Ipv4Addr::from(g.next()),
        source_port: g.next() as u16,
    }
}

fn packets() -> Vec<Datagram> {
    let mut g = Lcg(0x5EED);
    let mut out = Vec::new();
    for i in 0..240 {
        let d = match i % 6 {
            0..=3 => {
                let kind = [
                    DatagramKind::DirectUnique,
                    DatagramKind::DirectGroup,
                    DatagramKind::Broadcast,
                ][g.below(3) as usize];
                let rel = format!("RS\\{}", g.word(1, 30));
                let len = g.below(425) as usize;
                let w = MailslotWrite::new(
                    MailslotName::from_relative(&rel).expect("valid"),
                    g.bytes(len),
                )
                .expect("fits")
                .with_priority(g.next() as u16)
                .with_class(if g.below(2) == 0 {
                    Class::First
                } else {
                    Class::Second
                })
                .with_timeout(g.next());
                Datagram::whole(
                    kind,
                    header(&mut g, true),
                    name(&mut g),
                    name(&mut g),
                    w.emit(),
                )
                .expect("fits")
            }
            4 if g.below(2) == 0 => {
                // A fragment: first without more is not one, so more, or an offset.
                let mut header = header(&mut g, false);
                let offset = if header.more {
                    g.next() as u16
                } else {
                    1 + g.below(400) as u16
                };
                if header.first && !header.more {
                    header.more = true;
                }
                let len = 1 + g.below(100) as usize;
                Datagram::Data {
                    kind: DatagramKind::DirectGroup,
                    header,
                    offset,
                    source: name(&mut g),
                    destination: name(&mut g),
                    data: g.bytes(len),
                }
            }
            4 => Datagram::Error {
                header: header(&mut g, false),
                code: [
                    ErrorCode::DestinationNameNotPresent,
                    ErrorCode::InvalidSourceNameFormat,
                    ErrorCode::InvalidDestinationNameFormat,
                ][g.below(3) as usize],
            },
            _ => Datagram::Query {
                kind: [
                    QueryKind::Request,
                    QueryKind::PositiveResponse,
                    QueryKind::NegativeResponse,
                ][g.below(3) as usize],
                header: header(&mut g, false),
                destination: name(&mut g),
            },
        };
        out.push(d);
    }
    out
}

#[test]
fn tshark_dissects_every_packet_as_we_built_it() {
    let packets = packets();
    let dir = std::env::temp_dir().join(format!("msmail-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let file = dir.join("emitted.pcap");
    let frames: Vec<Vec<u8>> = packets
        .iter()
        .map(|d| udp_ipv4(&d.emit().expect("fits")))
        .collect();
    std::fs::write(&file, pcap(&frames)).expect("writing the capture");
    let mut args = vec![
        "-r".to_string(),
        file.display().to_string(),
        "-T".into(),
        "fields".into(),
        "-E".into(),
        "separator=|".into(),
        "-E".into(),
        "occurrence=a".into(),
    ];
    for f in FIELDS {
        args.push("-e".into());
        args.push(f.into());
    }
    let out = Command::new("tshark")
        .args(&args)
        .output()
        .expect("running tshark (Debian's tshark package; tools/test.sh installs it)");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), packets.len(), "one line per packet");
    let mut differ = Vec::new();
    for (i, (d, line)) in packets.iter().zip(&lines).enumerate() {
        let want = expected(d);
        if *line != want {
            differ.push(format!(
                "packet {}:\n  tshark: {line}\n  ours:   {want}",
                i + 1
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        differ.is_empty(),
        "{} of {} packets differ:\n{}",
        differ.len(),
        packets.len(),
        differ.join("\n")
    );
}
