//! NetBIOS names as the datagram service carries them: 16 bytes (up to 15 characters padded
//! with spaces, then a suffix byte naming the service), first-level encoded as 32 letters
//! `A`..`P` (each half-byte plus `A`) behind a length byte of 32, followed by the scope's
//! labels, each behind its length, and a zero byte [RFC 1001] 14.1, [RFC 1002] 4.1. The whole
//! encoded name is at most 255 bytes; the datagram service never compresses names, so a label
//! length with its top bits set is refused.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error::{Error, Reader};

/// The bytes of a NetBIOS name: 15 characters and the suffix.
pub const NAME_BYTES: usize = 16;
/// The first-level encoded 16 bytes.
const ENCODED_BYTES: u8 = 32;
/// The longest encoded name, scope and terminator included [RFC 1002] 4.1.
pub const MAX_ENCODED: usize = 255;
/// The longest scope label (a domain name label, [RFC 1001] 14.1).
const MAX_LABEL: usize = 63;

/// A NetBIOS scope: the labels of a domain name (none for the usual empty scope), each 1 to
/// 63 printable ASCII bytes other than `.`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scope {
    labels: Vec<Vec<u8>>,
}

impl Scope {
    /// The empty scope, which almost every network uses.
    pub fn none() -> Scope {
        Scope::default()
    }

    /// The scope a dotted domain name gives ("" is the empty scope).
    pub fn new(dotted: &str) -> Result<Scope, Error> {
        if dotted.is_empty() {
            return Ok(Scope::none());
        }
        let labels = dotted
            .split('.')
            .map(|l| check_label(l.as_bytes()).map(<[u8]>::to_vec))
            .collect::<Result<Vec<_>, _>>()?;
        let scope = Scope { labels };
        if scope.encoded_len() > MAX_ENCODED.saturating_sub(34) {
            return Err(Error::Name(
                "the scope makes the name longer than 255 bytes",
            ));
        }
        Ok(scope)
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The labels' encoded length (each behind its length byte), without the terminator.
    fn encoded_len(&self) -> usize {
        self.labels
            .iter()
            .fold(0usize, |n, l| n.saturating_add(l.len()).saturating_add(1))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, label) in self.labels.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            for &b in label {
                write!(f, "{}", char::from(b))?;
            }
        }
        Ok(())
    }
}

fn check_label(label: &[u8]) -> Result<&[u8], Error> {
    if label.is_empty() || label.len() > MAX_LABEL {
        return Err(Error::Name(
            "a scope label is empty or longer than 63 bytes",
        ));
    }
    if !label
        .iter()
        .all(|&b| (0x21..=0x7E).contains(&b) && b != b'.')
    {
        return Err(Error::Name(
            "a scope label holds a byte that is not printable ASCII",
        ));
    }
    Ok(label)
}

/// A NetBIOS name with its scope.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NetbiosName {
    bytes: [u8; NAME_BYTES],
    scope: Scope,
}

impl NetbiosName {
    /// The name `name` (1 to 15 printable ASCII characters, upper-cased as NetBIOS names are
    /// compared) for the service `suffix` (0x00 a workstation, 0x1D a master browser, ...).
    /// `*` alone is the wildcard name ([`NetbiosName::wildcard`]), not a name with a suffix.
    pub fn new(name: &str, suffix: u8) -> Result<NetbiosName, Error> {
        let raw = name.as_bytes();
        if raw.is_empty() || raw.len() >= NAME_BYTES {
            return Err(Error::Name("a name has 1 to 15 characters"));
        }
        if !raw.iter().all(|&b| (0x20..=0x7E).contains(&b)) || raw.first() == Some(&b' ') {
            return Err(Error::Name(
                "a name is printable ASCII and does not start with a space",
            ));
        }
        if raw.first() == Some(&b'*') {
            return Err(Error::Name("a name starting with * is the wildcard"));
        }
        let mut bytes = [b' '; NAME_BYTES];
        for (d, s) in bytes.iter_mut().zip(raw) {
            *d = s.to_ascii_uppercase();
        }
        if let Some(last) = bytes.last_mut() {
            *last = suffix;
        }
        Ok(NetbiosName {
            bytes,
            scope: Scope::none(),
        })
    }

