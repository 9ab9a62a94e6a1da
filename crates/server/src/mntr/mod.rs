//! ZooKeeper 3.8's `ServerMetrics` as `mntr` and the AdminServer's `monitor` print
//! them after the server gauges: 47 counters, 41 summaries and 23 percentile
//! summaries in a fixed order (`order`), then the summary sets keyed by namespace
//! (first path component) and, on a leader, by learner id, in Java hash-map order
//! (`chm`). This module owns those values for the process, like ZooKeeper's
//! `ServerMetrics` singleton.
//!
//! Values are Corral's own measurements where Corral does the same thing (request
//! latencies, fsync and snapshot times, bytes, connections, watch triggers, per-
//! namespace bytes, elections, expired sessions). Metrics of ZooKeeper machinery that
//! Corral does not have (its request-processor pipeline, the JVM, Netty, throttling,
//! TLS, DIFF/SNAP learner sync) stay at zero, which is true for Corral. Which is which
//! is the table in docs/mntr.md. Recording is atomics only; a namespace seen for the
//! first time takes a write lock once.

mod chm;
mod order;
mod summary;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{LazyLock, RwLock};

pub use summary::{Percentile, Summary};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Summary,
    Percentile,
}

/// What Corral measures. Every other metric of `order::ORDER` prints as zero.
#[derive(Default)]
pub struct Metrics {
    pub read_latency: Percentile,
    pub update_latency: Percentile,
    pub fsync_ms: Summary,
    pub snapshot_ms: Summary,
    pub election_ms: Summary,
    pub db_init_ms: Summary,
    pub node_created_watch: Summary,
    pub node_deleted_watch: Summary,
    pub node_changed_watch: Summary,
    pub node_children_watch: Summary,
    pub bytes_received: AtomicU64,
    pub response_bytes: AtomicU64,
    pub watch_bytes: AtomicU64,
    pub connection_requests: AtomicU64,
    pub connection_rejected: AtomicU64,
    pub looking: AtomicU64,
    pub sessions_expired: AtomicU64,
    pub reads: Namespaces,
    pub writes: Namespaces,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::default);

pub fn get() -> &'static Metrics {
    &METRICS
}

/// ZooKeeper's `PathUtils.getTopNamespace`: the first component; none for "/".
fn top_namespace(path: &str) -> Option<&str> {
    path.strip_prefix('/')?
        .split('/')
        .next()
        .filter(|ns| !ns.is_empty())
}

/// Java's `String.length()`, which ZooKeeper adds to the byte counts.
fn java_len(s: &str) -> u64 {
    s.chars().map(|c| c.len_utf16() as u64).sum()
}

/// A summary set keyed by namespace (`read_per_namespace`, `write_per_namespace`).
/// Like ZooKeeper's, it grows by one entry per top-level name ever used.
#[derive(Default)]
pub struct Namespaces {
    inner: RwLock<NamespaceSet>,
}

#[derive(Default)]
struct NamespaceSet {
    index: HashMap<String, usize>,
    /// In first-seen order, which the Java map's iteration order depends on.
    keys: Vec<String>,
    summaries: Vec<Summary>,
}

impl Namespaces {
    fn add(&self, namespace: &str, v: u64) {
        {
            let set = self.inner.read().unwrap_or_else(|p| p.into_inner());
            if let Some(&i) = set.index.get(namespace) {
                set.summaries[i].add(v);
                return;
            }
        }
        let mut set = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let i = match set.index.get(namespace) {
            Some(&i) => i,
            None => {
                let i = set.keys.len();
                set.index.insert(namespace.to_string(), i);
                set.keys.push(namespace.to_string());
                set.summaries.push(Summary::default());
                i
            }
        };
        set.summaries[i].add(v);
    }

    fn reset(&self) {
        let set = self.inner.read().unwrap_or_else(|p| p.into_inner());
        for s in &set.summaries {
            s.reset();
        }
    }

