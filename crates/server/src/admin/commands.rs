//! The AdminServer's commands: ZooKeeper's names and aliases, and the JSON each
//! answers, built from the same numbers as the four-letter words.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use serde_json::{json, Map, Value};

use crate::fourletter;
use crate::report::{self, ServerReport};
use crate::state::ServerState;

type Args = HashMap<String, String>;

pub struct Command {
    /// The primary name first, then the aliases.
    pub names: &'static [&'static str],
    /// Answers "not currently serving requests" while the server serves no one.
    pub needs_server: bool,
    pub run: fn(&ServerState, &Args, &mut Map<String, Value>),
}

pub const COMMANDS: &[Command] = &[
    cmd(&["connection_stat_reset", "crst"], true, crst),
    cmd(&["configuration", "conf", "config"], true, conf),
    cmd(&["connections", "cons"], true, cons),
    cmd(&["hash"], true, hash),
    cmd(&["dirs"], true, dirs),
    cmd(&["dump"], true, dump),
    cmd(&["environment", "env", "envi"], false, envi),
    cmd(&["get_trace_mask", "gtmk"], false, gtmk),
    cmd(&["initial_configuration", "icfg"], true, icfg),
    cmd(&["is_read_only", "isro"], true, isro),
    cmd(&["last_snapshot", "lsnp"], true, lsnp),
    cmd(&["leader", "lead"], true, leader),
    cmd(&["monitor", "mntr"], false, monitor),
    cmd(&["observer_connection_stat_reset", "orst"], true, nothing),
    cmd(&["ruok"], true, nothing),
    cmd(&["set_trace_mask", "stmk"], false, stmk),
    cmd(&["server_stats", "srvr"], true, srvr),
    cmd(&["stats", "stat"], true, stat),
    cmd(&["stat_reset", "srst"], true, srst),
    cmd(&["observers", "obsr"], true, observers),
    cmd(&["system_properties", "sysp"], false, sysp),
    cmd(&["voting_view"], true, voting_view),
    cmd(&["watches", "wchc"], true, wchc),
    cmd(&["watches_by_path", "wchp"], true, wchp),
    cmd(&["watch_summary", "wchs"], true, wchs),
    cmd(&["zabstate"], false, zabstate),
];

const fn cmd(
    names: &'static [&'static str],
    needs_server: bool,
    run: fn(&ServerState, &Args, &mut Map<String, Value>),
) -> Command {
    Command {
        names,
        needs_server,
        run,
    }
}

pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.names.contains(&name))
}

/// A text value as JSON: an integer or a decimal number when it reads as one.
fn typed(v: &str) -> Value {
    if let Ok(i) = v.parse::<i64>() {
        return i.into();
    }
    match v.parse::<f64>() {
        Ok(f) if f.is_finite() && v.contains('.') => json!(f),
        _ => v.into(),
    }
}

/// `key=value` lines (conf, envi) as JSON entries.
fn key_values(text: &str, out: &mut Map<String, Value>) {
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            out.insert(k.to_string(), typed(v));
        }
    }
}

fn nothing(_: &ServerState, _: &Args, _: &mut Map<String, Value>) {}

fn crst(state: &ServerState, _: &Args, _: &mut Map<String, Value>) {
    for c in state.hub.conns().values() {
        c.counters.reset();
    }
}

fn srst(state: &ServerState, _: &Args, _: &mut Map<String, Value>) {
    state.telemetry.reset();
}

/// ZooKeeper's `configuration`: the server's own settings in snake_case (the quorum
/// settings are not in it, unlike `conf`).
fn conf(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    let c = &state.config;
    let data_dir = c.data_dir.display().to_string();
    let log_dir = c.log_dir().display().to_string();
    let entries = [
        ("client_port", json!(c.client_port)),
        ("data_dir", json!(data_dir)),
        ("data_log_dir", json!(log_dir)),
        ("tick_time", json!(c.tick_time)),
        ("max_client_cnxns", json!(c.max_client_cnxns)),
        ("min_session_timeout", json!(c.min_session_timeout)),
        ("max_session_timeout", json!(c.max_session_timeout)),
        ("server_id", json!(c.my_id)),
        ("client_port_listen_backlog", json!(-1)),
    ];
    for (k, v) in entries {
        out.insert(k.into(), v);
    }
}

fn envi(_: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    key_values(&fourletter::environment(), out);
}

