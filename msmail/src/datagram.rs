//! The NetBIOS datagram service's packets [RFC 1002] 4.4: a 10-byte header (message type,
//! flags, datagram ID, source IP address and port, all in network order), then for the three
//! datagrams that carry data the datagram length, the packet offset, the source and
//! destination names and the user data; for an error its code; for a query the destination
//! name. FLAGS holds, from its high bits down, four reserved zero bits, the source's node
//! type (B, P, M or NBDD), the first-fragment flag and the more-fragments flag.
//!
//! The datagram length counts the bytes from the source name to the end of the user data. A
//! packet whose bytes run past what its fields describe, or end before it, is refused.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use crate::error::{Error, Reader};
use crate::name::NetbiosName;

/// The source's node type (FLAGS bits 2-3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeType {
    B = 0,
    P = 1,
    M = 2,
    /// A NetBIOS datagram distribution server.
    Nbdd = 3,
}

impl NodeType {
    fn from_bits(bits: u8) -> NodeType {
        match bits & 3 {
            0 => NodeType::B,
            1 => NodeType::P,
            2 => NodeType::M,
            _ => NodeType::Nbdd,
        }
    }
}

/// The fields every datagram service packet starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    pub node: NodeType,
    /// This is the first fragment of a datagram (F).
    pub first: bool,
    /// More fragments follow (M).
    pub more: bool,
    pub id: u16,
    /// The source address the sender writes; a receiver that cares who sent a packet looks at
    /// the UDP source instead, which the sender cannot choose as freely.
    pub source_ip: Ipv4Addr,
    pub source_port: u16,
}

/// Which of the three datagrams that carry data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DatagramKind {
    /// To one node's unique name (0x10).
    DirectUnique = 0x10,
    /// To every node that has a group name (0x11).
    DirectGroup = 0x11,
    /// To every node (0x12).
    Broadcast = 0x12,
}

/// DATAGRAM ERROR's codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    DestinationNameNotPresent = 0x82,
    InvalidSourceNameFormat = 0x83,
    InvalidDestinationNameFormat = 0x84,
}

/// The three datagram query packets an NBDD exchanges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QueryKind {
    Request = 0x14,
    PositiveResponse = 0x15,
    NegativeResponse = 0x16,
}

/// One datagram service packet.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Datagram {
    /// A direct unique, direct group or broadcast datagram. `offset` is the fragment's offset
    /// in the whole datagram's user data (0 and `first` without `more` for one in one piece).
    Data {
        kind: DatagramKind,
        header: Header,
        offset: u16,
        source: NetbiosName,
        destination: NetbiosName,
        data: Vec<u8>,
    },
    Error {
        header: Header,
        code: ErrorCode,
    },
    Query {
        kind: QueryKind,
        header: Header,
        destination: NetbiosName,
    },
}

const MSG_DIRECT_UNIQUE: u8 = 0x10;
const MSG_DIRECT_GROUP: u8 = 0x11;
const MSG_BROADCAST: u8 = 0x12;
const MSG_ERROR: u8 = 0x13;
const MSG_QUERY_REQUEST: u8 = 0x14;
const MSG_POSITIVE_RESPONSE: u8 = 0x15;
const MSG_NEGATIVE_RESPONSE: u8 = 0x16;
const FLAG_MORE: u8 = 0x01;
const FLAG_FIRST: u8 = 0x02;
const FLAGS_RESERVED: u8 = 0xF0;

impl Datagram {
    /// A datagram in one piece, as a mailslot write is sent (MS-MAIL has no segmentation):
    /// `header` must say first fragment and no more (else an error), and the offset is 0.
    /// Fails too when the names and data are longer than the datagram length field counts.
    pub fn whole(
        kind: DatagramKind,
        header: Header,
        source: NetbiosName,
        destination: NetbiosName,
        data: Vec<u8>,
    ) -> Result<Datagram, Error> {
        if !header.first || header.more {
            return Err(Error::Field("the flags of a whole datagram"));
        }
        let d = Datagram::Data {
            kind,
            header,
            offset: 0,
            source,
            destination,
            data,
        };
        d.data_length()?;
        Ok(d)
    }

    pub fn header(&self) -> &Header {
        match self {
            Datagram::Data { header, .. }
            | Datagram::Error { header, .. }
            | Datagram::Query { header, .. } => header,
        }
    }

