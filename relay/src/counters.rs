//! What the relay did: every datagram received is either delivered or refused for one reason.

use std::collections::BTreeMap;

use serde::Serialize;

/// The relay's counts, written as one JSON object (`--stats`, and at exit).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    pub received: u64,
    pub delivered: u64,
    /// Refused datagrams by reason (`source-not-allowed`, `rate-limited`, `malformed:...`).
    pub refused: BTreeMap<String, u64>,
}

impl Counters {
    /// Counts one refusal for `reason` (allocating only for a reason seen the first time).
    pub fn refuse(&mut self, reason: &str) {
        match self.refused.get_mut(reason) {
            Some(n) => *n = n.saturating_add(1),
            None => {
                self.refused.insert(reason.to_string(), 1);
            }
        }
    }

    pub fn refused_total(&self) -> u64 {
        self.refused
            .values()
            .fold(0u64, |a, b| a.saturating_add(*b))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}
