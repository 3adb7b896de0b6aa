//! The decision for one received datagram, in the order that costs an attacker most and the
//! relay least: the UDP source (not the datagram's own source field, which the sender writes
//! freely) must be in an allowed network; it must be within its rate; the bytes must be one
//! whole direct or broadcast datagram (fragments are refused: MS-MAIL has no segmentation)
//! addressed to an allowed name, carrying one well-formed class 2 mailslot write to an allowed
//! mailslot, no larger than the limit. Only then is it delivered, whole.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use msmail::{Class, Datagram, MailslotName, MailslotWrite, NetbiosName};

use crate::counters::Counters;
use crate::policy::Policy;
use crate::rate::RateTable;

/// The counted reason for bytes that are not a datagram (`malformed:...`) or whose datagram
/// does not carry a mailslot write (`malformed-write:...`).
fn malformed(e: msmail::Error, write: bool) -> &'static str {
    match (write, e.reason()) {
        (false, "truncated") => "malformed:truncated",
        (false, "trailing-bytes") => "malformed:trailing-bytes",
        (false, "bad-length") => "malformed:bad-length",
        (false, "bad-field") => "malformed:bad-field",
        (false, "unknown-type") => "malformed:unknown-type",
        (false, "bad-netbios-name") => "malformed:bad-netbios-name",
        (false, _) => "malformed:other",
        (true, "truncated") => "malformed-write:truncated",
        (true, "trailing-bytes") => "malformed-write:trailing-bytes",
        (true, "bad-length") => "malformed-write:bad-length",
        (true, "bad-field") => "malformed-write:bad-field",
        (true, "bad-mailslot-name") => "malformed-write:bad-mailslot-name",
        (true, "too-long") => "malformed-write:too-long",
        (true, _) => "malformed-write:other",
    }
}

/// A message the policy admits, for its sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admitted {
    /// The UDP source.
    pub from: SocketAddr,
    pub mailslot: MailslotName,
    pub data: Vec<u8>,
    /// The datagram's source and destination NetBIOS names (shown as `NAME<xx>`).
    pub source_name: NetbiosName,
    pub destination_name: NetbiosName,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Deliver(Admitted),
    /// Refused, with the reason counted.
    Refuse(&'static str),
}

/// The policy, each source's rate, and the counts.
#[derive(Debug)]
pub struct Relay {
    policy: Policy,
    rate: RateTable,
    counters: Counters,
}

impl Relay {
    pub fn new(policy: Policy) -> Relay {
        Relay {
            rate: RateTable::new(&policy.limits),
            policy,
            counters: Counters::default(),
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Judges one datagram from `peer` received at `now`, counting it as received and, when
    /// refused, by its reason. An admitted one is counted when its sink reports
    /// ([`Relay::delivered`] or [`Relay::undeliverable`]).
    pub fn judge(&mut self, peer: SocketAddr, bytes: &[u8], now: Instant) -> Decision {
        self.counters.received = self.counters.received.saturating_add(1);
        match self.check(peer, bytes, now) {
            Ok(a) => Decision::Deliver(a),
            Err(reason) => {
                self.counters.refuse(reason);
                Decision::Refuse(reason)
            }
        }
    }

    pub fn delivered(&mut self) {
        self.counters.delivered = self.counters.delivered.saturating_add(1);
    }

    /// The sink could not deliver an admitted message (`why`: `no-such-mailslot`, ...).
    pub fn undeliverable(&mut self, why: &str) {
        self.counters.refuse(&format!("undeliverable:{why}"));
    }

    fn check(
        &mut self,
        peer: SocketAddr,
        bytes: &[u8],
        now: Instant,
    ) -> Result<Admitted, &'static str> {
        let allowed = match peer.ip() {
            IpAddr::V4(ip) => self.policy.sources.iter().any(|n| n.contains(ip)),
            IpAddr::V6(_) => false,
        };
        if !allowed {
            return Err("source-not-allowed");
        }
        if !self.rate.admit(peer.ip(), now) {
            return Err("rate-limited");
        }
        let d = Datagram::parse(bytes).map_err(|e| malformed(e, false))?;
        if !d.is_whole() {
            return Err("fragment");
        }
        let Datagram::Data {
            source,
            destination,
            data,
            ..
        } = d
        else {
            return Err("not-a-data-datagram");
        };
        if let Some(names) = &self.policy.destinations {
            let to = destination.text().to_ascii_uppercase();
            if !names.contains(&to) {
                return Err("destination-not-allowed");
            }
        }
        let w = MailslotWrite::parse(&data).map_err(|e| malformed(e, true))?;
        if w.class() != Class::Second {
            return Err("not-class-2");
        }
        if !self
            .policy
            .mailslots
            .iter()
            .any(|p| p.matches(w.name().relative()))
        {
            return Err("mailslot-not-allowed");
        }
        if w.data().len() > self.policy.limits.max_message {
            return Err("too-large");
        }
        let (mailslot, data) = w.into_parts();
        Ok(Admitted {
            from: peer,
            mailslot,
            source_name: source,
            destination_name: destination,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msmail::Error;

    /// Every error a parser can give has a counter of its own.
    #[test]
    fn every_parse_error_is_counted_by_name() {
        let datagram = [
            Error::Truncated("x"),
            Error::Trailing,
            Error::Length("x"),
            Error::Field("x"),
            Error::MessageType(0x17),
            Error::Name("x"),
        ];
        for e in datagram {
            assert!(!malformed(e, false).ends_with(":other"), "{e:?}");
        }
        let write = [
            Error::Truncated("x"),
            Error::Trailing,
            Error::Length("x"),
            Error::Field("x"),
            Error::MailslotName("x"),
            Error::TooLong("x"),
        ];
        for e in write {
            assert!(!malformed(e, true).ends_with(":other"), "{e:?}");
            assert_eq!(
                malformed(e, true).strip_prefix("malformed-write:"),
                Some(e.reason())
            );
        }
    }
}