    /// Whether this is a whole datagram (not a fragment of one).
    pub fn is_whole(&self) -> bool {
        match self {
            Datagram::Data { header, offset, .. } => header.first && !header.more && *offset == 0,
            _ => true,
        }
    }

    /// DGM_LENGTH of a data datagram: its names and data.
    fn data_length(&self) -> Result<u16, Error> {
        match self {
            Datagram::Data {
                source,
                destination,
                data,
                ..
            } => u16::try_from(
                source
                    .encoded_len()
                    .saturating_add(destination.encoded_len())
                    .saturating_add(data.len()),
            )
            .map_err(|_| Error::TooLong("a datagram's names and data")),
            _ => Ok(0),
        }
    }

    /// The packet's bytes. Fails only for a data datagram too long for its length field
    /// (which [`Datagram::whole`] refuses to build).
    pub fn emit(&self) -> Result<Vec<u8>, Error> {
        let length = self.data_length()?;
        let h = self.header();
        let mut out = Vec::new();
        out.push(match self {
            Datagram::Data { kind, .. } => *kind as u8,
            Datagram::Error { .. } => MSG_ERROR,
            Datagram::Query { kind, .. } => *kind as u8,
        });
        let mut flags = (h.node as u8) << 2;
        if h.first {
            flags |= FLAG_FIRST;
        }
        if h.more {
            flags |= FLAG_MORE;
        }
        out.push(flags);
        out.extend_from_slice(&h.id.to_be_bytes());
        out.extend_from_slice(&h.source_ip.octets());
        out.extend_from_slice(&h.source_port.to_be_bytes());
        match self {
            Datagram::Data {
                offset,
                source,
                destination,
                data,
                ..
            } => {
                out.extend_from_slice(&length.to_be_bytes());
                out.extend_from_slice(&offset.to_be_bytes());
                source.emit(&mut out);
                destination.emit(&mut out);
                out.extend_from_slice(data);
            }
            Datagram::Error { code, .. } => out.push(*code as u8),
            Datagram::Query { destination, .. } => destination.emit(&mut out),
        }
        Ok(out)
    }

