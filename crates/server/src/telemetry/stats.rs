//! ZooKeeper's `ServerStats`: the packet counts, requests outstanding, refused
//! authentications and request latency that `srvr`, `stat` and `mntr` print.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Default)]
pub struct ServerStats {
    packets_received: AtomicU64,
    packets_sent: AtomicU64,
    outstanding: AtomicU64,
    /// Authentication requests refused (AuthFailed).
    auth_failed: AtomicU64,
    latency_total_us: AtomicU64,
    latency_count: AtomicU64,
    latency_max_us: AtomicU64,
    latency_min_us: AtomicU64,
}

/// The counts at one moment, as the reports read them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatCounts {
    pub packets_received: u64,
    pub packets_sent: u64,
    pub outstanding: u64,
    pub auth_failed: u64,
    /// Request latency in milliseconds, as ZooKeeper prints it: min, avg, max.
    pub latency_ms: (f64, f64, f64),
}

impl ServerStats {
    pub(super) fn packet_received(&self) {
        self.packets_received.fetch_add(1, Relaxed);
    }

    pub(super) fn packets_sent(&self, n: u64) {
        self.packets_sent.fetch_add(n, Relaxed);
    }

    pub(super) fn queued(&self) {
        self.outstanding.fetch_add(1, Relaxed);
    }

    pub(super) fn unqueued(&self, n: u64) {
        self.outstanding.fetch_sub(n, Relaxed);
    }

    pub(super) fn auth_failed(&self) {
        self.auth_failed.fetch_add(1, Relaxed);
    }

    pub(super) fn request_done(&self, micros: u64) {
        self.latency_total_us.fetch_add(micros, Relaxed);
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_max_us.fetch_max(micros, Relaxed);
        let min = self.latency_min_us.load(Relaxed);
        if min == 0 || micros < min {
            self.latency_min_us.store(micros.max(1), Relaxed);
        }
    }

    /// Requests in process on this server now: read, not yet answered.
    pub fn outstanding(&self) -> u64 {
        self.outstanding.load(Relaxed)
    }

    pub fn counts(&self) -> StatCounts {
        let count = self.latency_count.load(Relaxed);
        let avg = if count == 0 {
            0.0
        } else {
            self.latency_total_us.load(Relaxed) as f64 / count as f64 / 1000.0
        };
        StatCounts {
            packets_received: self.packets_received.load(Relaxed),
            packets_sent: self.packets_sent.load(Relaxed),
            outstanding: self.outstanding.load(Relaxed),
            auth_failed: self.auth_failed.load(Relaxed),
            latency_ms: (
                self.latency_min_us.load(Relaxed) as f64 / 1000.0,
                avg,
                self.latency_max_us.load(Relaxed) as f64 / 1000.0,
            ),
        }
    }

    /// srst: the packet counts and latencies start again. Requests still outstanding
    /// stay counted: they are answered later and counted out then.
    pub(super) fn reset(&self) {
        for c in [
            &self.packets_received,
            &self.packets_sent,
            &self.latency_total_us,
            &self.latency_count,
            &self.latency_max_us,
            &self.latency_min_us,
        ] {
            c.store(0, Relaxed);
        }
    }
}
