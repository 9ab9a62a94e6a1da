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

use std::time::Instant;

use corral_consensus::Role;

use crate::state::ServerState;
use crate::stats::Stats;

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

/// The answer to `word`, asked by a connection from `asker`.
pub async fn answer(
    state: &ServerState,
    word: &str,
    rd: &mut BufReader<OwnedReadHalf>,
    asker: std::net::SocketAddr,
) -> String {
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
        "srvr" => server_stats(state, mode, None),
        "stat" => server_stats(state, mode, Some(asker)),
        "mntr" => monitor(state, mode),
        "conf" => configuration(state),
        "envi" => environment(),
        "cons" => connections(state, asker, true),
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
                c.counters.reset();
            }
            "Connection stats reset.\n".to_string()
        }
        "srst" => {
            state.stats.reset();
            crate::mntr::get().reset();
            "Server stats reset.\n".to_string()
        }
        "dump" => dump(state, asker),
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
        "gtmk" => "0".to_string(),
        "stmk" => {
            let mask = rd.read_i64().await.unwrap_or(0);
            format!("{mask}")
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

/// srvr, and with the asking connection's address stat, which lists the clients.
fn server_stats(state: &ServerState, mode: &str, asker: Option<std::net::SocketAddr>) -> String {
    let mut out = format!("Zookeeper version: {}\n", version_line());
    if mode == "read-only" {
        out.push_str("READ-ONLY mode; serving only read-only clients\n");
    }
    if let Some(asker) = asker {
        out.push_str("Clients:\n");
        out.push_str(&connections(state, asker, false));
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
    if mode == "leader" {
        let (last, min, max) = corral_consensus::proposal_sizes();
        let _ = writeln!(out, "Proposal sizes last/min/max: {last}/{min}/{max}");
    }
    out
}

/// One line per client connection, as ZooKeeper's `cons` (`full`) or `stat` lists
/// them, then the asking connection itself (no session yet), then a blank line.
fn connections(state: &ServerState, asker: std::net::SocketAddr, full: bool) -> String {
    let mut out = String::new();
    for c in state.hub.conns().values() {
        let n = &c.counters;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let _ = write!(
            out,
            " /{}[1](queued={},recved={},sent={}",
            c.peer,
            load(&n.queued),
            load(&n.received),
            load(&n.sent)
        );
        if full {
            let count = load(&n.latency_count);
            let min = if count == 0 { 0 } else { load(&n.min_latency) };
            let avg = load(&n.latency_sum).checked_div(count).unwrap_or(0);
            let _ = write!(
                out,
                ",sid=0x{:x},lop={},est={},to={},lcxid=0x{:x},lzxid=0x{:x},lresp={},llat={},minlat={min},avglat={avg},maxlat={}",
                c.session,
                last_op_name(n.last_op.load(Ordering::Relaxed)),
                load(&n.established_ms),
                c.timeout,
                n.last_cxid.load(Ordering::Relaxed),
                n.last_zxid.load(Ordering::Relaxed),
                load(&n.last_response_ms),
                load(&n.last_latency),
                load(&n.max_latency),
            );
        }
        out.push_str(")\n");
    }
    let _ = writeln!(out, " /{asker}[0](queued=0,recved=1,sent=0)");
    out.push('\n');
    out
}

/// ZooKeeper's short name for the last operation of a connection (`lop=`).
pub(crate) fn last_op_name(op: i32) -> &'static str {
    use corral_jute::OpCode::*;
    let Some(op) = corral_jute::OpCode::from_i32(op) else {
        return "NA";
    };
    match op {
        Ping => "PING",
        CreateSession => "SESS",
        Multi => "MULT",
        MultiRead => "MLTR",
        Create | Create2 | CreateTtl | CreateContainer => "CREA",
        Delete | DeleteContainer => "DELE",
        SetData => "SETD",
        Reconfig => "RECO",
        SetAcl => "SETA",
        CloseSession => "CLOS",
        Sync => "SYNC",
        Check => "CHEC",
        Exists => "EXIS",
        GetData => "GETD",
        CheckWatches => "CHKW",
        RemoveWatches => "REMW",
        GetAcl => "GETA",
        GetChildren | GetChildren2 => "GETC",
        GetAllChildrenNumber => "GETACN",
        GetEphemerals => "GETE",
        SetWatches | SetWatches2 => "SETW",
        AddWatch => "ADDW",
        WhoAmI => "HOMI",
        _ => "NA",
    }
}

fn monitor(state: &ServerState, mode: &str) -> String {
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
    let raft = state.consensus.metrics();
    let status = state.consensus.status().borrow().clone();
    let leads = status.role == Role::Leader;
    let quorum = state.ensemble;
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
    let n = |v: u64| v.to_string();
    let observers = status.followers - status.synced_followers;
    // (key, value, shown on: 'a'll, 'q'uorum members, 'l'eader)
    let rows: Vec<(&'static str, String, char)> = vec![
        ("zk_version", version_line(), 'a'),
        ("zk_server_state", mode.to_string(), 'a'),
        ("zk_peer_state", peer_state.to_string(), 'q'),
        ("zk_ephemerals_count", n(ephemerals), 'a'),
        ("zk_num_alive_connections", n(conn_count as u64), 'a'),
        ("zk_avg_latency", format!("{avg:.4}"), 'a'),
        ("zk_min_proposal_size", n(min_size), 'l'),
        (
            "zk_outstanding_requests",
            n(state.stats.outstanding.load(Ordering::Relaxed)),
            'a',
        ),
        ("zk_znode_count", n(nodes), 'a'),
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
        ("zk_max_proposal_size", n(max_size), 'l'),
        ("zk_max_client_response_size", "-1".into(), 'a'),
        (
            "zk_synced_followers",
            n(status.synced_followers as u64),
            'l',
        ),
        ("zk_connection_drop_probability", "0.0".into(), 'a'),
        ("zk_watch_count", n(watch_count as u64), 'a'),
        ("zk_synced_non_voting_followers", n(0), 'l'),
        ("zk_synced_observers", n(observers as u64), 'l'),
        (
            "zk_auth_failed_count",
            n(Stats::get(&state.stats.auth_failed)),
            'a',
        ),
        ("zk_min_latency", n(min.round() as u64), 'a'),
        ("zk_max_file_descriptor_count", n(max_fds), 'a'),
        ("zk_approximate_data_size", n(data_size), 'a'),
        ("zk_open_file_descriptor_count", n(open_fds), 'a'),
        ("zk_last_proposal_size", n(last_size), 'l'),
        ("zk_pending_syncs", n(0), 'l'),
        (
            "zk_leader_uptime",
            n(status.since.elapsed().as_millis() as u64),
            'l',
        ),
        ("zk_local_sessions", n(local_sessions as u64), 'a'),
        (
            "zk_uptime",
            n(state.started.elapsed().as_millis() as u64),
            'a',
        ),
        ("zk_max_latency", n(max.round() as u64), 'a'),
        ("zk_outstanding_tls_handshake", n(0), 'a'),
        ("zk_learners", n(status.followers as u64), 'l'),
        ("zk_min_client_response_size", "-1".into(), 'a'),
        ("zk_non_mtls_local_conn_count", n(0), 'a'),
        ("zk_quorum_size", n(status.voters as u64), 'q'),
    ];
    // Corral's own keys, after all of ZooKeeper's.
    let extras: Vec<(&'static str, String, char)> = vec![
        // ZooKeeper 3.4's name, which ClickHouse Keeper's dashboards still read.
        ("zk_followers", n(status.followers as u64), 'l'),
        ("corral_raft_term", n(raft.term), 'a'),
        ("corral_raft_last_log_index", n(raft.last_log_index), 'a'),
        ("corral_raft_commit_index", n(raft.committed_index), 'a'),
        ("corral_raft_applied_index", n(raft.applied_index), 'a'),
    ];
    let shown = |rows: Vec<(&'static str, String, char)>| {
        rows.into_iter()
            .filter(|(_, _, on)| match on {
                'q' => quorum,
                'l' => leads,
                _ => true,
            })
            .map(|(k, v, _)| (k.into(), v))
            .collect::<Vec<_>>()
    };
    let mut out = shown(rows);
    // A leader keeps per-learner summaries for the servers it replicates to.
    let learners: Vec<u64> = if leads {
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
    let mut out = format!(
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
    );
    if let (true, Some(me)) = (state.ensemble, c.me()) {
        // The quorum part ends without a newline, as ZooKeeper's does.
        let _ = write!(
            out,
            "initLimit={}\nsyncLimit={}\nelectionAlg=3\nelectionPort={}\nquorumPort={}\npeerType={}\nmembership: \n{}",
            c.init_limit,
            c.sync_limit,
            me.election_port,
            me.quorum_port,
            u8::from(me.observer),
            String::from_utf8_lossy(&crate::ensemble::ensemble_config(c)),
        );
    }
    out
}

/// envi: ZooKeeper's keys in ZooKeeper's order. Corral has no JVM, so the java.*
/// keys say `<NA>`; os.memory.* are the machine's available and total memory and
/// this process's resident size.
pub(crate) fn environment() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let cwd = current_dir();
    let os_version = os_version();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |text: &str, key: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    let user = user();
    let lines = [
        ("zookeeper.version", version_line()),
        ("host.name", host),
        ("java.version", "<NA>".into()),
        ("java.vendor", "<NA>".into()),
        ("java.home", "<NA>".into()),
        ("java.class.path", "<NA>".into()),
        ("java.library.path", "<NA>".into()),
        ("java.io.tmpdir", std::env::temp_dir().display().to_string()),
        ("java.compiler", "<NA>".into()),
        ("os.name", std::env::consts::OS.into()),
        ("os.arch", std::env::consts::ARCH.into()),
        ("os.version", os_version),
        ("user.name", user.0),
        ("user.home", user.1),
        ("user.dir", cwd),
        (
            "os.memory.free",
            format!("{}MB", kib(&meminfo, "MemAvailable:") / 1024),
        ),
        (
            "os.memory.max",
            format!("{}MB", kib(&meminfo, "MemTotal:") / 1024),
        ),
        (
            "os.memory.total",
            format!("{}MB", kib(&status, "VmRSS:") / 1024),
        ),
    ];
    let mut out = String::from("Environment:\n");
    for (k, v) in lines {
        let _ = writeln!(out, "{k}={v}");
    }
    out
}

pub(crate) fn current_dir() -> String {
    std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// The kernel release, as Java's os.version reports it.
pub(crate) fn os_version() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

/// This process's user name and home directory: $USER and $HOME, or /etc/passwd.
pub(crate) fn user() -> (String, String) {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().next().map(str::to_string))
        })
        .unwrap_or_default();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let entry: Vec<&str> = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 5 && f[2] == uid)
        .unwrap_or_default();
    let name = std::env::var("USER")
        .ok()
        .or_else(|| entry.first().map(|s| s.to_string()))
        .unwrap_or(uid);
    let home = std::env::var("HOME")
        .ok()
        .or_else(|| entry.get(5).map(|s| s.to_string()))
        .unwrap_or_default();
    (name, home)
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
    // ZooKeeper ends both lists with a blank line.
    out.push('\n');
    out
}

