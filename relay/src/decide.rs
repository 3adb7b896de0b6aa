//! The decision for one received datagram, in the order that costs an attacker most and the
//! relay least: the UDP source (not the datagram's own source field, which the sender writes
//! freely) must be in an allowed network; it must be within its rate; the bytes must be one
//! whole direct or broadcast datagram (fragments are refused: MS-MAIL has no segmentation)
//! addressed to an allowed name, carrying one well-formed class 2 mailslot write to an allowed
//! mailslot, no larger than the limit. Only then is it delivered, whole.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use msmail::{Class, Datagram, MailslotName, MailslotWrite};

use crate::counters::Counters;
use crate::policy::Policy;
use crate::rate::RateTable;

/// A message the policy admits, for its sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admitted {
    /// The UDP source.
    pub from: SocketAddr,
    pub mailslot: MailslotName,
    pub data: Vec<u8>,
    /// The datagram's source and destination NetBIOS names, as shown (`NAME<xx>`).
    pub source_name: String,
    pub destination_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Deliver(Admitted),
    /// Refused, with the reason counted.
    Refuse(String),
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
                self.counters.refuse(&reason);
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

    fn check(&mut self, peer: SocketAddr, bytes: &[u8], now: Instant) -> Result<Admitted, String> {
        let allowed = match peer.ip() {
            IpAddr::V4(ip) => self.policy.sources.iter().any(|n| n.contains(ip)),
            IpAddr::V6(_) => false,
        };
        if !allowed {
            return Err("source-not-allowed".into());
        }
        if !self.rate.admit(peer.ip(), now) {
            return Err("rate-limited".into());
        }
        let d = Datagram::parse(bytes).map_err(|e| format!("malformed:{}", e.reason()))?;
        let Datagram::Data {
            source,
            destination,
            data,
            ..
        } = &d
        else {
            return Err("not-a-data-datagram".into());
        };
        if !d.is_whole() {
            return Err("fragment".into());
        }
        if let Some(names) = &self.policy.destinations {
            let to = destination.text().to_ascii_uppercase();
            if !names.contains(&to) {
                return Err("destination-not-allowed".into());
            }
        }
        let w =
            MailslotWrite::parse(data).map_err(|e| format!("malformed-write:{}", e.reason()))?;
        if w.class() != Class::Second {
            return Err("not-class-2".into());
        }
        if !self
            .policy
            .mailslots
            .iter()
            .any(|p| p.matches(w.name().relative()))
        {
            return Err("mailslot-not-allowed".into());
        }
        if w.data().len() > self.policy.limits.max_message {
            return Err("too-large".into());
        }
        Ok(Admitted {
            from: peer,
            mailslot: w.name().clone(),
            source_name: source.to_string(),
            destination_name: destination.to_string(),
            data: w.into_data(),
        })
    }
}
