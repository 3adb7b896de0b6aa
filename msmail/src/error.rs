//! Why bytes are not a packet, or a value cannot be built.

use core::fmt;

/// What is wrong, and where: every refusal of the parsers and constructors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The bytes end before the field named.
    Truncated(&'static str),
    /// Bytes follow the end of the packet its length fields describe.
    Trailing,
    /// A length or offset field disagrees with the bytes (the field named).
    Length(&'static str),
    /// A field holds a value the specifications do not allow (the field named).
    Field(&'static str),
    /// A message type this crate does not know.
    MessageType(u8),
    /// A NetBIOS name or scope that cannot be encoded or is not encoded as RFC 1001 says.
    Name(&'static str),
    /// A mailslot name that is not `\MAILSLOT\` followed by a name.
    MailslotName(&'static str),
    /// More than the format's length fields can describe.
    TooLong(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated(what) => write!(f, "truncated: the bytes end before {what}"),
            Error::Trailing => f.write_str("bytes follow the end of the packet"),
            Error::Length(what) => write!(f, "{what} disagrees with the bytes"),
            Error::Field(what) => write!(f, "{what} holds a value the protocol does not allow"),
            Error::MessageType(t) => write!(f, "unknown datagram message type {t:#04x}"),
            Error::Name(why) => write!(f, "bad NetBIOS name: {why}"),
            Error::MailslotName(why) => write!(f, "bad mailslot name: {why}"),
            Error::TooLong(what) => write!(f, "{what} is longer than its length field allows"),
        }
    }
}

/// A short name of the error's kind, for counters ("refused, by reason").
impl Error {
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Truncated(_) => "truncated",
            Error::Trailing => "trailing-bytes",
            Error::Length(_) => "bad-length",
            Error::Field(_) => "bad-field",
            Error::MessageType(_) => "unknown-type",
            Error::Name(_) => "bad-netbios-name",
            Error::MailslotName(_) => "bad-mailslot-name",
            Error::TooLong(_) => "too-long",
        }
    }
}

/// A cursor over bytes that reads fields in network or little-endian order and names the
/// field it could not read.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Error> {
        if self.bytes.len() < n {
            return Err(Error::Truncated(what));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, Error> {
        match self.take(1, what)? {
            [b] => Ok(*b),
            _ => Err(Error::Truncated(what)),
        }
    }

    pub(crate) fn be16(&mut self, what: &'static str) -> Result<u16, Error> {
        match self.take(2, what)? {
            [a, b] => Ok(u16::from_be_bytes([*a, *b])),
            _ => Err(Error::Truncated(what)),
        }
    }

    pub(crate) fn le16(&mut self, what: &'static str) -> Result<u16, Error> {
        match self.take(2, what)? {
            [a, b] => Ok(u16::from_le_bytes([*a, *b])),
            _ => Err(Error::Truncated(what)),
        }
    }

    pub(crate) fn le32(&mut self, what: &'static str) -> Result<u32, Error> {
        match self.take(4, what)? {
            [a, b, c, d] => Ok(u32::from_le_bytes([*a, *b, *c, *d])),
            _ => Err(Error::Truncated(what)),
        }
    }

    pub(crate) fn array4(&mut self, what: &'static str) -> Result<[u8; 4], Error> {
        match self.take(4, what)? {
            [a, b, c, d] => Ok([*a, *b, *c, *d]),
            _ => Err(Error::Truncated(what)),
        }
    }
}
