//! The /metrics page on `metricsProvider.httpPort` (7000): what the server's
//! `Telemetry` recorded as requests were answered (`crate::telemetry`), and the
//! gauges of the server's report, set when Prometheus scrapes.
//!
//! Names are ZooKeeper's where it has one (`znode_count`, `watch_count`,
//! `num_alive_connections`, `fsynctime`, `snapshottime`, `readlatency`,
//! `updatelatency`, ...), so dashboards built on ZooKeeper's Prometheus provider keep
//! working; what only Corral has is prefixed `corral_`.
//!
//! Three of ZooKeeper's gauges end in `_count` (`znode_count`, `watch_count`,
//! `ephemerals_count`), which Prometheus reserves for histograms and summaries and
//! `promtool check metrics` rejects. Corral exports them as `corral_znodes`,
//! `corral_watches` and `corral_ephemerals`, and also under ZooKeeper's names when
//! `corral.metricsZooKeeperCountNames=true` (docs/operations.md). With
//! `metricsProvider.className` naming ZooKeeper's Prometheus provider, the page also
//! has every other name that provider exports (`zk_names`), from mntr's values.

use super::zk_names::{Kind, ZOOKEEPER_NAMES};
use crate::report::MonitorReport;
use crate::state::ServerState;

/// The text Prometheus scrapes; empty if this server keeps no registry.
pub fn render(state: &ServerState) -> String {
    let Some(prometheus) = state.telemetry.prometheus() else {
        return String::new();
    };
    let report = MonitorReport::gather(state);
    let zk_count_names = state.config.metrics_zk_count_names;
    let mut text = prometheus.render(|| set_gauges(&report, zk_count_names));
    if state.config.metrics_zookeeper_provider {
        append_zookeeper_names(&mut text, state);
    }
    text
}

/// Every name of ZooKeeper's Prometheus provider that the page lacks, with mntr's
/// value: a counter or gauge `zk_<name>`; a summary's count and sum `zk_cnt_<name>`
/// and `zk_sum_<name>`, its median `zk_p50_<name>` and 0.99 `zk_p99_<name>` where
/// mntr keeps percentiles, NaN (unknown) where not. A summary set has no series until
/// a key is used, as there. Names the page already has keep their own series.
fn append_zookeeper_names(text: &mut String, state: &ServerState) {
    use std::fmt::Write;
    let mntr: std::collections::HashMap<String, String> = crate::fourletter::monitor_values(state)
        .into_iter()
        .map(|(k, v)| (k.into_owned(), v))
        .collect();
    let value = |key: String| mntr.get(&key).and_then(|v| v.parse::<f64>().ok());
    let present: std::collections::HashSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_string)
        .collect();
    for (name, kind) in ZOOKEEPER_NAMES {
        if present.contains(*name) {
            continue;
        }
        let plain = |text: &mut String, ty: &str| {
            let v = value(format!("zk_{name}")).unwrap_or(0.0);
            let _ = write!(text, "# TYPE {name} {ty}\n{name} {v}\n");
        };
        match kind {
            Kind::Gauge => plain(text, "gauge"),
            Kind::Counter => plain(text, "counter"),
            Kind::SummarySet => {
                let _ = writeln!(text, "# TYPE {name} summary");
            }
            Kind::Summary | Kind::SummaryAdvanced => {
                let at = |p: &str| value(format!("zk_{p}_{name}")).unwrap_or(f64::NAN);
                let mut quantiles = vec![("0.5", at("p50"))];
                if *kind == Kind::SummaryAdvanced {
                    quantiles.extend([("0.9", f64::NAN), ("0.99", at("p99"))]);
                }
                let _ = writeln!(text, "# TYPE {name} summary");
                for (q, v) in quantiles {
                    let _ = writeln!(text, "{name}{{quantile=\"{q}\"}} {v}");
                }
                let count = value(format!("zk_cnt_{name}")).unwrap_or(0.0);
                let sum = value(format!("zk_sum_{name}")).unwrap_or(0.0);
                let _ = write!(text, "{name}_count {count}\n{name}_sum {sum}\n");
            }
        }
    }
}

