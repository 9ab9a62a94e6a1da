//! ZooKeeper's summaries, kept in atomics so that recording a value takes no lock:
//! `AvgMinMaxCounter` (count, sum, min, max) and `AvgMinMaxPercentileCounter`, which
//! adds p50/p95/p99/p999.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// count, sum, min and max of the values recorded (ZooKeeper's `AvgMinMaxCounter`).
pub struct Summary {
    count: AtomicU64,
    sum: AtomicU64,
    min: AtomicU64,
    max: AtomicU64,
}

impl Default for Summary {
    fn default() -> Summary {
        Summary {
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            min: AtomicU64::new(u64::MAX),
            max: AtomicU64::new(0),
        }
    }
}

impl Summary {
    pub fn add(&self, v: u64) {
        self.count.fetch_add(1, Relaxed);
        self.sum.fetch_add(v, Relaxed);
        self.min.fetch_min(v, Relaxed);
        self.max.fetch_max(v, Relaxed);
    }

    pub fn reset(&self) {
        self.count.store(0, Relaxed);
        self.sum.store(0, Relaxed);
        self.min.store(u64::MAX, Relaxed);
        self.max.store(0, Relaxed);
    }

    /// ZooKeeper's five values, in its order: avg (a double rounded to 4 places, as
    /// `getAvg` does), min, max, cnt, sum; min and max are 0 while empty.
    pub fn values(&self) -> [String; 5] {
        let count = self.count.load(Relaxed);
        let sum = self.sum.load(Relaxed);
        let min = match self.min.load(Relaxed) {
            u64::MAX => 0,
            m => m,
        };
        let avg = if count == 0 {
            0.0
        } else {
            (sum as f64 / count as f64 * 10_000.0).round() / 10_000.0
        };
        [
            java_double(avg),
            min.to_string(),
            self.max.load(Relaxed).to_string(),
            count.to_string(),
            sum.to_string(),
        ]
    }
}

/// Java's `Double.toString`: "0.0", "6.625", "375.0"; scientific ("1.0E7") outside
/// [10^-3, 10^7). mntr parsers see the same shapes as from ZooKeeper.
pub fn java_double(v: f64) -> String {
    if v == 0.0 {
        return "0.0".into();
    }
    let a = v.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{v:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exp}")
}

/// Buckets of the percentile histogram: values below 8 exactly, above that four
/// buckets per power of two (so a percentile is at most 25% above the true value).
const BUCKETS: usize = 8 + 61 * 4;

fn bucket(v: u64) -> usize {
    if v < 8 {
        return v as usize;
    }
    let e = 63 - v.leading_zeros() as usize; // 3..=63
    let sub = ((v >> (e - 2)) & 3) as usize;
    8 + (e - 3) * 4 + sub
}

/// The largest value bucket `i` holds.
fn bucket_top(i: usize) -> u64 {
    if i < 8 {
        return i as u64;
    }
    let e = (i - 8) / 4 + 3;
    let sub = ((i - 8) % 4) as u64;
    let low = (4 + sub) << (e - 2);
    low.saturating_add((1u64 << (e - 2)) - 1)
}

/// A `Summary` plus percentiles (ZooKeeper's `AvgMinMaxPercentileCounter`, which takes
/// them from a sample of the values; here they come from a log-scale histogram).
pub struct Percentile {
    summary: Summary,
    buckets: Box<[AtomicU64]>,
}

impl Default for Percentile {
    fn default() -> Percentile {
        Percentile {
            summary: Summary::default(),
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Percentile {
    pub fn add(&self, v: u64) {
        self.summary.add(v);
        self.buckets[bucket(v)].fetch_add(1, Relaxed);
    }

    pub fn reset(&self) {
        self.summary.reset();
        for b in self.buckets.iter() {
            b.store(0, Relaxed);
        }
    }

    /// The summary's five values, then p50, p95, p99 and p999 (0 while empty).
    pub fn values(&self) -> [String; 9] {
        let [avg, min, max, cnt, sum] = self.summary.values();
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        let max_v = self.summary.max.load(Relaxed);
        let at = |q: f64| -> String {
            if total == 0 {
                return "0".into();
            }
            let rank = ((total as f64 * q).ceil() as u64).max(1);
            let mut seen = 0;
            for (i, c) in counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return bucket_top(i).min(max_v).to_string();
                }
            }
            max_v.to_string()
        };
        [
            avg,
            min,
            max,
            cnt,
            sum,
            at(0.5),
            at(0.95),
            at(0.99),
            at(0.999),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_java_does() {
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(375.0), "375.0");
        assert_eq!(java_double(6.625), "6.625");
        assert_eq!(java_double(0.1071), "0.1071");
        assert_eq!(java_double(12_345_678.0), "1.2345678E7");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(0.0001), "1.0E-4");
    }

    #[test]
    fn buckets_cover_every_value() {
        for v in [0u64, 1, 7, 8, 9, 15, 16, 17, 100, 1 << 40, u64::MAX] {
            let b = bucket(v);
            assert!(b < BUCKETS);
            assert!(bucket_top(b) >= v, "{v}");
            assert!(b == 0 || bucket_top(b - 1) < v, "{v}");
        }
    }

    #[test]
    fn summary_values() {
        let s = Percentile::default();
        assert_eq!(s.values()[..6], ["0.0", "0", "0", "0", "0", "0"]);
        for v in [1, 2, 3, 100] {
            s.add(v);
        }
        let v = s.values();
        assert_eq!(v[..5], ["26.5", "1", "100", "4", "106"]);
        assert_eq!(v[5], "2");
        assert_eq!(v[8], "100");
    }
}