/// Client connections as ZooKeeper's `getConnectionInfo` describes them; `brief` is
/// what `stats` lists.
fn connection_list(state: &ServerState, brief: bool) -> Vec<Value> {
    state
        .hub
        .conns()
        .values()
        .map(|c| {
            let n = &c.counters;
            let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            let mut info = json!({
                "remote_socket_address": c.peer.to_string(),
                "interest_ops": 1,
                "outstanding_requests": load(&n.queued),
                "packets_received": load(&n.received),
                "packets_sent": load(&n.sent),
            });
            if !brief {
                let count = load(&n.latency_count);
                let extra = json!({
                    "session_id": c.session,
                    "last_operation": fourletter::last_op_name(n.last_op.load(Ordering::Relaxed)),
                    "established": load(&n.established_ms),
                    "session_timeout": c.timeout,
                    "last_cxid": n.last_cxid.load(Ordering::Relaxed),
                    "last_zxid": n.last_zxid.load(Ordering::Relaxed),
                    "last_response_time": load(&n.last_response_ms),
                    "last_latency": load(&n.last_latency),
                    "min_latency": if count == 0 { 0 } else { load(&n.min_latency) },
                    "avg_latency": load(&n.latency_sum).checked_div(count).unwrap_or(0),
                    "max_latency": load(&n.max_latency),
                });
                if let (Value::Object(info), Value::Object(extra)) = (&mut info, extra) {
                    info.extend(extra);
                }
            }
            info
        })
        .collect()
}

fn cons(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    out.insert("connections".into(), connection_list(state, false).into());
    out.insert("secure_connections".into(), Value::Array(Vec::new()));
}

fn hash(_: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    out.insert("digests".into(), Value::Array(Vec::new()));
}

fn dirs(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    let (data, log) = report::dir_sizes(state);
    out.insert("datadir_size".into(), data.into());
    out.insert("logdir_size".into(), log.into());
}

fn dump(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    let tree = state.tree().read();
    let mut ephemerals = Map::new();
    for (id, s) in tree.sessions() {
        if !s.ephemerals.is_empty() {
            let paths: Vec<Value> = s.ephemerals.iter().map(|p| p.clone().into()).collect();
            ephemerals.insert(id.to_string(), paths.into());
        }
    }
    out.insert(
        "expiry_time_to_session_ids".into(),
        Value::Object(Map::new()),
    );
    out.insert(
        "session_id_to_ephemeral_paths".into(),
        Value::Object(ephemerals),
    );
}

fn gtmk(_: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    out.insert("tracemask".into(), 0.into());
}

fn stmk(_: &ServerState, args: &Args, out: &mut Map<String, Value>) {
    match args.get("traceMask").map(|m| m.parse::<i64>()) {
        Some(Ok(mask)) => {
            out.insert("tracemask".into(), mask.into());
        }
        Some(Err(_)) => {
            let got = args.get("traceMask").cloned().unwrap_or_default();
            out.insert(
                "error".into(),
                format!("setTraceMask requires long traceMask argument, got {got}").into(),
            );
        }
        None => {
            out.insert(
                "error".into(),
                "setTraceMask requires long traceMask argument".into(),
            );
        }
    }
}

/// ZooKeeper keeps the initial configuration only on a standalone server (the zoo.cfg
/// text); an ensemble member answers null.
fn icfg(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    let text = match (state.ensemble, &state.config.source) {
        (false, Some(path)) => std::fs::read_to_string(path).ok().map(Value::from),
        _ => None,
    };
    out.insert("initial_configuration".into(), text.unwrap_or(Value::Null));
}

fn isro(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    out.insert("read_only".into(), crate::quorum::read_only(state).into());
}

fn lsnp(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    let index = state.consensus.metrics().snapshot_index;
    let dir = state.config.data_dir.join("snapshots");
    let modified = std::fs::read_dir(&dir)
        .ok()
        .and_then(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.metadata().ok()?.modified().ok())
                .max()
        })
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(-1, |d| d.as_millis() as i64);
    let zxid = if index == 0 { -1i64 } else { index as i64 };
    out.insert("zxid".into(), format!("{zxid:x}").into());
    out.insert("timestamp".into(), modified.into());
}

fn leader(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    if !state.ensemble {
        out.insert("error".into(), "server is not initialized".into());
        return;
    }
    let status = state.consensus.status().borrow().clone();
    let leader = status.leader.unwrap_or(0);
    out.insert(
        "is_leader".into(),
        (status.role == corral_consensus::Role::Leader).into(),
    );
    out.insert("leader_id".into(), leader.into());
    let ip = state
        .config
        .servers
        .iter()
        .find(|p| p.id == leader)
        .map(|p| p.host.clone())
        .unwrap_or_default();
    out.insert("leader_ip".into(), ip.into());
}

fn monitor(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    for (k, v) in fourletter::monitor_values(state) {
        let key = k.strip_prefix("zk_").unwrap_or(&k);
        out.insert(key.to_string(), typed(&v));
    }
}

