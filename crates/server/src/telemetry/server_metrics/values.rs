//! The values of `ServerMetrics` that Corral records, and how each is recorded.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use corral_consensus::Measure;

use super::namespaces::{java_len, top_namespace, Namespaces};
use super::summary::{Percentile, Summary};

/// What Corral measures. Every other metric of `order::ORDER` prints as zero.
#[derive(Default)]
pub struct ServerMetrics {
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
    /// The limits acting (`crate::limits`): what ZooKeeper counts under these names.
    pub sessionless_connections_expired: AtomicU64,
    pub large_requests_rejected: AtomicU64,
    pub request_throttle_waits: AtomicU64,
    pub stale_requests_dropped: AtomicU64,
    /// Connections cut because they did not read what they were sent.
    pub connections_dropped: AtomicU64,
    pub looking: AtomicU64,
    pub sessions_expired: AtomicU64,
    pub proposals: AtomicU64,
    pub commits: AtomicU64,
    pub learner_proposals: AtomicU64,
    pub learner_commits: AtomicU64,
    pub(super) reads: Namespaces,
    pub(super) writes: Namespaces,
}

impl ServerMetrics {
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
}
