//! The relay's policy: a TOML file an administrator writes, off until written. Nothing is
//! admitted that it does not name: a source outside `allow.sources`, a mailslot outside
//! `allow.mailslots`, or (when `allow.destinations` is given) a datagram to another NetBIOS
//! name is refused.
//!
//! ```toml
//! listen = "0.0.0.0:138"              # default
//! [allow]
//! sources = ["192.168.10.0/24", "10.1.2.3"]
//! mailslots = ["BROWSE", "MYAPP\\*"]  # relative names; a trailing * matches any rest
//! destinations = ["PLANT-PC", "WORKGROUP"]  # optional: NetBIOS names the datagram may be for
//! [limits]
//! max_message = 424                   # bytes of data; default 424
//! per_source_per_second = 20          # default 20
//! per_source_burst = 40               # default 40
//! max_sources = 4096                  # sources whose rate is tracked; default 4096
//! [sink]
//! kind = "mailslot"                   # Windows: "mailslot" (namespace "mailslot" or "RsMailslot")
//! # kind = "unix", directory = "/run/rsmailslot"   # Linux: a datagram socket per mailslot
//! # kind = "stdout"                   # JSON lines
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use serde::Deserialize;

/// An IPv4 network, `a.b.c.d/n` (or one address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    base: u32,
    prefix: u8,
}

impl Network {
    pub fn parse(text: &str) -> Result<Network, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (
                a,
                p.parse::<u8>()
                    .ok()
                    .filter(|&p| p <= 32)
                    .ok_or(format!("{text:?}: the prefix length is 0 to 32"))?,
            ),
            None => (text, 32),
        };
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("{text:?} is not an IPv4 address or network"))?;
        let mask = Network::mask(prefix);
        let base = u32::from(addr);
        if base & !mask != 0 {
            return Err(format!(
                "{text:?} has host bits set (the network is {}/{prefix})",
                Ipv4Addr::from(base & mask)
            ));
        }
        Ok(Network { base, prefix })
    }

    fn mask(prefix: u8) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & Network::mask(self.prefix) == self.base
    }
}

/// A mailslot name the policy admits: a relative name (`BROWSE`, `net\netlogon`), compared
/// without regard to case as mailslot names are; a trailing `*` matches any rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamePattern {
    text: String,
    prefix: bool,
}

impl NamePattern {
    pub fn parse(text: &str) -> Result<NamePattern, String> {
        let (body, prefix) = match text.strip_suffix('*') {
            Some(b) => (b, true),
            None => (text, false),
        };
        if body.contains('*') || (!prefix && body.is_empty()) {
            return Err(format!(
                "{text:?}: a mailslot pattern is a name, or a name's start followed by one *"
            ));
        }
        if !body.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
            return Err(format!("{text:?}: mailslot names are printable ASCII"));
        }
        Ok(NamePattern {
            text: body.to_ascii_lowercase(),
            prefix,
        })
    }

    pub fn matches(&self, relative: &str) -> bool {
        let (name, pattern) = (relative.as_bytes(), self.text.as_bytes());
        if self.prefix {
            name.get(..pattern.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(pattern))
        } else {
            name.eq_ignore_ascii_case(pattern)
        }
    }
}

/// Where admitted messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SinkSpec {
    /// One JSON object per line on standard output.
    Stdout,
    /// A Unix datagram socket per mailslot in this directory (Linux).
    UnixDirectory(PathBuf),
    /// Local mailslots: `\\.\<namespace>\<name>` (Windows).
    Mailslot { namespace: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_message: usize,
    pub per_second: u32,
    pub burst: u32,
    pub max_sources: usize,
}

