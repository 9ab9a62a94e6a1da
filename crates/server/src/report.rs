//! What the operators' surfaces report about the server, gathered in one place: the
//! four-letter words (srvr, stat, mntr), the AdminServer (server_stats, stats,
//! monitor) and /metrics each take a `ServerReport` or a `MonitorReport` from here
//! and only format it.
//!
//! `ServerReport` is what srvr needs and stays cheap to gather; `MonitorReport` adds
//! what mntr and /metrics show besides, which scans the watch tables and reads /proc.
//! Each reads a lock-guarded part of the server once and lets go at once: the tree's
//! lock holds up the log's apply step.

mod version;

use corral_consensus::{RaftStatus, Role};

use crate::state::ServerState;
use crate::telemetry::StatCounts;

pub use version::version_line;

/// srvr's numbers, and the AdminServer's server_stats.
pub struct ServerReport {
    pub version: String,
    /// srvr's `Mode:`; `looking` while this server serves no one.
    pub mode: &'static str,
    pub stats: StatCounts,
    pub last_zxid: i64,
    pub nodes: u64,
    pub ephemerals: u64,
    /// Bytes of znode paths and data, ZooKeeper's `approximateDataSize`.
    pub data_size: u64,
    pub connections: u64,
    /// Connections of read-only sessions, which live on this server alone (mntr's
    /// `zk_local_sessions`).
    pub read_only_connections: u64,
    /// Of the log entries this server wrote, in bytes: the last, the smallest, the
    /// largest; on the leader, ZooKeeper's proposal sizes.
    pub proposal_sizes: ProposalSizes,
    pub data_dir_bytes: u64,
    pub log_dir_bytes: u64,
    pub uptime_ms: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct ProposalSizes {
    pub last: u64,
    pub min: u64,
    pub max: u64,
}

/// mntr's gauges and /metrics's: the server report, and this server's place in the
/// ensemble, its log, its watches, sessions and file descriptors.
pub struct MonitorReport {
    pub server: ServerReport,
    pub role: Role,
    /// The consensus layer says this server can serve clients.
    pub serving: bool,
    pub leads: bool,
    /// On the leader: followers and observers in contact, the voting followers among
    /// them, the observers; zero elsewhere.
    pub followers: u64,
    pub synced_followers: u64,
    pub observers: u64,
    pub voters: u64,
    /// Since this server took its current role.
    pub role_uptime_ms: u64,
    /// On the leader: the ids of the other servers of the ensemble, which its
    /// per-learner summaries are kept for.
    pub learners: Vec<u64>,
    pub raft: RaftStatus,
    pub watches: u64,
    pub global_sessions: u64,
    pub open_fds: u64,
    pub max_fds: u64,
    /// The connection throttle's random drop probability.
    pub connection_drop_probability: f64,
}

impl ServerReport {
    pub fn gather(state: &ServerState) -> ServerReport {
        let stats = state.telemetry.stats.counts();
        let (last_zxid, nodes, ephemerals, data_size) = {
            let tree = state.tree().read();
            (
                tree.last_zxid(),
                tree.node_count() as u64,
                tree.ephemeral_count() as u64,
                tree.approximate_data_size(),
            )
        };
        let (connections, read_only_connections) = {
            let conns = state.hub.conns();
            let read_only = conns.values().filter(|c| c.read_only).count();
            (conns.len() as u64, read_only as u64)
        };
        let (last, min, max) = state.consensus.proposal_sizes();
        let (data_dir_bytes, log_dir_bytes) = dir_sizes(state);
        ServerReport {
            version: version_line(),
            mode: mode(state).unwrap_or("looking"),
            stats,
            last_zxid,
            nodes,
            ephemerals,
            data_size,
            connections,
            read_only_connections,
            proposal_sizes: ProposalSizes { last, min, max },
            data_dir_bytes,
            log_dir_bytes,
            uptime_ms: state.started.elapsed().as_millis() as u64,
        }
    }
}

impl MonitorReport {
    pub fn gather(state: &ServerState) -> MonitorReport {
        let server = ServerReport::gather(state);
        let status = state.consensus.status().borrow().clone();
        let leads = status.role == Role::Leader;
        let learners = if leads {
            let me = state.config.my_id;
            let ids = state.config.servers.iter().map(|p| p.id);
            ids.filter(|id| *id != me).collect()
        } else {
            Vec::new()
        };
        let (_, _, watches) = state.hub.watches().summary();
        let (open_fds, max_fds) = file_descriptors();
        MonitorReport {
            server,
            role: status.role,
            serving: status.serving,
            leads,
            followers: status.followers as u64,
            synced_followers: status.synced_followers as u64,
            observers: (status.followers - status.synced_followers) as u64,
            voters: status.voters as u64,
            role_uptime_ms: status.since.elapsed().as_millis() as u64,
            learners,
            raft: state.consensus.metrics(),
            watches: watches as u64,
            global_sessions: state.hub.sessions().count() as u64,
            open_fds,
            max_fds,
            connection_drop_probability: state.limits.drop_probability(),
        }
    }
}

/// The `Mode:` of srvr and `zk_server_state` of mntr; `None` while the server serves
/// no one (in an ensemble without a quorum, read-only mode off).
pub fn mode(state: &ServerState) -> Option<&'static str> {
    if crate::quorum::read_only(state) {
        return Some("read-only");
    }
    if !crate::quorum::serving(state) {
        return None;
    }
    Some(state.consensus.status().borrow().role.mode())
}

/// Bytes under the snapshot and log directories, as ZooKeeper's `dirs` reports them.
pub fn dir_sizes(state: &ServerState) -> (u64, u64) {
    fn size(dir: &std::path::Path) -> u64 {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| e.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }
    let c = &state.config;
    (
        size(&c.data_dir.join("snapshots")),
        size(&c.log_dir().join("log")),
    )
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
