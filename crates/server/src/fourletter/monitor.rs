//! mntr: ZooKeeper's gauges in its order, then its `ServerMetrics`, then Corral's own.

use std::sync::atomic::Ordering;

use corral_consensus::Role;

use super::version::version_line;
use crate::state::ServerState;
use crate::stats::Stats;

/// One mntr line: key, value, and where it is shown: 'a'll, 'q'uorum members, 'l'eader.
type Row = (&'static str, String, char);

pub(super) fn monitor(state: &ServerState, mode: &str) -> String {
    monitor_values(state, mode)
        .into_iter()
        .map(|(k, v)| format!("{k}\t{v}\n"))
        .collect()
}

/// mntr's keys and values: ZooKeeper's server gauges in the order ZooKeeper 3.8 prints
/// them (quorum and leader keys where it puts them), then its `ServerMetrics`
/// (`crate::mntr`, docs/mntr.md), then Corral's own keys.
pub(crate) fn monitor_values(
    state: &ServerState,
    mode: &str,
) -> Vec<(std::borrow::Cow<'static, str>, String)> {
    let r = Readings::of(state);
    // Corral's own keys, after all of ZooKeeper's.
    let raft = state.consensus.metrics();
    let n = |v: u64| v.to_string();
    let extras: Vec<Row> = vec![
        // ZooKeeper 3.4's name, which ClickHouse Keeper's dashboards still read.
        ("zk_followers", n(r.followers), 'l'),
        ("corral_raft_term", n(raft.term), 'a'),
        ("corral_raft_last_log_index", n(raft.last_log_index), 'a'),
        ("corral_raft_commit_index", n(raft.committed_index), 'a'),
        ("corral_raft_applied_index", n(raft.applied_index), 'a'),
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
    let mut out = shown(zookeeper_rows(state, mode, &r));
    // A leader keeps per-learner summaries for the servers it replicates to.
    let learners: Vec<u64> = if r.leads {
        let me = state.config.my_id;
        state
            .config
            .servers
            .iter()
            .map(|p| p.id)
            .filter(|id| *id != me)
            .collect()
    } else {
        Vec::new()
    };
    crate::mntr::get().dump(&learners, &mut out);
    out.extend(shown(extras));
    out
}

/// Open file descriptors of this process and its limit, from /proc.
fn file_descriptors() -> (u64, u64) {
    let open = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64);
    let max = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse().ok())
        })
        .unwrap_or(0);
    (open, max)
}

/// What mntr reads from the server's parts before it formats a line.
struct Readings {
    min: f64,
    avg: f64,
    max: f64,
    ephemerals: u64,
    nodes: u64,
    data_size: u64,
    watch_count: u64,
    leads: bool,
    last_size: u64,
    min_size: u64,
    max_size: u64,
    conn_count: u64,
    local_sessions: u64,
    open_fds: u64,
    max_fds: u64,
    peer_state: &'static str,
    followers: u64,
    synced_followers: u64,
    observers: u64,
    voters: u64,
    leader_uptime_ms: u64,
}

impl Readings {
    fn of(state: &ServerState) -> Readings {
        let (min, avg, max) = state.stats.latency_ms();
        // Read what is needed and let go: the tree's lock holds up the log's apply step.
        let (ephemerals, nodes, data_size) = {
            let tree = state.tree().read();
            (
                tree.ephemeral_count() as u64,
                tree.node_count() as u64,
                tree.approximate_data_size(),
            )
        };
        let (_, _, watch_count) = state.hub.watches().summary();
        let status = state.consensus.status().borrow().clone();
        let (last_size, min_size, max_size) = corral_consensus::proposal_sizes();
        let (conn_count, local_sessions) = {
            let conns = state.hub.conns();
            (conns.len(), conns.values().filter(|c| c.read_only).count())
        };
        let (open_fds, max_fds) = file_descriptors();
        let peer_state = match status.role {
            Role::Leader => "leading - broadcast",
            Role::Follower => "following - broadcast",
            Role::Observer => "observing - broadcast",
            _ => "looking - election",
        };
        Readings {
            min,
            avg,
            max,
            ephemerals,
            nodes,
            data_size,
            watch_count: watch_count as u64,
            leads: status.role == Role::Leader,
            last_size,
            min_size,
            max_size,
            conn_count: conn_count as u64,
            local_sessions: local_sessions as u64,
            open_fds,
            max_fds,
            peer_state,
            followers: status.followers as u64,
            synced_followers: status.synced_followers as u64,
            observers: (status.followers - status.synced_followers) as u64,
            voters: status.voters as u64,
            leader_uptime_ms: status.since.elapsed().as_millis() as u64,
        }
    }
}

