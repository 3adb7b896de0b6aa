//! A token bucket per source address: each source may send `burst` datagrams at once and
//! `per_second` more every second. The table tracks at most `max_sources` sources; a new one
//! past that replaces the one seen longest ago, so a flood from many addresses costs bounded
//! memory (and the policy's source networks bound who can be in it at all).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use crate::policy::Limits;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

#[derive(Debug)]
pub struct RateTable {
    per_second: f64,
    burst: f64,
    max_sources: usize,
    buckets: HashMap<IpAddr, Bucket>,
}

impl RateTable {
    pub fn new(limits: &Limits) -> RateTable {
        RateTable {
            per_second: f64::from(limits.per_second),
            burst: f64::from(limits.burst),
            max_sources: limits.max_sources,
            buckets: HashMap::new(),
        }
    }

    /// Whether `source` may send one more datagram at `now` (taking a token if so).
    pub fn admit(&mut self, source: IpAddr, now: Instant) -> bool {
        if !self.buckets.contains_key(&source) && self.buckets.len() >= self.max_sources {
            if let Some(oldest) = self
                .buckets
                .iter()
                .min_by_key(|(_, b)| b.last)
                .map(|(ip, _)| *ip)
            {
                self.buckets.remove(&oldest);
            }
        }
        let burst = self.burst;
        let b = self.buckets.entry(source).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_second).min(burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_then_the_rate() {
        let limits = Limits {
            max_message: 424,
            per_second: 10,
            burst: 3,
            max_sources: 2,
        };
        let mut t = RateTable::new(&limits);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        assert!((0..3).all(|_| t.admit(a, t0)));
        assert!(!t.admit(a, t0), "the burst is spent");
        assert!(
            t.admit(a, t0 + Duration::from_millis(100)),
            "one token in 100 ms"
        );
        assert!(!t.admit(a, t0 + Duration::from_millis(110)));
        // Other sources have their own buckets; the table never grows past its bound.
        for i in 2..50u8 {
            assert!(t.admit(IpAddr::from([10, 0, 0, i]), t0));
            assert!(t.tracked() <= 2);
        }
    }
}
