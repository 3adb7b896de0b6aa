//! Figures of `--bench`: throughput and latency percentiles, and the table that prints them.

use std::fmt::Write as _;

/// Latency percentiles in nanoseconds (nearest-rank).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Percentiles {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
}

/// Nearest-rank percentile `p` (0 < p <= 100) of sorted samples.
fn rank(sorted: &[u64], p: usize) -> u64 {
    // The smallest sample with at least p% of the samples at or below it.
    let n = sorted.len();
    let idx = (p * n).div_ceil(100).max(1) - 1;
    sorted[idx.min(n - 1)]
}

/// Percentiles of the samples (sorted in place); `None` for no samples.
pub fn percentiles(samples: &mut [u64]) -> Option<Percentiles> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_unstable();
    Some(Percentiles {
        p50: rank(samples, 50),
        p90: rank(samples, 90),
        p99: rank(samples, 99),
        max: rank(samples, 100),
    })
}

/// One benchmark case's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub size: usize,
    pub writers: usize,
    pub messages: u64,
    pub seconds: f64,
    pub latency: Option<Percentiles>,
}

impl Case {
    pub fn messages_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.messages as f64 / self.seconds
        } else {
            0.0
        }
    }

    pub fn mib_per_second(&self) -> f64 {
        self.messages_per_second() * self.size as f64 / (1024.0 * 1024.0)
    }
}

fn micros(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1000.0)
}

/// The benchmark table, one line per case.
pub fn table(namespace: &str, cases: &[Case]) -> String {
    let mut out = format!("benchmark against {namespace}\n");
    let _ = writeln!(
        out,
        "{:>8} {:>7} {:>9} {:>12} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "size", "writers", "messages", "msgs/s", "MiB/s", "p50 us", "p90 us", "p99 us", "max us"
    );
    for c in cases {
        let (p50, p90, p99, max) = match c.latency {
            Some(l) => (micros(l.p50), micros(l.p90), micros(l.p99), micros(l.max)),
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        let _ = writeln!(
            out,
            "{:>8} {:>7} {:>9} {:>12.0} {:>9.1} {:>9} {:>9} {:>9} {:>9}",
            c.size,
            c.writers,
            c.messages,
            c.messages_per_second(),
            c.mib_per_second(),
            p50,
            p90,
            p99,
            max
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<u64> = (1..=100).rev().collect();
        let p = percentiles(&mut v).unwrap();
        assert_eq!(
            p,
            Percentiles {
                p50: 50,
                p90: 90,
                p99: 99,
                max: 100
            }
        );
        let mut one = [7];
        assert_eq!(
            percentiles(&mut one).unwrap(),
            Percentiles {
                p50: 7,
                p90: 7,
                p99: 7,
                max: 7
            }
        );
        let mut few = [5, 1, 3];
        let p = percentiles(&mut few).unwrap();
        assert_eq!((p.p50, p.p90, p.max), (3, 5, 5));
        assert_eq!(percentiles(&mut []), None);
    }

    #[test]
    fn throughput_and_table() {
        let c = Case {
            size: 1024 * 1024,
            writers: 4,
            messages: 200,
            seconds: 2.0,
            latency: Some(Percentiles {
                p50: 1500,
                p90: 2000,
                p99: 9000,
                max: 12000,
            }),
        };
        assert_eq!(c.messages_per_second(), 100.0);
        assert_eq!(c.mib_per_second(), 100.0);
        let t = table("native", &[c]);
        let line = t.lines().nth(2).unwrap();
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            cols,
            ["1048576", "4", "200", "100", "100.0", "1.5", "2.0", "9.0", "12.0"]
        );
        let zero = Case {
            seconds: 0.0,
            latency: None,
            ..table_case()
        };
        assert_eq!(zero.messages_per_second(), 0.0);
        assert!(table("x", &[zero]).lines().nth(2).unwrap().ends_with('-'));
    }

    fn table_case() -> Case {
        Case {
            size: 64,
            writers: 1,
            messages: 1,
            seconds: 1.0,
            latency: None,
        }
    }
}

/// The benchmark figures as JSON (`--bench --json FILE`).
pub fn json(namespace: &str, cases: &[Case]) -> String {
    let mut out = format!(
        "{{\n  \"namespace\": {},\n  \"cases\": [",
        crate::report::json_string(namespace)
    );
    for (i, c) in cases.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        let lat = match c.latency {
            Some(l) => format!(
                "{{\"p50Ns\": {}, \"p90Ns\": {}, \"p99Ns\": {}, \"maxNs\": {}}}",
                l.p50, l.p90, l.p99, l.max
            ),
            None => "null".into(),
        };
        let _ = write!(
            out,
            "    {{\"size\": {}, \"writers\": {}, \"messages\": {}, \"seconds\": {:.6}, \"messagesPerSecond\": {:.1}, \"latency\": {}}}",
            c.size,
            c.writers,
            c.messages,
            c.seconds,
            c.messages_per_second(),
            lat
        );
    }
    out.push_str("\n  ]\n}\n");
    out
}

#[cfg(test)]
mod json_tests {
    use super::*;

    #[test]
    fn bench_json_lists_cases() {
        let c = Case {
            size: 64,
            writers: 4,
            messages: 10,
            seconds: 0.5,
            latency: None,
        };
        let text = json("native", &[c]);
        assert!(text.contains("\"namespace\": \"native\""));
        assert!(text.contains("{\"size\": 64, \"writers\": 4, \"messages\": 10, \"seconds\": 0.500000, \"messagesPerSecond\": 20.0, \"latency\": null}"));
    }
}
