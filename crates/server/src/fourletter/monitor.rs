//! mntr: ZooKeeper's gauges in its order, then its `ServerMetrics`, then Corral's own.

use std::borrow::Cow;

use corral_consensus::Role;

use crate::report::MonitorReport;
use crate::state::ServerState;

/// One mntr line: key, value, and where it is shown: 'a'll, 'q'uorum members, 'l'eader.
type Row = (&'static str, String, char);

pub(super) fn monitor(state: &ServerState) -> String {
    monitor_values(state)
        .into_iter()
        .map(|(k, v)| format!("{k}\t{v}\n"))
        .collect()
}

/// mntr's keys and values: ZooKeeper's server gauges in the order ZooKeeper 3.8 prints
/// them (quorum and leader keys where it puts them), then its `ServerMetrics`
/// (`crate::telemetry`, docs/mntr.md), then Corral's own keys.
pub(crate) fn monitor_values(state: &ServerState) -> Vec<(Cow<'static, str>, String)> {
    let r = MonitorReport::gather(state);
    let n = |v: u64| v.to_string();
    // Corral's own keys, after all of ZooKeeper's.
    let extras: Vec<Row> = vec![
        // ZooKeeper 3.4's name, which ClickHouse Keeper's dashboards still read.
        ("zk_followers", n(r.followers), 'l'),
        ("corral_raft_term", n(r.raft.term), 'a'),
        ("corral_raft_last_log_index", n(r.raft.last_log_index), 'a'),
        ("corral_raft_commit_index", n(r.raft.committed_index), 'a'),
        ("corral_raft_applied_index", n(r.raft.applied_index), 'a'),
    ];
    let shown = |rows: Vec<Row>| {
        rows.into_iter()
            .filter(|(_, _, on)| match on {
                'q' => state.ensemble,
                'l' => r.leads,
                _ => true,
            })
            .map(|(k, v, _)| (k.into(), v))
            .collect::<Vec<_>>()
    };
    let mut out = shown(zookeeper_rows(&r));
    state.telemetry.server_metrics.dump(&r.learners, &mut out);
    out.extend(shown(extras));
    out
}

/// ZooKeeper's server gauges, in the order ZooKeeper 3.8 prints them.
fn zookeeper_rows(r: &MonitorReport) -> Vec<Row> {
    let n = |v: u64| v.to_string();
    let s = &r.server;
    let (min, avg, max) = s.stats.latency_ms;
    let sizes = s.proposal_sizes;
    let peer_state = match r.role {
        Role::Leader => "leading - broadcast",
        Role::Follower => "following - broadcast",
        Role::Observer => "observing - broadcast",
        _ => "looking - election",
    };
    vec![
        ("zk_version", s.version.clone(), 'a'),
        ("zk_server_state", s.mode.to_string(), 'a'),
        ("zk_peer_state", peer_state.to_string(), 'q'),
        ("zk_ephemerals_count", n(s.ephemerals), 'a'),
        ("zk_num_alive_connections", n(s.connections), 'a'),
        ("zk_avg_latency", format!("{avg:.4}"), 'a'),
        ("zk_min_proposal_size", n(sizes.min), 'l'),
        ("zk_outstanding_requests", n(s.stats.outstanding), 'a'),
        ("zk_znode_count", n(s.nodes), 'a'),
        ("zk_global_sessions", n(r.global_sessions), 'a'),
        ("zk_non_mtls_remote_conn_count", n(0), 'a'),
        ("zk_last_client_response_size", "-1".into(), 'a'),
        ("zk_packets_sent", n(s.stats.packets_sent), 'a'),
        ("zk_packets_received", n(s.stats.packets_received), 'a'),
        ("zk_max_proposal_size", n(sizes.max), 'l'),
        ("zk_max_client_response_size", "-1".into(), 'a'),
        ("zk_synced_followers", n(r.synced_followers), 'l'),
        (
            "zk_connection_drop_probability",
            format!("{:?}", r.connection_drop_probability),
            'a',
        ),
        ("zk_watch_count", n(r.watches), 'a'),
        ("zk_synced_non_voting_followers", n(0), 'l'),
        ("zk_synced_observers", n(r.observers), 'l'),
        ("zk_auth_failed_count", n(s.stats.auth_failed), 'a'),
        ("zk_min_latency", n(min.round() as u64), 'a'),
        ("zk_max_file_descriptor_count", n(r.max_fds), 'a'),
        ("zk_approximate_data_size", n(s.data_size), 'a'),
        ("zk_open_file_descriptor_count", n(r.open_fds), 'a'),
        ("zk_last_proposal_size", n(sizes.last), 'l'),
        ("zk_pending_syncs", n(0), 'l'),
        ("zk_leader_uptime", n(r.role_uptime_ms), 'l'),
        ("zk_local_sessions", n(s.read_only_connections), 'a'),
        ("zk_uptime", n(s.uptime_ms), 'a'),
        ("zk_max_latency", n(max.round() as u64), 'a'),
        ("zk_outstanding_tls_handshake", n(0), 'a'),
        ("zk_learners", n(r.followers), 'l'),
        ("zk_min_client_response_size", "-1".into(), 'a'),
        ("zk_non_mtls_local_conn_count", n(0), 'a'),
        ("zk_quorum_size", n(r.voters), 'q'),
    ]
}
