//! Four-letter words on the client port. A connection whose first four bytes spell a
//! known word gets a plain-text answer and is closed, as in ZooKeeper.
//!
//! The whitelist default differs from ZooKeeper's (`srvr` only): the read-only
//! informational words are on, the words that reset state or dump every watch are
//! off. See docs/operations.md.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use tokio::io::{AsyncReadExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;

use crate::stats::Stats;
use crate::ServerState;

/// ZooKeeper's eighteen words, then four that ClickHouse Keeper's operators use:
/// log info, snapshot now, request leadership, yield leadership (all off by default).
pub const WORDS: &[&str] = &[
    "conf", "cons", "crst", "dump", "envi", "ruok", "srst", "srvr", "stat", "wchs", "wchc", "wchp",
    "dirs", "mntr", "isro", "hash", "gtmk", "stmk", "lgif", "csnp", "rqld", "ydld",
];

const DEFAULT_ON: &[&str] = &[
    "ruok", "srvr", "stat", "mntr", "conf", "envi", "isro", "dirs", "wchs", "cons",
];

/// The ZooKeeper version Corral answers as, for clients that parse it.
pub const ZK_VERSION: &str = "3.9.3";

pub fn version_line() -> String {
    format!(
        "{ZK_VERSION}-corral-{}, built on 1970-01-01 00:00 UTC",
        env!("CARGO_PKG_VERSION")
    )
}

pub fn word(head: &[u8; 4]) -> Option<&'static str> {
    WORDS.iter().copied().find(|w| w.as_bytes() == head)
}

fn allowed(state: &ServerState, word: &str) -> bool {
    match &state.config.four_letter_whitelist {
        None => DEFAULT_ON.contains(&word),
        Some(list) => list.iter().any(|w| w == "*" || w == word),
    }
}

pub async fn answer(state: &ServerState, word: &str, rd: &mut BufReader<OwnedReadHalf>) -> String {
    if !allowed(state, word) {
        return format!("{word} is not executed because it is not in the whitelist.\n");
    }
    let Some(mode) = mode(state) else {
        return match word {
            "ruok" => "imok".to_string(),
            "isro" => "null".to_string(),
            "conf" => configuration(state),
            "envi" => environment(),
            _ => NOT_SERVING.to_string(),
        };
    };
    match word {
        "ruok" => "imok".to_string(),
        "isro" if mode == "read-only" => "ro".to_string(),
        "isro" => "rw".to_string(),
        "srvr" => server_stats(state, mode, false),
        "stat" => server_stats(state, mode, true),
        "mntr" => monitor(state, mode),
        "conf" => configuration(state),
        "envi" => environment(),
        "cons" => connections(state),
        "dirs" => {
            let (data, log) = dir_sizes(state);
            format!("datadir_size: {data}\nlogdir_size: {log}\n")
        }
        "wchs" => {
            let (conns, paths, total) = state.hub.watches().summary();
            format!("{conns} connections watching {paths} paths\nTotal watches:{total}\n")
        }
        "wchc" | "wchp" => watches(state, word == "wchp"),
        "crst" => {
            for c in state.hub.conns().values() {
                c.counters.received.store(0, Ordering::Relaxed);
                c.counters.sent.store(0, Ordering::Relaxed);
            }
            "Connection stats reset.\n".to_string()
        }
        "srst" => {
            state.stats.reset();
            "Server stats reset.\n".to_string()
        }
        "dump" => dump(state),
        "lgif" => log_info(state),
        "csnp" => match state.consensus.snapshot_now().await {
            Ok(()) => format!(
                "Snapshot creation scheduled with last committed log index {}.",
                state.consensus.metrics().committed_index
            ),
            Err(_) => "Failed to schedule snapshot creation task.".to_string(),
        },
        "rqld" => if state.consensus.request_leadership().await {
            "Sent leadership request to leader."
        } else {
            "Failed to send leadership request to leader."
        }
        .to_string(),
        "ydld" => if state.consensus.yield_leadership().await.is_some() {
            "Sent yield leadership request to leader."
        } else {
            "Failed to send yield leadership request to leader."
        }
        .to_string(),
        "hash" => String::new(),
        "gtmk" => "0\n".to_string(),
        "stmk" => {
            let mask = rd.read_i64().await.unwrap_or(0);
            format!("{mask}\n")
        }
        _ => String::new(),
    }
}

/// What a word other than ruok and isro answers while the server serves no one.
const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests\n";