/// ZooKeeper's `server_stats`: srvr's report as JSON.
fn server_stats_into(r: &ServerReport, out: &mut Map<String, Value>) {
    let (min, avg, max) = r.stats.latency_ms;
    out.insert("version".into(), r.version.clone().into());
    out.insert("read_only".into(), (r.mode == "read-only").into());
    out.insert(
        "server_stats".into(),
        json!({
            "packets_sent": r.stats.packets_sent,
            "packets_received": r.stats.packets_received,
            "fsync_threshold_exceed_count": 0,
            "client_response_stats": {"last_buffer_size": -1, "min_buffer_size": -1, "max_buffer_size": -1},
            "provider_null": false,
            "server_state": r.mode,
            "outstanding_requests": r.stats.outstanding,
            "min_latency": min.round() as u64,
            "avg_latency": avg,
            "max_latency": max.round() as u64,
            "data_dir_size": r.data_dir_bytes,
            "log_dir_size": r.log_dir_bytes,
            "last_processed_zxid": r.last_zxid,
            "num_alive_client_connections": r.connections,
            "auth_failed_count": 0,
            "non_mtlsremote_conn_count": 0,
            "non_mtlslocal_conn_count": 0,
            "uptime": r.uptime_ms,
        }),
    );
    out.insert(
        "client_response".into(),
        json!({"last_buffer_size": -1, "min_buffer_size": -1, "max_buffer_size": -1}),
    );
    if r.mode == "leader" {
        let p = r.proposal_sizes;
        out.insert(
            "proposal_stats".into(),
            json!({"last_buffer_size": p.last, "min_buffer_size": p.min, "max_buffer_size": p.max}),
        );
    }
    out.insert("node_count".into(), r.nodes.into());
}

fn srvr(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    server_stats_into(&ServerReport::gather(state), out);
}

fn stat(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    server_stats_into(&ServerReport::gather(state), out);
    out.insert("connections".into(), connection_list(state, true).into());
    out.insert("secure_connections".into(), Value::Array(Vec::new()));
}

fn observers(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    let status = state.consensus.status().borrow().clone();
    let observers = if status.role == corral_consensus::Role::Leader {
        status.followers - status.synced_followers
    } else {
        0
    };
    out.insert("synced_observers".into(), observers.into());
    out.insert("observers".into(), Value::Array(Vec::new()));
}

fn sysp(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    let c = &state.config;
    // The JVM's own properties have no counterpart in a native process: `<NA>`, as
    // ZooKeeper prints for java.compiler.
    for key in JVM_ONLY {
        out.insert((*key).into(), "<NA>".into());
    }
    if state.ensemble {
        // Set by ZooKeeper's quorum code on every ensemble member.
        out.insert(
            "jdk.tls.rejectClientInitiatedRenegotiation".into(),
            "<NA>".into(),
        );
    }
    let (user, home) = fourletter::user();
    let cwd = fourletter::current_dir();
    let os_version = fourletter::os_version();
    let props = [
        ("file.encoding", "UTF-8".to_string()),
        ("file.separator", "/".to_string()),
        ("java.io.tmpdir", std::env::temp_dir().display().to_string()),
        ("jute.maxbuffer", c.max_buffer.to_string()),
        ("line.separator", "\n".to_string()),
        ("native.encoding", "UTF-8".to_string()),
        ("os.arch", std::env::consts::ARCH.to_string()),
        ("os.name", std::env::consts::OS.to_string()),
        ("os.version", os_version),
        ("path.separator", ":".to_string()),
        ("readonlymode.enabled", c.read_only_mode.to_string()),
        ("user.dir", cwd),
        ("user.home", home),
        ("user.language", "en".to_string()),
        ("user.name", user),
        ("user.timezone", "Etc/UTC".to_string()),
        (
            "zookeeper.extendedTypesEnabled",
            c.extended_types.to_string(),
        ),
        ("zookeeper.version", report::version_line()),
    ];
    for (k, v) in props {
        out.insert(k.into(), v.into());
    }
    // ZooKeeper turns each zoo.cfg key its config parser does not consume into a
    // `zookeeper.`-prefixed system property; list the same ones.
    let read = c
        .source
        .as_ref()
        .and_then(|p| crate::config::read_properties(p).ok());
    for (k, v) in read.unwrap_or_default() {
        let consumed = ZOOKEEPER_CONSUMES.contains(&k.as_str())
            || [
                "autopurge.",
                "metricsProvider.",
                "quorum.",
                "multiAddress.",
                "group.",
                "weight.",
            ]
            .iter()
            .any(|p| k.starts_with(p));
        if !consumed {
            let key = if k.starts_with("zookeeper.") {
                k
            } else {
                format!("zookeeper.{k}")
            };
            out.insert(key, v.into());
        }
    }
}

