//! `Telemetry`: the one value a server records what happens in, from the socket to
//! the log's apply step.

use std::time::Duration;

use corral_jute::OpCode;

use super::prometheus::Prometheus;
use super::server_metrics::ServerMetrics;
use super::stats::ServerStats;

/// What one server has counted and measured since it started (or since `srst`).
/// Created once at start-up; the server state and the hub share it.
pub struct Telemetry {
    /// ZooKeeper's `ServerStats`: srvr, stat and mntr's gauges.
    pub stats: ServerStats,
    /// ZooKeeper's `ServerMetrics`: mntr's tail, recorded directly by the parts that
    /// measure them (elections, watches, expiry, namespaces, the consensus steps).
    pub server_metrics: ServerMetrics,
    /// /metrics's registry; none when no metrics port is configured, so nothing is
    /// recorded that no one can scrape.
    prometheus: Option<Prometheus>,
}

/// A read or write answered, as its reply goes out.
#[derive(Debug, Clone, Copy)]
pub struct Answered {
    pub op: OpCode,
    pub write: bool,
    /// From reading the request to its reply.
    pub took: Duration,
    /// It was still counted outstanding (a connection that ended already counted
    /// out what it had not answered).
    pub was_outstanding: bool,
}

impl Telemetry {
    /// With a Prometheus registry when /metrics is served.
    pub fn new(prometheus: bool) -> Telemetry {
        Telemetry {
            stats: ServerStats::default(),
            server_metrics: ServerMetrics::default(),
            prometheus: prometheus.then(Prometheus::new),
        }
    }

    pub fn prometheus(&self) -> Option<&Prometheus> {
        self.prometheus.as_ref()
    }

    /// A request packet of `len` bytes after its length prefix.
    pub fn packet_received(&self, len: u64) {
        self.stats.packet_received();
        self.bytes_received(len);
    }

    /// Bytes read from a client: ZooKeeper's bytes_received_count takes the length
    /// prefix and the packet.
    pub fn bytes_received(&self, len: u64) {
        self.server_metrics
            .bytes_received
            .fetch_add(4 + len, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn packets_sent(&self, n: u64) {
        self.stats.packets_sent(n);
    }

    /// A read or write is queued for its answer.
    pub fn request_queued(&self) {
        self.stats.queued();
    }

    /// A connection ended with `n` requests it will never answer.
    pub fn requests_dropped(&self, n: u64) {
        self.stats.unqueued(n);
    }

    pub fn auth_failed(&self) {
        self.stats.auth_failed();
    }

    /// A reply of `bytes` going out and, for a read or write, the request it answers:
    /// every count a reply moves, the server's stats, ZooKeeper's metrics and
    /// /metrics's, in this one call.
    pub fn replied(&self, bytes: u64, request: Option<Answered>) {
        use std::sync::atomic::Ordering::Relaxed;
        self.server_metrics.response_bytes.fetch_add(bytes, Relaxed);
        let Some(r) = request else {
            return;
        };
        if r.was_outstanding {
            self.stats.unqueued(1);
        }
        self.stats.request_done(r.took.as_micros() as u64);
        // ZooKeeper's summaries take whole milliseconds, as its clock gives them.
        let whole_ms = r.took.as_millis() as u64;
        if r.write {
            self.server_metrics.update_latency.add(whole_ms);
        } else {
            self.server_metrics.read_latency.add(whole_ms);
        }
        if let Some(p) = &self.prometheus {
            p.request_done(r.op, r.write, r.took);
        }
    }

    pub fn fsync_took(&self, took: Duration) {
        self.server_metrics.fsync_ms.add(took.as_millis() as u64);
        if let Some(p) = &self.prometheus {
            p.fsync_took(took);
        }
    }

    pub fn snapshot_took(&self, took: Duration) {
        self.server_metrics.snapshot_ms.add(took.as_millis() as u64);
        if let Some(p) = &self.prometheus {
            p.snapshot_took(took);
        }
    }

    /// srst: ZooKeeper's `ServerStats.reset`, which also resets all of
    /// `ServerMetrics`. /metrics's counters are Prometheus counters and keep going.
    pub fn reset(&self) {
        self.stats.reset();
        self.server_metrics.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// mntr's ServerMetrics lines that differ from those of a server that has
    /// recorded nothing.
    fn moved(m: &ServerMetrics) -> Vec<String> {
        let lines = |m: &ServerMetrics| {
            let mut out = Vec::new();
            m.dump(&[], &mut out);
            out
        };
        let fresh = lines(&ServerMetrics::default());
        lines(m)
            .into_iter()
            .filter(|line| !fresh.contains(line))
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }

    /// Two servers in one process used to share mntr's counters (a process-wide
    /// `ServerMetrics`) and the Prometheus registry. Each `Telemetry` is its own: what
    /// one records, the other does not see, in any of its three parts.
    #[test]
    fn two_telemetry_values_count_apart() {
        let a = Telemetry::new(true);
        let b = Telemetry::new(true);
        a.packet_received(20);
        a.request_queued();
        a.replied(
            16,
            Some(Answered {
                op: OpCode::Create,
                write: true,
                took: Duration::from_millis(3),
                was_outstanding: true,
            }),
        );
        a.packets_sent(1);
        a.auth_failed();
        a.server_metrics.write("/a", 1);
        a.fsync_took(Duration::from_millis(1));

        let counts = a.stats.counts();
        assert_eq!(
            (
                counts.packets_received,
                counts.packets_sent,
                counts.auth_failed
            ),
            (1, 1, 1)
        );
        assert_eq!(b.stats.counts(), ServerStats::default().counts());
        assert!(moved(&a.server_metrics).contains(&"zk_bytes_received_count=24".to_string()));
        assert_eq!(moved(&b.server_metrics), Vec::<String>::new());

        let scraped = |t: &Telemetry| t.prometheus().map(|p| p.render(|| ())).unwrap_or_default();
        assert!(
            scraped(&a).contains("corral_requests_total"),
            "{}",
            scraped(&a)
        );
        assert!(scraped(&a).contains("fsynctime"), "{}", scraped(&a));
        assert_eq!(scraped(&b), "", "b's registry has recorded nothing");
    }
}