    /// The wildcard name `*` (padded with zero bytes), which every node answers to.
    pub fn wildcard() -> NetbiosName {
        let mut bytes = [0u8; NAME_BYTES];
        bytes[0] = b'*';
        NetbiosName {
            bytes,
            scope: Scope::none(),
        }
    }

    /// The name whose 16 bytes are `bytes`, whatever they are: any 16 bytes encode.
    pub fn from_raw(bytes: [u8; NAME_BYTES]) -> NetbiosName {
        NetbiosName {
            bytes,
            scope: Scope::none(),
        }
    }

    /// This name in `scope` (an encoded name is at most 255 bytes in all, which a valid
    /// [`Scope`] keeps).
    pub fn with_scope(mut self, scope: Scope) -> NetbiosName {
        self.scope = scope;
        self
    }

    pub fn raw(&self) -> &[u8; NAME_BYTES] {
        &self.bytes
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The service byte.
    pub fn suffix(&self) -> u8 {
        self.bytes[NAME_BYTES - 1]
    }

    /// The first 15 bytes without their padding (trailing spaces, or the wildcard's zeros).
    pub fn text(&self) -> String {
        let head = self.bytes.get(..NAME_BYTES - 1).unwrap_or(&[]);
        let end = head
            .iter()
            .rposition(|&b| b != b' ' && b != 0)
            .map_or(0, |i| i.saturating_add(1));
        head.get(..end)
            .unwrap_or(&[])
            .iter()
            .map(|&b| char::from(b))
            .collect()
    }

    /// How many bytes [`NetbiosName::emit`] writes.
    pub fn encoded_len(&self) -> usize {
        34usize.saturating_add(self.scope.encoded_len())
    }

    /// Appends the encoded name to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(ENCODED_BYTES);
        for &b in &self.bytes {
            out.push(b'A'.saturating_add(b >> 4));
            out.push(b'A'.saturating_add(b & 0x0F));
        }
        for label in &self.scope.labels {
            // A valid scope's labels are at most 63 bytes.
            out.push(u8::try_from(label.len()).unwrap_or(0));
            out.extend_from_slice(label);
        }
        out.push(0);
    }

    /// The encoded name at the start of `bytes`, and how many bytes it took.
    pub fn parse(bytes: &[u8]) -> Result<(NetbiosName, usize), Error> {
        let mut r = Reader::new(bytes);
        if r.u8("a name's length")? != ENCODED_BYTES {
            return Err(Error::Name(
                "the first label is not the 32-byte encoded name",
            ));
        }
        let encoded = r.take(usize::from(ENCODED_BYTES), "an encoded name")?;
        let mut raw = [0u8; NAME_BYTES];
        for (b, pair) in raw.iter_mut().zip(encoded.chunks_exact(2)) {
            let half = |c: u8| {
                (b'A'..=b'P')
                    .contains(&c)
                    .then(|| c.wrapping_sub(b'A'))
                    .ok_or(Error::Name("an encoded half-byte is not a letter A to P"))
            };
            match pair {
                [hi, lo] => *b = (half(*hi)? << 4) | half(*lo)?,
                _ => return Err(Error::Truncated("an encoded name")),
            }
        }
        let mut labels = Vec::new();
        let mut used = 33usize;
        loop {
            let len = r.u8("a scope label's length")?;
            used = used.saturating_add(1);
            if len == 0 {
                break;
            }
            if usize::from(len) > MAX_LABEL {
                return Err(Error::Name(
                    "a label length over 63 (datagram names are never compressed)",
                ));
            }
            let label = check_label(r.take(usize::from(len), "a scope label")?)?;
            used = used.saturating_add(label.len());
            if used >= MAX_ENCODED {
                return Err(Error::Name("an encoded name longer than 255 bytes"));
            }
            labels.push(label.to_vec());
        }
        Ok((
            NetbiosName {
                bytes: raw,
                scope: Scope { labels },
            },
            used,
        ))
    }
}