/// ZooKeeper's date format in `dump`: `Wed Nov 25 14:02:52 UTC 2026`.
fn java_date(at: Instant) -> String {
    let now = Instant::now();
    let wall = chrono::Utc::now();
    let wall = if at >= now {
        wall + chrono::Duration::from_std(at - now).unwrap_or_default()
    } else {
        wall - chrono::Duration::from_std(now - at).unwrap_or_default()
    };
    wall.format("%a %b %d %H:%M:%S UTC %Y").to_string()
}

/// Sessions by expiry (the leader's or a standalone's tracker; a follower lists the
/// global sessions with their timeouts), ephemerals by session, and connections.
fn dump(state: &ServerState, asker: std::net::SocketAddr) -> String {
    let mut out = String::from("SessionTracker dump:\n");
    let deadlines = state.hub.sessions().deadlines();
    let role = state.consensus.status().borrow().role;
    if matches!(role, Role::Leader | Role::Standalone) {
        let _ = writeln!(
            out,
            "Session Sets ({})/({}):",
            deadlines.len(),
            deadlines.len()
        );
        for (id, deadline, _) in &deadlines {
            let _ = writeln!(out, "1 expire at {}:\n\t0x{id:x}", java_date(*deadline));
        }
    } else {
        let _ = writeln!(out, "Global Sessions({}):", deadlines.len());
        for (id, _, timeout) in &deadlines {
            let _ = writeln!(out, "0x{id:x}\t{}ms", timeout.as_millis());
        }
    }
    out.push_str("ephemeral nodes dump:\n");
    {
        let tree = state.tree().read();
        let with: Vec<_> = tree
            .sessions()
            .filter(|(_, s)| !s.ephemerals.is_empty())
            .collect();
        let _ = writeln!(out, "Sessions with Ephemerals ({}):", with.len());
        for (id, s) in with {
            let _ = writeln!(out, "0x{id:x}:");
            for p in &s.ephemerals {
                let _ = writeln!(out, "\t{p}");
            }
        }
    }
    let conns: Vec<(std::net::SocketAddr, i64, i32)> = state
        .hub
        .conns()
        .values()
        .map(|c| (c.peer, c.session, c.timeout))
        .collect();
    out.push_str("Connections dump:\n");
    let _ = writeln!(
        out,
        "Connections Sets ({})/({}):",
        conns.len() + 1,
        conns.len() + 1
    );
    let soon = java_date(Instant::now() + std::time::Duration::from_secs(10));
    let _ = writeln!(out, "1 expire at {soon}:\n\tip: /{asker} sessionId: 0x0");
    for (peer, session, timeout) in conns {
        let at = Instant::now() + std::time::Duration::from_millis(timeout.max(0) as u64);
        let _ = writeln!(
            out,
            "1 expire at {}:\n\tip: /{peer} sessionId: 0x{session:x}",
            java_date(at)
        );
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