/// Runs with the server's registry as the recorder (`Prometheus::render`).
fn set_gauges(r: &MonitorReport, zk_count_names: bool) {
    for (name, help) in GAUGES {
        metrics::describe_gauge!(*name, *help);
    }
    let s = &r.server;
    let gauge = |name: &'static str, v: f64| metrics::gauge!(name).set(v);
    gauge("corral_znodes", s.nodes as f64);
    gauge("corral_watches", r.watches as f64);
    gauge("corral_ephemerals", s.ephemerals as f64);
    if zk_count_names {
        gauge("znode_count", s.nodes as f64);
        gauge("watch_count", r.watches as f64);
        gauge("ephemerals_count", s.ephemerals as f64);
    }
    gauge("approximate_data_size", s.data_size as f64);
    gauge("num_alive_connections", s.connections as f64);
    gauge("outstanding_requests", s.stats.outstanding as f64);
    gauge("global_sessions", r.global_sessions as f64);
    gauge("packets_received", s.stats.packets_received as f64);
    gauge("packets_sent", s.stats.packets_sent as f64);
    gauge("uptime", s.uptime_ms as f64);
    gauge("corral_last_zxid", s.last_zxid as f64);
    gauge("corral_snapshot_dir_bytes", s.data_dir_bytes as f64);
    gauge("corral_log_dir_bytes", s.log_dir_bytes as f64);
    gauge("corral_raft_term", r.raft.term as f64);
    gauge("corral_raft_last_log_index", r.raft.last_log_index as f64);
    gauge("corral_raft_commit_index", r.raft.committed_index as f64);
    gauge("corral_raft_applied_index", r.raft.applied_index as f64);
    gauge("corral_raft_snapshot_index", r.raft.snapshot_index as f64);
    for role in ["standalone", "leader", "follower", "observer", "looking"] {
        let on = r.role.mode() == role;
        metrics::gauge!("corral_server_role", "role" => role).set(if on { 1.0 } else { 0.0 });
    }
    gauge("corral_serving", if r.serving { 1.0 } else { 0.0 });
    // ZooKeeper's leader-only gauges; zero elsewhere.
    gauge("learners", r.followers as f64);
    gauge("synced_followers", r.synced_followers as f64);
    gauge("synced_observers", r.observers as f64);
}

const GAUGES: &[(&str, &str)] = &[
    (
        "corral_znodes",
        "Znodes in the tree (ZooKeeper's znode_count)",
    ),
    ("corral_watches", "Watches set (ZooKeeper's watch_count)"),
    (
        "corral_ephemerals",
        "Ephemeral znodes (ZooKeeper's ephemerals_count)",
    ),
    ("znode_count", "Znodes in the tree"),
    ("watch_count", "Watches set"),
    ("ephemerals_count", "Ephemeral znodes"),
    ("approximate_data_size", "Bytes of znode paths and data"),
    ("num_alive_connections", "Open client connections"),
    ("outstanding_requests", "Requests read and not yet answered"),
    (
        "global_sessions",
        "Sessions in the replicated session table",
    ),
    ("packets_received", "Client packets received"),
    ("packets_sent", "Client packets sent"),
    ("uptime", "Milliseconds since the server started"),
    (
        "corral_last_zxid",
        "Last zxid (log index) applied to the tree",
    ),
    (
        "corral_snapshot_dir_bytes",
        "Bytes in the snapshot directory",
    ),
    (
        "corral_log_dir_bytes",
        "Bytes in the transaction log directory",
    ),
    ("corral_raft_term", "Raft term"),
    (
        "corral_raft_last_log_index",
        "Last index in this server's log",
    ),
    (
        "corral_raft_commit_index",
        "Last index this server knows committed",
    ),
    (
        "corral_raft_applied_index",
        "Last index applied to the tree",
    ),
    ("corral_raft_snapshot_index", "Index of the last snapshot"),
    (
        "corral_server_role",
        "1 for this server's role in the ensemble",
    ),
    ("corral_serving", "1 while this server serves clients"),
    (
        "learners",
        "On the leader: followers and observers in contact",
    ),
    (
        "synced_followers",
        "On the leader: voting followers in contact",
    ),
    ("synced_observers", "On the leader: observers in contact"),
];