    /// (namespace, its five values) in ZooKeeper's order.
    fn values(&self) -> Vec<(String, [String; 5])> {
        let set = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let keys: Vec<&str> = set.keys.iter().map(String::as_str).collect();
        chm::order(&keys)
            .into_iter()
            .filter_map(|k| {
                let i = *set.index.get(k)?;
                Some((k.to_string(), set.summaries[i].values()))
            })
            .collect()
    }
}

impl Metrics {
    /// A read answered from the tree (getData, getChildren, exists of a node that
    /// is there): ZooKeeper's `updateReadStat`, path length + bytes + 68 for the Stat.
    pub fn read(&self, path: &str, bytes: u64) {
        if let Some(ns) = top_namespace(path) {
            self.reads.add(ns, java_len(path) + bytes + 68);
        }
    }

    /// A znode created, deleted (bytes 0) or set, as applied to this server's tree:
    /// ZooKeeper's `updateWriteStat`, path length + data bytes.
    pub fn write(&self, path: &str, bytes: u64) {
        if let Some(ns) = top_namespace(path) {
            self.writes.add(ns, java_len(path) + bytes);
        }
    }

    /// srst: ZooKeeper's `ServerStats.reset` calls `ServerMetrics.resetAll`, which
    /// zeroes counters and summaries but keeps the keys.
    pub fn reset(&self) {
        for p in [&self.read_latency, &self.update_latency] {
            p.reset();
        }
        for s in self.summaries() {
            s.reset();
        }
        for c in self.counters() {
            c.store(0, Relaxed);
        }
        self.reads.reset();
        self.writes.reset();
    }

    fn summaries(&self) -> [&Summary; 8] {
        [
            &self.fsync_ms,
            &self.snapshot_ms,
            &self.election_ms,
            &self.db_init_ms,
            &self.node_created_watch,
            &self.node_deleted_watch,
            &self.node_changed_watch,
            &self.node_children_watch,
        ]
    }

    fn counters(&self) -> [&AtomicU64; 7] {
        [
            &self.bytes_received,
            &self.response_bytes,
            &self.watch_bytes,
            &self.connection_requests,
            &self.connection_rejected,
            &self.looking,
            &self.sessions_expired,
        ]
    }

    fn counter(&self, name: &str) -> Option<&AtomicU64> {
        Some(match name {
            "bytes_received_count" => &self.bytes_received,
            "response_bytes" => &self.response_bytes,
            "watch_bytes" => &self.watch_bytes,
            "connection_request_count" => &self.connection_requests,
            "connection_rejected" => &self.connection_rejected,
            "looking_count" => &self.looking,
            "stale_sessions_expired" => &self.sessions_expired,
            _ => return None,
        })
    }

    fn summary(&self, name: &str) -> Option<&Summary> {
        Some(match name {
            "fsynctime" => &self.fsync_ms,
            "snapshottime" => &self.snapshot_ms,
            "election_time" => &self.election_ms,
            "dbinittime" => &self.db_init_ms,
            "node_created_watch_count" => &self.node_created_watch,
            "node_deleted_watch_count" => &self.node_deleted_watch,
            "node_changed_watch_count" => &self.node_changed_watch,
            "node_children_watch_count" => &self.node_children_watch,
            _ => return None,
        })
    }

    fn percentile(&self, name: &str) -> Option<&Percentile> {
        match name {
            "readlatency" => Some(&self.read_latency),
            "updatelatency" => Some(&self.update_latency),
            _ => None,
        }
    }