/// The `Mode:` of srvr and `zk_server_state` of mntr; `None` while the server serves
/// no one (in an ensemble without a quorum, read-only mode off).
pub(crate) fn mode(state: &ServerState) -> Option<&'static str> {
    if crate::quorum::read_only(state) {
        return Some("read-only");
    }
    if !crate::quorum::serving(state) {
        return None;
    }
    Some(state.consensus.status().borrow().role.mode())
}

fn server_stats(state: &ServerState, mode: &str, with_clients: bool) -> String {
    let mut out = format!("Zookeeper version: {}\n", version_line());
    if mode == "read-only" {
        out.push_str("READ-ONLY mode; serving only read-only clients\n");
    }
    if with_clients {
        out.push_str("Clients:\n");
        out.push_str(&connections(state));
        out.push('\n');
    }
    let (min, avg, max) = state.stats.latency_ms();
    let tree = state.tree().read();
    let _ = write!(
        out,
        "Latency min/avg/max: {}/{avg:.4}/{}\nReceived: {}\nSent: {}\nConnections: {}\nOutstanding: {}\nZxid: 0x{:x}\nMode: {mode}\nNode count: {}\n",
        min.round() as u64,
        max.round() as u64,
        Stats::get(&state.stats.packets_received),
        Stats::get(&state.stats.packets_sent),
        state.hub.conns().len(),
        state.stats.outstanding.load(Ordering::Relaxed),
        tree.last_zxid(),
        tree.node_count(),
    );
    out
}

fn connections(state: &ServerState) -> String {
    let mut out = String::new();
    for c in state.hub.conns().values() {
        let _ = writeln!(
            out,
            " /{}[1](queued={},recved={},sent={},sid=0x{:x},to={})",
            c.peer,
            c.counters.queued.load(Ordering::Relaxed),
            c.counters.received.load(Ordering::Relaxed),
            c.counters.sent.load(Ordering::Relaxed),
            c.session,
            c.timeout
        );
    }
    out
}

fn monitor(state: &ServerState, mode: &str) -> String {
    monitor_values(state, mode)
        .into_iter()
        .map(|(k, v)| format!("{k}\t{v}\n"))
        .collect()
}

/// mntr's keys and values, in ZooKeeper's order, Corral's own keys last.
pub(crate) fn monitor_values(state: &ServerState, mode: &str) -> Vec<(&'static str, String)> {
    let (min, avg, max) = state.stats.latency_ms();
    let tree = state.tree().read();
    let (_, _, watch_count) = state.hub.watches().summary();
    let raft = state.consensus.metrics();
    let mut lines: Vec<(&'static str, String)> = vec![
        ("zk_version", version_line()),
        ("zk_server_state", mode.into()),
        ("zk_avg_latency", format!("{avg:.4}")),
        ("zk_max_latency", format!("{}", max.round() as u64)),
        ("zk_min_latency", format!("{}", min.round() as u64)),
        (
            "zk_packets_received",
            Stats::get(&state.stats.packets_received).to_string(),
        ),
        (
            "zk_packets_sent",
            Stats::get(&state.stats.packets_sent).to_string(),
        ),
        (
            "zk_num_alive_connections",
            state.hub.conns().len().to_string(),
        ),
        (
            "zk_outstanding_requests",
            state.stats.outstanding.load(Ordering::Relaxed).to_string(),
        ),
        ("zk_znode_count", tree.node_count().to_string()),
        ("zk_watch_count", watch_count.to_string()),
        ("zk_ephemerals_count", tree.ephemeral_count().to_string()),
        (
            "zk_approximate_data_size",
            tree.approximate_data_size().to_string(),
        ),
        (
            "zk_global_sessions",
            state.hub.sessions().count().to_string(),
        ),
        ("zk_uptime", state.started.elapsed().as_millis().to_string()),
        ("corral_raft_term", raft.term.to_string()),
        (
            "corral_raft_last_log_index",
            raft.last_log_index.to_string(),
        ),
        ("corral_raft_applied_index", raft.applied_index.to_string()),
    ];
    let status = state.consensus.status().borrow().clone();
    if status.role == corral_consensus::Role::Leader {
        // ZooKeeper's leader-only keys; zk_followers is the 3.4 name ClickHouse Keeper
        // still prints, kept for dashboards built on it.
        let observers = status.followers - status.synced_followers;
        let at = lines
            .iter()
            .position(|(k, _)| k.starts_with("corral_"))
            .unwrap_or(lines.len());
        lines.splice(
            at..at,
            [
                ("zk_learners", status.followers.to_string()),
                ("zk_followers", status.followers.to_string()),
                ("zk_synced_followers", status.synced_followers.to_string()),
                ("zk_synced_non_voting_followers", "0".to_string()),
                ("zk_synced_observers", observers.to_string()),
                ("zk_pending_syncs", "0".to_string()),
            ],
        );
    }
    lines
}

