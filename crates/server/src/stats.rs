//! Server-wide counters for `srvr`, `stat` and `mntr`.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Stats {
    pub packets_received: AtomicU64,
    pub packets_sent: AtomicU64,
    pub outstanding: AtomicU64,
    /// Authentication requests refused (AuthFailed).
    pub auth_failed: AtomicU64,
    latency_total_us: AtomicU64,
    latency_count: AtomicU64,
    latency_max_us: AtomicU64,
    latency_min_us: AtomicU64,
}

impl Stats {
    pub fn request_done(&self, micros: u64) {
        self.latency_total_us.fetch_add(micros, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_max_us.fetch_max(micros, Ordering::Relaxed);
        let min = self.latency_min_us.load(Ordering::Relaxed);
        if min == 0 || micros < min {
            self.latency_min_us.store(micros.max(1), Ordering::Relaxed);
        }
    }

    /// min/avg/max in milliseconds, as ZooKeeper prints them.
    pub fn latency_ms(&self) -> (f64, f64, f64) {
        let count = self.latency_count.load(Ordering::Relaxed);
        let avg = if count == 0 {
            0.0
        } else {
            self.latency_total_us.load(Ordering::Relaxed) as f64 / count as f64 / 1000.0
        };
        (
            self.latency_min_us.load(Ordering::Relaxed) as f64 / 1000.0,
            avg,
            self.latency_max_us.load(Ordering::Relaxed) as f64 / 1000.0,
        )
    }

    pub fn reset(&self) {
        for c in [
            &self.packets_received,
            &self.packets_sent,
            &self.latency_total_us,
            &self.latency_count,
            &self.latency_max_us,
            &self.latency_min_us,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }

    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}