/// ZooKeeper's server gauges, in the order ZooKeeper 3.8 prints them.
fn zookeeper_rows(state: &ServerState, mode: &str, r: &Readings) -> Vec<Row> {
    let n = |v: u64| v.to_string();
    vec![
        ("zk_version", version_line(), 'a'),
        ("zk_server_state", mode.to_string(), 'a'),
        ("zk_peer_state", r.peer_state.to_string(), 'q'),
        ("zk_ephemerals_count", n(r.ephemerals), 'a'),
        ("zk_num_alive_connections", n(r.conn_count), 'a'),
        ("zk_avg_latency", format!("{:.4}", r.avg), 'a'),
        ("zk_min_proposal_size", n(r.min_size), 'l'),
        (
            "zk_outstanding_requests",
            n(state.stats.outstanding.load(Ordering::Relaxed)),
            'a',
        ),
        ("zk_znode_count", n(r.nodes), 'a'),
        (
            "zk_global_sessions",
            n(state.hub.sessions().count() as u64),
            'a',
        ),
        ("zk_non_mtls_remote_conn_count", n(0), 'a'),
        ("zk_last_client_response_size", "-1".into(), 'a'),
        (
            "zk_packets_sent",
            n(Stats::get(&state.stats.packets_sent)),
            'a',
        ),
        (
            "zk_packets_received",
            n(Stats::get(&state.stats.packets_received)),
            'a',
        ),
        ("zk_max_proposal_size", n(r.max_size), 'l'),
        ("zk_max_client_response_size", "-1".into(), 'a'),
        ("zk_synced_followers", n(r.synced_followers), 'l'),
        ("zk_connection_drop_probability", "0.0".into(), 'a'),
        ("zk_watch_count", n(r.watch_count), 'a'),
        ("zk_synced_non_voting_followers", n(0), 'l'),
        ("zk_synced_observers", n(r.observers), 'l'),
        (
            "zk_auth_failed_count",
            n(Stats::get(&state.stats.auth_failed)),
            'a',
        ),
        ("zk_min_latency", n(r.min.round() as u64), 'a'),
        ("zk_max_file_descriptor_count", n(r.max_fds), 'a'),
        ("zk_approximate_data_size", n(r.data_size), 'a'),
        ("zk_open_file_descriptor_count", n(r.open_fds), 'a'),
        ("zk_last_proposal_size", n(r.last_size), 'l'),
        ("zk_pending_syncs", n(0), 'l'),
        ("zk_leader_uptime", n(r.leader_uptime_ms), 'l'),
        ("zk_local_sessions", n(r.local_sessions), 'a'),
        (
            "zk_uptime",
            n(state.started.elapsed().as_millis() as u64),
            'a',
        ),
        ("zk_max_latency", n(r.max.round() as u64), 'a'),
        ("zk_outstanding_tls_handshake", n(0), 'a'),
        ("zk_learners", n(r.followers), 'l'),
        ("zk_min_client_response_size", "-1".into(), 'a'),
        ("zk_non_mtls_local_conn_count", n(0), 'a'),
        ("zk_quorum_size", n(r.voters), 'q'),
    ]
}