/// System properties only a JVM has, which ZooKeeper's `system_properties` lists.
const JVM_ONLY: &[&str] = &[
    "java.class.path",
    "java.class.version",
    "java.home",
    "java.library.path",
    "java.runtime.name",
    "java.runtime.version",
    "java.specification.maintenance.version",
    "java.specification.name",
    "java.specification.vendor",
    "java.specification.version",
    "java.vendor",
    "java.vendor.url",
    "java.vendor.url.bug",
    "java.version",
    "java.version.date",
    "java.vm.compressedOopsMode",
    "java.vm.info",
    "java.vm.name",
    "java.vm.specification.name",
    "java.vm.specification.vendor",
    "java.vm.specification.version",
    "java.vm.vendor",
    "java.vm.version",
    "jdk.debug",
    "jetty.git.hash",
    "org.slf4j.simpleLogger.defaultLogLevel",
    "sun.arch.data.model",
    "sun.boot.library.path",
    "sun.cpu.endian",
    "sun.io.unicode.encoding",
    "sun.java.command",
    "sun.java.launcher",
    "sun.jnu.encoding",
    "sun.management.compiler",
];

/// The zoo.cfg keys ZooKeeper's QuorumPeerConfig consumes itself.
const ZOOKEEPER_CONSUMES: &[&str] = &[
    "dataDir",
    "dataLogDir",
    "clientPort",
    "clientPortAddress",
    "secureClientPort",
    "secureClientPortAddress",
    "clientPortListenBacklog",
    "localSessionsEnabled",
    "localSessionsUpgradingEnabled",
    "tickTime",
    "maxClientCnxns",
    "minSessionTimeout",
    "maxSessionTimeout",
    "initLimit",
    "syncLimit",
    "connectToLearnerMasterLimit",
    "electionAlg",
    "quorumListenOnAllIPs",
    "peerType",
    "syncEnabled",
    "dynamicConfigFile",
    "standaloneEnabled",
    "reconfigEnabled",
    "sslQuorum",
    "portUnification",
    "sslQuorumReloadCertFiles",
];

fn voting_view(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    let mut view = Map::new();
    if state.ensemble {
        for p in &state.config.servers {
            let role = if p.observer {
                "observer"
            } else {
                "participant"
            };
            let client = match &p.client {
                Some((addr, port)) => format!("{}:{port}", addr.as_deref().unwrap_or("0.0.0.0")),
                None => format!("0.0.0.0:{}", state.config.client_port),
            };
            view.insert(
                p.id.to_string(),
                json!({
                    "server_addresses": [format!("{}:{}", p.host, p.quorum_port)],
                    "election_addresses": [format!("{}:{}", p.host, p.election_port)],
                    "client_address": client,
                    "learner_type": role,
                }),
            );
        }
    }
    out.insert("current_config".into(), Value::Object(view));
}

/// Each connection's watched paths, keyed by its session id.
fn watched_by_session(state: &ServerState) -> Vec<(i64, Vec<String>)> {
    let by_conn = state.hub.watches().by_connection();
    let conns = state.hub.conns();
    by_conn
        .into_iter()
        .map(|(conn, paths)| (conns.get(&conn).map_or(0, |c| c.session), paths))
        .collect()
}

fn wchc(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    let mut map = Map::new();
    for (session, paths) in watched_by_session(state) {
        let paths: Vec<Value> = paths.into_iter().map(Value::from).collect();
        map.insert(session.to_string(), paths.into());
    }
    out.insert("session_id_to_watched_paths".into(), Value::Object(map));
}

fn wchp(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    let mut map: Map<String, Value> = Map::new();
    for (session, paths) in watched_by_session(state) {
        for p in paths {
            if let Value::Array(ids) = map.entry(p).or_insert_with(|| Value::Array(Vec::new())) {
                ids.push(session.into());
            }
        }
    }
    out.insert("path_to_session_ids".into(), Value::Object(map));
}

fn wchs(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    let (conns, paths, total) = state.hub.watches().summary();
    out.insert("num_connections".into(), conns.into());
    out.insert("num_paths".into(), paths.into());
    out.insert("num_total_watches".into(), total.into());
}

fn zabstate(state: &ServerState, _: &Args, out: &mut Map<String, Value>) {
    let status = state.consensus.status().borrow().clone();
    let voting = state.ensemble && state.config.me().is_some_and(|p| !p.observer);
    let phase = match (state.ensemble, status.serving) {
        (false, _) => "",
        (true, true) => "broadcast",
        (true, false) => "election",
    };
    out.insert("voting".into(), voting.into());
    out.insert("zabstate".into(), phase.into());
}