    /// The packet `bytes` hold, all of them.
    pub fn parse(bytes: &[u8]) -> Result<Datagram, Error> {
        let mut r = Reader::new(bytes);
        let msg_type = r.u8("the message type")?;
        let flags = r.u8("the flags")?;
        if flags & FLAGS_RESERVED != 0 {
            return Err(Error::Field("the flags' reserved bits"));
        }
        let header = Header {
            node: NodeType::from_bits(flags >> 2),
            first: flags & FLAG_FIRST != 0,
            more: flags & FLAG_MORE != 0,
            id: r.be16("the datagram ID")?,
            source_ip: Ipv4Addr::from(r.array4("the source IP")?),
            source_port: r.be16("the source port")?,
        };
        let d = match msg_type {
            MSG_DIRECT_UNIQUE | MSG_DIRECT_GROUP | MSG_BROADCAST => {
                let kind = match msg_type {
                    MSG_DIRECT_UNIQUE => DatagramKind::DirectUnique,
                    MSG_DIRECT_GROUP => DatagramKind::DirectGroup,
                    _ => DatagramKind::Broadcast,
                };
                let length = usize::from(r.be16("the datagram length")?);
                let offset = r.be16("the packet offset")?;
                let body = r.rest();
                if body.len() != length {
                    return Err(if body.len() < length {
                        Error::Length("the datagram length (past the packet's end)")
                    } else {
                        Error::Trailing
                    });
                }
                let (source, used) = NetbiosName::parse(body)?;
                let body = body
                    .get(used..)
                    .ok_or(Error::Truncated("the destination name"))?;
                let (destination, used) = NetbiosName::parse(body)?;
                let data = body.get(used..).ok_or(Error::Truncated("the user data"))?;
                return Ok(Datagram::Data {
                    kind,
                    header,
                    offset,
                    source,
                    destination,
                    data: data.to_vec(),
                });
            }
            MSG_ERROR => {
                let code = match r.u8("the error code")? {
                    0x82 => ErrorCode::DestinationNameNotPresent,
                    0x83 => ErrorCode::InvalidSourceNameFormat,
                    0x84 => ErrorCode::InvalidDestinationNameFormat,
                    _ => return Err(Error::Field("the error code")),
                };
                Datagram::Error { header, code }
            }
            MSG_QUERY_REQUEST | MSG_POSITIVE_RESPONSE | MSG_NEGATIVE_RESPONSE => {
                let kind = match msg_type {
                    MSG_QUERY_REQUEST => QueryKind::Request,
                    MSG_POSITIVE_RESPONSE => QueryKind::PositiveResponse,
                    _ => QueryKind::NegativeResponse,
                };
                let (destination, used) = NetbiosName::parse(r.rest())?;
                r.take(used, "the destination name")?;
                Datagram::Query {
                    kind,
                    header,
                    destination,
                }
            }
            other => return Err(Error::MessageType(other)),
        };
        if !r.rest().is_empty() {
            return Err(Error::Trailing);
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn sample() -> Datagram {
        Datagram::whole(
            DatagramKind::DirectGroup,
            Header {
                node: NodeType::B,
                first: true,
                more: false,
                id: 0x1234,
                source_ip: Ipv4Addr::new(127, 0, 0, 1),
                source_port: 138,
            },
            NetbiosName::new("SENDER", 0).unwrap(),
            NetbiosName::new("WORKGROUP", 0x1D).unwrap(),
            b"user data".to_vec(),
        )
        .unwrap()
    }

    #[test]
    fn a_datagram_is_its_header_its_names_and_its_data() {
        let d = sample();
        let bytes = d.emit().unwrap();
        assert_eq!(bytes[0], 0x11);
        assert_eq!(bytes[1], 0x02, "B node, first fragment, no more");
        assert_eq!(&bytes[2..4], &[0x12, 0x34]);
        assert_eq!(&bytes[4..8], &[127, 0, 0, 1]);
        assert_eq!(&bytes[8..10], &[0, 138]);
        assert_eq!(u16::from_be_bytes([bytes[10], bytes[11]]), 34 + 34 + 9);
        assert_eq!(&bytes[12..14], &[0, 0]);
        assert_eq!(bytes.len(), 14 + 34 + 34 + 9);
        assert_eq!(Datagram::parse(&bytes), Ok(d));
    }

    #[test]
    fn lying_lengths_and_trailing_bytes_are_refused() {
        let bytes = sample().emit().unwrap();
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Datagram::parse(&longer), Err(Error::Trailing));
        assert!(matches!(
            Datagram::parse(&bytes[..bytes.len() - 1]),
            Err(Error::Length(_))
        ));
        let mut reserved = bytes.clone();
        reserved[1] |= 0x80;
        assert!(matches!(Datagram::parse(&reserved), Err(Error::Field(_))));
        let mut unknown = bytes.clone();
        unknown[0] = 0x17;
        assert_eq!(Datagram::parse(&unknown), Err(Error::MessageType(0x17)));
        for n in 0..14 {
            assert!(Datagram::parse(&bytes[..n]).is_err(), "{n} bytes");
        }
    }

    #[test]
    fn errors_and_queries() {
        let header = Header {
            node: NodeType::Nbdd,
            first: false,
            more: false,
            id: 7,
            source_ip: Ipv4Addr::new(10, 0, 0, 1),
            source_port: 138,
        };
        let e = Datagram::Error {
            header,
            code: ErrorCode::DestinationNameNotPresent,
        };
        let bytes = e.emit().unwrap();
        assert_eq!(bytes, vec![0x13, 0x0C, 0, 7, 10, 0, 0, 1, 0, 138, 0x82]);
        assert_eq!(Datagram::parse(&bytes), Ok(e));
        let q = Datagram::Query {
            kind: QueryKind::Request,
            header,
            destination: NetbiosName::wildcard(),
        };
        let bytes = q.emit().unwrap();
        assert_eq!(bytes.len(), 10 + 34);
        assert_eq!(Datagram::parse(&bytes), Ok(q));
        let mut bad = bytes.clone();
        bad.truncate(10);
        bad.push(0x99);
        assert!(Datagram::parse(&[0x13, 0x0C, 0, 7, 10, 0, 0, 1, 0, 138, 0x81]).is_err());
        assert!(Datagram::parse(&bad).is_err());
    }
}
