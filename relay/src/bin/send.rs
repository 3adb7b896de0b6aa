//! rsmailslot-send: writes one message to a remote mailslot as Windows did before remote
//! mailslots were switched off: a NetBIOS datagram carrying a mailslot write [MS-MAIL].
//!
//!   rsmailslot-send [--to ADDR[:PORT]] [--from NAME] [--group] [--suffix HEX]
//!                   [--priority N] [--count N] (--text TEXT | --hex HEX | --file PATH)
//!                   \\host\mailslot\name
//!
//! `\\host\...` sends a direct unique datagram to `host<suffix>` (suffix 00 by default;
//! `--group` makes it a direct group datagram, for a domain's name) at `--to`, or at `host`
//! resolved, port 138. `\\*\...` broadcasts to `--to` (default 255.255.255.255:138) and is
//! refused over 424 bytes, as Windows refuses it. Any message is refused when its mailslot name
//! and data pass the 443 bytes a datagram should carry [MS-MAIL 2.1].

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;

use msmail::{Datagram, DatagramKind, Header, MailslotWrite, NetbiosName, NodeType};
use rsmailslot_relay::target::Target;

const USAGE: &str = "usage: rsmailslot-send [--to ADDR[:PORT]] [--from NAME] [--group] [--suffix HEX] [--priority N] [--count N] (--text TEXT | --hex HEX | --file PATH) \\\\host\\mailslot\\name";

struct Args {
    to: Option<String>,
    from: String,
    group: bool,
    suffix: u8,
    priority: u16,
    count: u32,
    data: Vec<u8>,
    target: Target,
}

fn hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    let t: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if t.len() % 2 != 0 {
        return Err("--hex: an even number of hexadecimal digits".into());
    }
    t.chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or("--hex: not hexadecimal".to_string())
        })
        .collect()
}

fn default_name() -> String {
    let host = std::env::var("COMPUTERNAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default();
    let name: String = host
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '.')
        .take(15)
        .collect::<String>()
        .to_ascii_uppercase();
    if name.is_empty() || name.starts_with('*') {
        "RSMAILSLOT".into()
    } else {
        name
    }
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut to, mut from, mut group, mut suffix, mut priority, mut count) =
        (None, default_name(), false, 0u8, 0u16, 1u32);
    let (mut data, mut target) = (None, None);
    while let Some(arg) = it.next() {
        let mut value = |what: &str| it.next().ok_or(format!("{what} needs a value"));
        match arg.as_str() {
            "--to" => to = Some(value("--to")?),
            "--from" => from = value("--from")?,
            "--group" => group = true,
            "--suffix" => {
                suffix = u8::from_str_radix(&value("--suffix")?, 16)
                    .map_err(|_| "--suffix: one hexadecimal byte".to_string())?
            }
            "--priority" => {
                priority = value("--priority")?
                    .parse()
                    .map_err(|_| "--priority: 0 to 65535".to_string())?
            }
            "--count" => {
                count = value("--count")?
                    .parse()
                    .map_err(|_| "--count: a number".to_string())?
            }
            "--text" => data = Some(value("--text")?.into_bytes()),
            "--hex" => data = Some(hex_bytes(&value("--hex")?)?),
            "--file" => {
                let p = value("--file")?;
                data = Some(std::fs::read(&p).map_err(|e| format!("{p}: {e}"))?)
            }
            "--help" | "-h" => return Err(USAGE.into()),
            t if t.starts_with("\\\\") => target = Some(Target::parse(t)?),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(Args {
        to,
        from,
        group,
        suffix,
        priority,
        count,
        data: data.ok_or(format!("no message: --text, --hex or --file\n{USAGE}"))?,
        target: target.ok_or(format!("no target\n{USAGE}"))?,
    })
}

fn resolve(text: &str) -> Result<SocketAddr, String> {
    let with_port = if text.contains(':') {
        text.to_string()
    } else {
        format!("{text}:{}", msmail::DATAGRAM_PORT)
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| format!("{text}: {e}"))?
        .find(SocketAddr::is_ipv4)
        .ok_or(format!("{text}: no IPv4 address"))
}

fn run(a: Args) -> Result<(), String> {
    let name_and_data = a.target.mailslot.as_str().len() + a.data.len();
    if a.target.host.is_none() && a.data.len() > msmail::MAX_BROADCAST_MESSAGE {
        return Err(format!(
            "a broadcast carries at most {} bytes; this message has {}",
            msmail::MAX_BROADCAST_MESSAGE,
            a.data.len()
        ));
    }
    if name_and_data > msmail::MAX_UDP_NAME_AND_DATA {
        return Err(format!(
            "a datagram carries at most {} bytes of mailslot name and data; this one has {name_and_data}",
            msmail::MAX_UDP_NAME_AND_DATA
        ));
    }
    let (kind, destination, to) = match &a.target.host {
        None => (
            DatagramKind::Broadcast,
            NetbiosName::wildcard(),
            resolve(a.to.as_deref().unwrap_or("255.255.255.255"))?,
        ),
        Some(host) => (
            if a.group {
                DatagramKind::DirectGroup
            } else {
                DatagramKind::DirectUnique
            },
            NetbiosName::new(host, a.suffix).map_err(|e| format!("{host}: {e}"))?,
            resolve(a.to.as_deref().unwrap_or(host))?,
        ),
    };
    let source = NetbiosName::new(&a.from, 0).map_err(|e| format!("--from: {e}"))?;
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).map_err(|e| e.to_string())?;
    if kind == DatagramKind::Broadcast {
        socket.set_broadcast(true).map_err(|e| e.to_string())?;
    }
    socket.connect(to).map_err(|e| format!("{to}: {e}"))?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let source_ip = match local.ip() {
        IpAddr::V4(ip) => ip,
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    };
    let write = MailslotWrite::new(a.target.mailslot.clone(), a.data.clone())
        .map_err(|e| e.to_string())?
        .with_priority(a.priority);
    for i in 0..a.count {
        let header = Header {
            node: NodeType::B,
            first: true,
            more: false,
            id: (std::process::id() as u16).wrapping_add(i as u16),
            source_ip,
            source_port: local.port(),
        };
        let d = Datagram::whole(
            kind,
            header,
            source.clone(),
            destination.clone(),
            write.emit(),
        )
        .map_err(|e| e.to_string())?;
        let bytes = d.emit().map_err(|e| e.to_string())?;
        socket.send(&bytes).map_err(|e| format!("{to}: {e}"))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rsmailslot-send: {e}");
            ExitCode::from(2)
        }
    }
}