/// ClickHouse Keeper's `lgif`: where this server's log starts and ends, what is
/// committed, and the last snapshot. Terms are the current term (Corral keeps no
/// per-index term outside the log).
fn log_info(state: &ServerState) -> String {
    let raft = state.consensus.metrics();
    let lines = [
        ("first_log_idx", state.consensus.first_log_index()),
        ("first_log_term", raft.term),
        ("last_log_idx", raft.last_log_index),
        ("last_log_term", raft.term),
        ("last_committed_log_idx", raft.applied_index),
        ("leader_committed_log_idx", raft.committed_index),
        ("target_committed_log_idx", raft.committed_index),
        ("last_snapshot_idx", raft.snapshot_index),
    ];
    lines.iter().map(|(k, v)| format!("{k}\t{v}\n")).collect()
}

pub(crate) fn configuration(state: &ServerState) -> String {
    let c = &state.config;
    let (data_size, log_size) = dir_sizes(state);
    format!(
        "clientPort={}\nsecureClientPort=-1\ndataDir={}\ndataDirSize={}\ndataLogDir={}\ndataLogSize={}\ntickTime={}\nmaxClientCnxns={}\nminSessionTimeout={}\nmaxSessionTimeout={}\nclientPortListenBacklog=-1\nserverId={}\n",
        c.client_port,
        c.data_dir.display(),
        data_size,
        c.log_dir().display(),
        log_size,
        c.tick_time,
        c.max_client_cnxns,
        c.min_session_timeout,
        c.max_session_timeout,
        c.my_id,
    )
}

pub(crate) fn environment() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    format!(
        "Environment:\nzookeeper.version={}\nhost.name={host}\njava.version=none (corral is native)\nos.name={}\nos.arch={}\nuser.dir={cwd}\n",
        version_line(),
        std::env::consts::OS,
        std::env::consts::ARCH,
    )
}

fn watches(state: &ServerState, by_path: bool) -> String {
    let by_conn = state.hub.watches().by_connection();
    let sessions: std::collections::HashMap<u64, i64> = state
        .hub
        .conns()
        .iter()
        .map(|(id, c)| (*id, c.session))
        .collect();
    let mut out = String::new();
    if by_path {
        let mut paths: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
        for (conn, ps) in by_conn {
            for p in ps {
                paths
                    .entry(p)
                    .or_default()
                    .push(sessions.get(&conn).copied().unwrap_or(0));
            }
        }
        for (p, ss) in paths {
            let _ = writeln!(out, "{p}");
            for s in ss {
                let _ = writeln!(out, "\t0x{s:x}");
            }
        }
    } else {
        for (conn, ps) in by_conn {
            let _ = writeln!(out, "0x{:x}", sessions.get(&conn).copied().unwrap_or(0));
            for p in ps {
                let _ = writeln!(out, "\t{p}");
            }
        }
    }
    out
}

fn dump(state: &ServerState) -> String {
    let tree = state.tree().read();
    let mut out = String::from("SessionTracker dump:\nSession Sets (");
    let sessions: Vec<(i64, usize)> = tree
        .sessions()
        .map(|(id, s)| (id, s.ephemerals.len()))
        .collect();
    let _ = writeln!(out, "{})/({}):", sessions.len(), sessions.len());
    out.push_str("ephemeral nodes dump:\n");
    let _ = writeln!(
        out,
        "Sessions with Ephemerals ({}):",
        sessions.iter().filter(|s| s.1 > 0).count()
    );
    for (id, s) in tree.sessions() {
        if s.ephemerals.is_empty() {
            continue;
        }
        let _ = writeln!(out, "0x{id:x}:");
        for p in &s.ephemerals {
            let _ = writeln!(out, "\t{p}");
        }
    }
    out
}

/// Bytes under the snapshot and log directories, as ZooKeeper's `dirs` reports them.
pub(crate) fn dir_sizes(state: &ServerState) -> (u64, u64) {
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