/// A policy read from its file, every value checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub listen: SocketAddr,
    pub sources: Vec<Network>,
    pub mailslots: Vec<NamePattern>,
    /// NetBIOS names (upper case, no suffix) a datagram may be addressed to; `None`: any.
    pub destinations: Option<Vec<String>>,
    pub limits: Limits,
    pub sink: SinkSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    listen: Option<String>,
    allow: AllowForm,
    limits: Option<LimitsForm>,
    sink: SinkForm,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowForm {
    sources: Vec<String>,
    mailslots: Vec<String>,
    destinations: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsForm {
    max_message: Option<usize>,
    per_source_per_second: Option<u32>,
    per_source_burst: Option<u32>,
    max_sources: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SinkForm {
    kind: String,
    directory: Option<String>,
    namespace: Option<String>,
}

/// The largest message a mailslot write can carry (its 16-bit counts).
const MAX_MESSAGE_LIMIT: usize = 65_000;

impl Policy {
    /// The policy `text` (a TOML file) describes, or what is wrong with it.
    pub fn parse(text: &str) -> Result<Policy, String> {
        let f: FileForm = toml::from_str(text).map_err(|e| e.to_string())?;
        let listen = f
            .listen
            .as_deref()
            .unwrap_or("0.0.0.0:138")
            .parse::<SocketAddr>()
            .map_err(|e| format!("listen: {e}"))?;
        let sources = f
            .allow
            .sources
            .iter()
            .map(|s| Network::parse(s))
            .collect::<Result<Vec<_>, _>>()?;
        let mailslots = f
            .allow
            .mailslots
            .iter()
            .map(|s| NamePattern::parse(s))
            .collect::<Result<Vec<_>, _>>()?;
        let destinations = f
            .allow
            .destinations
            .map(|names| {
                names
                    .into_iter()
                    .map(|n| {
                        if n.is_empty()
                            || n.len() > 15
                            || !n.bytes().all(|b| (0x21..=0x7E).contains(&b))
                        {
                            Err(format!(
                                "destination {n:?}: a NetBIOS name is 1 to 15 printable characters"
                            ))
                        } else {
                            Ok(n.to_ascii_uppercase())
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let l = f.limits.unwrap_or(LimitsForm {
            max_message: None,
            per_source_per_second: None,
            per_source_burst: None,
            max_sources: None,
        });
        let limits = Limits {
            max_message: l.max_message.unwrap_or(msmail::MAX_BROADCAST_MESSAGE),
            per_second: l.per_source_per_second.unwrap_or(20),
            burst: l.per_source_burst.unwrap_or(40),
            max_sources: l.max_sources.unwrap_or(4096),
        };
        if limits.max_message > MAX_MESSAGE_LIMIT {
            return Err(format!("limits.max_message is at most {MAX_MESSAGE_LIMIT}"));
        }
        if limits.per_second == 0 || limits.burst == 0 || limits.max_sources == 0 {
            return Err("limits: the rate, burst and sources tracked are at least 1".into());
        }
        let sink = match f.sink.kind.as_str() {
            "stdout" => SinkSpec::Stdout,
            "unix" => SinkSpec::UnixDirectory(PathBuf::from(
                f.sink
                    .directory
                    .ok_or("sink kind \"unix\" needs a directory")?,
            )),
            "mailslot" => {
                let namespace = f.sink.namespace.unwrap_or_else(|| "mailslot".into());
                if !["mailslot", "RsMailslot"]
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(&namespace))
                {
                    return Err(format!(
                        "sink namespace {namespace:?}: \"mailslot\" (Windows' MSFS) or \"RsMailslot\" (rsmailslot.sys)"
                    ));
                }
                SinkSpec::Mailslot { namespace }
            }
            other => {
                return Err(format!(
                    "sink kind {other:?}: \"mailslot\", \"unix\" or \"stdout\""
                ))
            }
        };
        Ok(Policy {
            listen,
            sources,
            mailslots,
            destinations,
            limits,
            sink,
        })
    }

    /// Whether the policy can admit anything at all (it admits nothing without a source and
    /// a mailslot).
    pub fn admits_anything(&self) -> bool {
        !self.sources.is_empty() && !self.mailslots.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_patterns() {
        let n = Network::parse("192.168.10.0/24").unwrap();
        assert!(n.contains(Ipv4Addr::new(192, 168, 10, 200)));
        assert!(!n.contains(Ipv4Addr::new(192, 168, 11, 1)));
        assert!(Network::parse("10.0.0.1")
            .unwrap()
            .contains(Ipv4Addr::new(10, 0, 0, 1)));
        assert!(Network::parse("0.0.0.0/0")
            .unwrap()
            .contains(Ipv4Addr::new(8, 8, 8, 8)));
        assert!(Network::parse("10.0.0.1/8").is_err(), "host bits");
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("::1").is_err());
        let p = NamePattern::parse("MyApp\\*").unwrap();
        assert!(p.matches("myapp\\events"));
        assert!(!p.matches("other"));
        assert!(NamePattern::parse("BROWSE").unwrap().matches("browse"));
        assert!(!NamePattern::parse("BROWSE").unwrap().matches("browser"));
        assert!(NamePattern::parse("a*b").is_err());
        assert!(NamePattern::parse("").is_err());
    }

    #[test]
    fn a_policy_file() {
        let p = Policy::parse(
            r#"
            [allow]
            sources = ["127.0.0.0/8"]
            mailslots = ["BROWSE", "app\\*"]
            destinations = ["workgroup"]
            [limits]
            per_source_per_second = 5
            [sink]
            kind = "stdout"
            "#,
        )
        .unwrap();
        assert_eq!(p.listen, "0.0.0.0:138".parse().unwrap());
        assert_eq!(p.limits.max_message, 424);
        assert_eq!((p.limits.per_second, p.limits.burst), (5, 40));
        assert_eq!(p.destinations, Some(vec!["WORKGROUP".to_string()]));
        assert!(p.admits_anything());
        for bad in [
            "[allow]\nsources=[]\nmailslots=[]\n[sink]\nkind=\"ftp\"",
            "[allow]\nsources=[\"x\"]\nmailslots=[]\n[sink]\nkind=\"stdout\"",
            "[allow]\nsources=[]\nmailslots=[]\n[sink]\nkind=\"unix\"",
            "[allow]\nsources=[]\nmailslots=[]\nextra=1\n[sink]\nkind=\"stdout\"",
            "[allow]\nsources=[]\nmailslots=[]\n[limits]\nmax_message=70000\n[sink]\nkind=\"stdout\"",
            "[allow]\nsources=[]\nmailslots=[]\n[sink]\nkind=\"mailslot\"\nnamespace=\"pipe\"",
        ] {
            assert!(Policy::parse(bad).is_err(), "{bad}");
        }
        let none =
            Policy::parse("[allow]\nsources=[]\nmailslots=[]\n[sink]\nkind=\"stdout\"").unwrap();
        assert!(!none.admits_anything());
    }
}

#[cfg(test)]
mod readme {
    use super::*;

    /// The policy README.md shows is one the relay accepts, and means what it says.
    #[test]
    fn the_readme_example_is_a_valid_policy() {
        let readme = include_str!("../../README.md");
        let section = &readme[readme.find("## Remote mailslots").expect("the section")..];
        let start = section.find("```toml\n").expect("a toml block") + "```toml\n".len();
        let block = &section[start..start + section[start..].find("```").expect("its end")];
        let p = Policy::parse(block).expect("README's policy parses");
        assert!(p.admits_anything());
        assert_eq!(p.limits.max_message, 424);
        assert!(p.mailslots.iter().any(|m| m.matches("pos\\prices")));
        assert!(p
            .sources
            .iter()
            .any(|n| n.contains(Ipv4Addr::new(192, 168, 10, 7))));
        assert_eq!(
            p.sink,
            SinkSpec::Mailslot {
                namespace: "mailslot".into()
            }
        );
    }
}
