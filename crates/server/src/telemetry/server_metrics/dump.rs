//! `mntr`'s tail: every metric of ZooKeeper's `ServerMetrics`, `zk_`-prefixed, in
//! ZooKeeper's order, with the values Corral records and zero for the rest.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::chm;
use super::order::{self, Kind};
use super::summary::{Percentile, Summary};
use super::values::ServerMetrics;

impl ServerMetrics {
    fn counter(&self, name: &str) -> Option<&AtomicU64> {
        Some(match name {
            "bytes_received_count" => &self.bytes_received,
            "response_bytes" => &self.response_bytes,
            "watch_bytes" => &self.watch_bytes,
            "connection_request_count" => &self.connection_requests,
            "connection_rejected" => &self.connection_rejected,
            "sessionless_connections_expired" => &self.sessionless_connections_expired,
            "large_requests_rejected" => &self.large_requests_rejected,
            "request_throttle_wait_count" => &self.request_throttle_waits,
            "stale_requests_dropped" => &self.stale_requests_dropped,
            "connection_drop_count" => &self.connections_dropped,
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
    fn dump_has_zookeepers_shape() {
        let m = ServerMetrics::default();
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
