//! Every value the codec can build emits bytes that parse back to it, and no input makes a
//! parser panic or accept bytes past the packet.

use std::net::Ipv4Addr;

use msmail::{
    Class, Datagram, DatagramKind, ErrorCode, Header, MailslotName, MailslotWrite, NetbiosName,
    NodeType, QueryKind, Scope,
};
use proptest::prelude::*;

fn node() -> impl Strategy<Value = NodeType> {
    prop_oneof![
        Just(NodeType::B),
        Just(NodeType::P),
        Just(NodeType::M),
        Just(NodeType::Nbdd)
    ]
}

fn header() -> impl Strategy<Value = Header> {
    (
        node(),
        any::<bool>(),
        any::<bool>(),
        any::<u16>(),
        any::<u32>(),
        any::<u16>(),
    )
        .prop_map(|(node, first, more, id, ip, port)| Header {
            node,
            first,
            more,
            id,
            source_ip: Ipv4Addr::from(ip),
            source_port: port,
        })
}

fn scope() -> impl Strategy<Value = Scope> {
    prop::collection::vec("[a-zA-Z0-9_-]{1,20}", 0..4)
        .prop_map(|labels| Scope::new(&labels.join(".")).expect("short labels"))
}

fn name() -> impl Strategy<Value = NetbiosName> {
    (any::<[u8; 16]>(), scope()).prop_map(|(raw, s)| NetbiosName::from_raw(raw).with_scope(s))
}

fn datagram() -> impl Strategy<Value = Datagram> {
    prop_oneof![
        (
            prop_oneof![
                Just(DatagramKind::DirectUnique),
                Just(DatagramKind::DirectGroup),
                Just(DatagramKind::Broadcast)
            ],
            header(),
            any::<u16>(),
            name(),
            name(),
            prop::collection::vec(any::<u8>(), 0..600)
        )
            .prop_map(|(kind, header, offset, source, destination, data)| {
                Datagram::Data {
                    kind,
                    header,
                    offset,
                    source,
                    destination,
                    data,
                }
            }),
        (
            header(),
            prop_oneof![
                Just(ErrorCode::DestinationNameNotPresent),
                Just(ErrorCode::InvalidSourceNameFormat),
                Just(ErrorCode::InvalidDestinationNameFormat)
            ]
        )
            .prop_map(|(header, code)| Datagram::Error { header, code }),
        (
            prop_oneof![
                Just(QueryKind::Request),
                Just(QueryKind::PositiveResponse),
                Just(QueryKind::NegativeResponse)
            ],
            header(),
            name()
        )
            .prop_map(|(kind, header, destination)| Datagram::Query {
                kind,
                header,
                destination
            }),
    ]
}

fn write() -> impl Strategy<Value = MailslotWrite> {
    (
        "[ -~]{1,40}",
        any::<u16>(),
        any::<bool>(),
        any::<u32>(),
        prop::collection::vec(any::<u8>(), 0..2000),
    )
        .prop_map(|(rel, priority, second, timeout, data)| {
            MailslotWrite::new(MailslotName::from_relative(&rel).expect("printable"), data)
                .expect("fits")
                .with_priority(priority)
                .with_class(if second { Class::Second } else { Class::First })
                .with_timeout(timeout)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_datagram_emitted_parses_back(d in datagram()) {
        let bytes = d.emit().expect("short enough");
        prop_assert_eq!(Datagram::parse(&bytes), Ok(d));
        // No shorter or longer run of bytes is the same packet.
        prop_assert!(Datagram::parse(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        prop_assert!(Datagram::parse(&longer).is_err());
    }

    #[test]
    fn a_mailslot_write_emitted_parses_back(w in write()) {
        let bytes = w.emit();
        prop_assert_eq!(MailslotWrite::parse(&bytes), Ok(w));
        prop_assert!(MailslotWrite::parse(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn a_write_inside_a_datagram(w in write(), h in header(), a in name(), b in name()) {
        let h = Header { first: true, more: false, ..h };
        let d = Datagram::whole(DatagramKind::DirectUnique, h, a, b, w.emit()).expect("fits");
        let Datagram::Data { data, .. } = Datagram::parse(&d.emit().expect("fits")).expect("parses") else {
            panic!("not a data datagram");
        };
        prop_assert_eq!(MailslotWrite::parse(&data), Ok(w));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..700)) {
        if let Ok(d) = Datagram::parse(&bytes) {
            // What parses is exactly what it emits: nothing was skipped or invented.
            prop_assert_eq!(d.emit().expect("parsed, so it fits"), bytes.clone());
        }
        let _ = MailslotWrite::parse(&bytes);
    }

    #[test]
    fn mutated_packets_never_panic(w in write(), at in any::<prop::sample::Index>(), v in any::<u8>()) {
        let mut bytes = w.emit();
        let i = at.index(bytes.len());
        bytes[i] = v;
        let _ = MailslotWrite::parse(&bytes);
    }
}