    /// Appends ZooKeeper's metrics, `zk_`-prefixed, in its order. `learners`: on the
    /// leader, the ids of the servers it replicates to.
    pub fn dump(&self, learners: &[u64], out: &mut Vec<(Cow<'static, str>, String)>) {
        const SUMMARY: [&str; 5] = ["avg", "min", "max", "cnt", "sum"];
        const PERCENTILE: [&str; 9] = [
            "avg", "min", "max", "cnt", "sum", "p50", "p95", "p99", "p999",
        ];
        let empty = Summary::default().values();
        let empty_p = Percentile::default().values();
        let mut push = |prefixes: &[&str], name: &str, values: &[String]| {
            if let (true, Some(v)) = (prefixes.is_empty(), values.first()) {
                out.push((format!("zk_{name}").into(), v.clone()));
            }
            for (p, v) in prefixes.iter().zip(values) {
                out.push((format!("zk_{p}_{name}").into(), v.clone()));
            }
        };
        for &(name, kind) in order::ORDER {
            match kind {
                Kind::Counter => {
                    let v = self.counter(name).map_or(0, |c| c.load(Relaxed));
                    push(&[], name, &[v.to_string()]);
                }
                Kind::Summary => match self.summary(name) {
                    Some(s) => push(&SUMMARY, name, &s.values()),
                    None => push(&SUMMARY, name, &empty),
                },
                Kind::Percentile => match self.percentile(name) {
                    Some(p) => push(&PERCENTILE, name, &p.values()),
                    None => push(&PERCENTILE, name, &empty_p),
                },
            }
        }
        // The summary sets, in the order of ZooKeeper's two set maps (basic, then
        // percentile; printed by scripts/mntr-order.java). Corral has no per-learner
        // packet queue (openraft replicates without one), so a learner's
        // learner_handler_qp_* summaries hold no samples.
        let ids: Vec<String> = learners.iter().map(u64::to_string).collect();
        let ids: Vec<&str> = chm::order(&ids.iter().map(String::as_str).collect::<Vec<_>>());
        for id in &ids {
            push(&SUMMARY, &format!("{id}_learner_handler_qp_size"), &empty);
        }
        for (set, name) in [
            (&self.reads, "read_per_namespace"),
            (&self.writes, "write_per_namespace"),
        ] {
            for (ns, values) in set.values() {
                push(&SUMMARY, &format!("{ns}_{name}"), &values);
            }
        }
        for id in &ids {
            push(
                &PERCENTILE,
                &format!("{id}_learner_handler_qp_time_ms"),
                &empty_p,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_first_components() {
        assert_eq!(top_namespace("/"), None);
        assert_eq!(top_namespace("/ops"), Some("ops"));
        assert_eq!(top_namespace("/ops/a/b"), Some("ops"));
        assert_eq!(java_len("/é"), 2);
    }

    #[test]
    fn dump_has_zookeepers_shape() {
        let m = Metrics::default();
        // As on a server of an ensemble: the config node is written at start.
        m.write("/zookeeper/config", 186);
        m.write("/ops-leader/a", 1);
        m.read("/ops-leader", 0);
        m.read("/", 0);
        let mut out = Vec::new();
        m.dump(&[1, 2], &mut out);
        // 47 counters, 41 * 5 + 23 * 9 summary lines, 2 learners * 14, 3 namespaces * 5.
        assert_eq!(out.len(), 47 + 41 * 5 + 23 * 9 + 2 * 14 + 3 * 5);
        assert_eq!(out[0].0, "zk_proposal_count");
        let keys: Vec<&str> = out.iter().map(|(k, _)| k.as_ref()).collect();
        let at = |k: &str| keys.iter().position(|x| *x == k).unwrap_or(usize::MAX);
        assert!(
            at("zk_avg_2_learner_handler_qp_size") < at("zk_avg_ops-leader_read_per_namespace")
        );
        assert!(
            at("zk_avg_zookeeper_write_per_namespace")
                < at("zk_avg_ops-leader_write_per_namespace")
        );
        assert_eq!(keys.last(), Some(&"zk_p999_2_learner_handler_qp_time_ms"));
        let v = |k: &str| out[at(k)].1.as_str();
        assert_eq!(v("zk_sum_ops-leader_write_per_namespace"), "14");
        assert_eq!(v("zk_sum_ops-leader_read_per_namespace"), "79");
    }
}
