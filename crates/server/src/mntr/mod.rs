//! ZooKeeper 3.8's `ServerMetrics` as `mntr` and the AdminServer's `monitor` print
//! them after the server gauges: 47 counters, 41 summaries and 23 percentile
//! summaries in a fixed order (`order`), then the summary sets keyed by namespace
//! (first path component) and, on a leader, by learner id, in Java hash-map order
//! (`chm`). This module owns those values for the process, like ZooKeeper's
//! `ServerMetrics` singleton.
//!
//! Values are Corral's own measurements where Corral does the same thing (request
//! latencies, fsync and snapshot times, bytes, connections, watch triggers, per-
//! namespace bytes, elections, expired sessions, unavailable time, and the proposal,
//! ack and commit steps the consensus layer reports through `measured`). Metrics of ZooKeeper machinery that
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

use corral_consensus::Measure;

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
    pub local_write_committed_ms: Percentile,
    pub server_write_committed_ms: Percentile,
    pub quorum_ack_latency: Percentile,
    pub commit_propagation_latency: Percentile,
    pub proposal_ack_creation_latency: Percentile,
    pub proposal_latency: Percentile,
    pub propagation_latency: Percentile,
    pub proposal_process_ms: Summary,
    pub unavailable_ms: Summary,
    pub leader_unavailable_ms: Summary,
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
    pub proposals: AtomicU64,
    pub commits: AtomicU64,
    pub learner_proposals: AtomicU64,
    pub learner_commits: AtomicU64,
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

    /// A step of the consensus path (docs/mntr.md says which ZooKeeper metric each
    /// is). Times are whole milliseconds, as ZooKeeper's clock gives them.
    pub fn measured(&self, m: Measure) {
        let ms = |d: std::time::Duration| d.as_millis() as u64;
        let stamped = |p: &Percentile, since: Option<u64>| {
            if let Some(v) = since {
                p.add(v);
            }
        };
        match m {
            Measure::Proposed { took } => {
                self.proposals.fetch_add(1, Relaxed);
                self.proposal_process_ms.add(ms(took));
            }
            Measure::Committed { since_proposed } => {
                self.commits.fetch_add(1, Relaxed);
                self.quorum_ack_latency.add(ms(since_proposed));
            }
            Measure::CommitApplied { local: true, took } => {
                self.local_write_committed_ms.add(ms(took))
            }
            Measure::CommitApplied { local: false, took } => {
                self.server_write_committed_ms.add(ms(took))
            }
            Measure::ProposalReceived { since_stamped } => {
                self.learner_proposals.fetch_add(1, Relaxed);
                stamped(&self.proposal_latency, since_stamped);
            }
            Measure::ProposalAcked { since_stamped } => {
                stamped(&self.proposal_ack_creation_latency, since_stamped)
            }
            Measure::CommitReceived { since_stamped } => {
                self.learner_commits.fetch_add(1, Relaxed);
                stamped(&self.commit_propagation_latency, since_stamped);
            }
            Measure::Applied { since_stamped } => stamped(&self.propagation_latency, since_stamped),
        }
    }

    /// srst: ZooKeeper's `ServerStats.reset` calls `ServerMetrics.resetAll`, which
    /// zeroes counters and summaries but keeps the keys.
    pub fn reset(&self) {
        for p in self.percentiles() {
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

    fn percentiles(&self) -> [&Percentile; 9] {
        [
            &self.read_latency,
            &self.update_latency,
            &self.local_write_committed_ms,
            &self.server_write_committed_ms,
            &self.quorum_ack_latency,
            &self.commit_propagation_latency,
            &self.proposal_ack_creation_latency,
            &self.proposal_latency,
            &self.propagation_latency,
        ]
    }

    fn summaries(&self) -> [&Summary; 11] {
        [
            &self.proposal_process_ms,
            &self.unavailable_ms,
            &self.leader_unavailable_ms,
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

    fn counters(&self) -> [&AtomicU64; 11] {
        [
            &self.proposals,
            &self.commits,
            &self.learner_proposals,
            &self.learner_commits,
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
            "proposal_count" => &self.proposals,
            "commit_count" => &self.commits,
            "learner_proposal_received_count" => &self.learner_proposals,
            "learner_commit_received_count" => &self.learner_commits,
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
            "proposal_process_time" => &self.proposal_process_ms,
            "unavailable_time" => &self.unavailable_ms,
            "leader_unavailable_time" => &self.leader_unavailable_ms,
            _ => return None,
        })
    }

    fn percentile(&self, name: &str) -> Option<&Percentile> {
        Some(match name {
            "readlatency" => &self.read_latency,
            "updatelatency" => &self.update_latency,
            "local_write_committed_time_ms" => &self.local_write_committed_ms,
            "server_write_committed_time_ms" => &self.server_write_committed_ms,
            "quorum_ack_latency" => &self.quorum_ack_latency,
            "commit_propagation_latency" => &self.commit_propagation_latency,
            "proposal_ack_creation_latency" => &self.proposal_ack_creation_latency,
            "proposal_latency" => &self.proposal_latency,
            "propagation_latency" => &self.propagation_latency,
            _ => return None,
        })
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