/// `TEXT<xx>` (the suffix in hexadecimal), and `.scope` when there is one: how Wireshark and
/// nmblookup show a name.
impl fmt::Display for NetbiosName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}<{:02x}>", self.text(), self.suffix())?;
        if !self.scope.is_empty() {
            write!(f, ".{}", self.scope)?;
        }
        Ok(())
    }
}

impl fmt::Debug for NetbiosName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NetbiosName({self} {:02x?})", self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn the_encoding_rfc_1001_gives() {
        // RFC 1001 14.1's example: "FRED" with spaces, suffix 0x20 ("FRED            "),
        // encodes as EGFCEFEECACACACACACACACACACACACA.
        let fred = NetbiosName::new("Fred", 0x20).unwrap();
        let mut out = Vec::new();
        fred.emit(&mut out);
        assert_eq!(out[0], 32);
        assert_eq!(&out[1..33], b"EGFCEFEECACACACACACACACACACACACA");
        assert_eq!(out[33], 0);
        assert_eq!(NetbiosName::parse(&out).unwrap(), (fred.clone(), 34));
        assert_eq!(fred.to_string(), "FRED<20>");
        let star = NetbiosName::wildcard();
        out.clear();
        star.emit(&mut out);
        assert_eq!(&out[1..33], b"CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    }

    #[test]
    fn a_scope_follows_as_labels() {
        let n = NetbiosName::new("HOST", 0)
            .unwrap()
            .with_scope(Scope::new("net.example").unwrap());
        let mut out = Vec::new();
        n.emit(&mut out);
        assert_eq!(&out[33..], b"\x03net\x07example\x00");
        assert_eq!(n.encoded_len(), out.len());
        assert_eq!(NetbiosName::parse(&out).unwrap(), (n.clone(), out.len()));
        assert_eq!(n.to_string(), "HOST<00>.net.example");
    }

    #[test]
    fn what_is_not_a_name_is_refused() {
        assert!(NetbiosName::new("", 0).is_err());
        assert!(NetbiosName::new("SIXTEEN-LETTERS!", 0).is_err());
        assert!(NetbiosName::new("*", 0).is_err());
        assert!(NetbiosName::new("t\u{e9}", 0).is_err());
        assert!(Scope::new("a..b").is_err());
        assert!(Scope::new(&"x".repeat(64)).is_err());
        let mut good = Vec::new();
        NetbiosName::new("A", 0).unwrap().emit(&mut good);
        for (i, bad) in [0u8, 31, 33].into_iter().enumerate() {
            let mut b = good.clone();
            b[0] = bad;
            assert!(NetbiosName::parse(&b).is_err(), "{i}");
        }
        let mut b = good.clone();
        b[5] = b'Q';
        assert!(NetbiosName::parse(&b).is_err(), "a letter past P");
        let mut b = good.clone();
        b[33] = 0xC0;
        b.push(12);
        assert!(NetbiosName::parse(&b).is_err(), "a compression pointer");
        assert!(NetbiosName::parse(&good[..20]).is_err());
        assert!(NetbiosName::parse(&good[..33]).is_err(), "no terminator");
        // 255 bytes at most, even when the labels are each valid.
        let mut long = good[..33].to_vec();
        for _ in 0..4 {
            long.push(63);
            long.extend_from_slice(&[b'x'; 63]);
        }
        long.push(0);
        assert!(NetbiosName::parse(&long).is_err());
        assert!(Scope::new(&vec!["y".repeat(63); 4].join(".")).is_err());
    }
}
