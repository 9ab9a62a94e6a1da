//! Prometheus metrics, served at /metrics on `metricsProvider.httpPort` (7000).
//!
//! Names are ZooKeeper's where it has one (`znode_count`, `watch_count`,
//! `num_alive_connections`, `fsynctime`, `snapshottime`, `readlatency`,
//! `updatelatency`, ...), so dashboards built on ZooKeeper's Prometheus provider keep
//! working; what only Corral has is prefixed `corral_`. Counters and latencies are
//! recorded as requests are answered; the gauges are read from the server when
//! Prometheus scrapes.
//!
//! Three of ZooKeeper's gauges end in `_count` (`znode_count`, `watch_count`,
//! `ephemerals_count`), which Prometheus reserves for histograms and summaries and
//! `promtool check metrics` rejects. Corral exports them as `corral_znodes`,
//! `corral_watches` and `corral_ephemerals`, and also under ZooKeeper's names when
//! `corral.metricsZooKeeperCountNames=true` (docs/operations.md).

use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Duration;

use corral_jute::OpCode;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::ServerState;
use crate::stats::Stats;

/// Buckets of the per-opcode latency histograms, in seconds: 50 µs to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder (once); `None` if another one was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("corral_request_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

/// HELP lines, which Prometheus tooling expects for every metric.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!("corral_requests_total", "Requests answered, by opcode");
    describe_histogram!(
        "corral_request_duration_seconds",
        Unit::Seconds,
        "Time from reading a request to writing its reply, by opcode"
    );
    describe_histogram!("readlatency", "Read request latency in milliseconds");
    describe_histogram!("updatelatency", "Write request latency in milliseconds");
    describe_histogram!("fsynctime", "Transaction log fsync time in milliseconds");
    describe_histogram!("snapshottime", "Snapshot write time in milliseconds");
    for (name, help) in GAUGES {
        describe_gauge!(*name, *help);
    }
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

/// One answered request: its count and latency by opcode, and ZooKeeper's read and
/// update latency summaries (milliseconds, as ZooKeeper reports them).
pub fn request_done(op: OpCode, write: bool, took: Duration) {
    let handles = request_handles();
    // `as usize` is the opcode's place in OpCode::ALL (checked in corral-jute's tests).
    if let Some(slot) = handles.by_op.get(op as usize) {
        let per_op = slot.get_or_init(|| {
            let label = op.label();
            PerOp {
                requests: metrics::counter!("corral_requests_total", "op" => label),
                duration: metrics::histogram!("corral_request_duration_seconds", "op" => label),
            }
        });
        per_op.requests.increment(1);
        per_op.duration.record(took.as_secs_f64());
    }
    let ms = took.as_secs_f64() * 1000.0;
    // mntr's summaries take whole milliseconds, as ZooKeeper records them.
    let whole_ms = took.as_millis() as u64;
    if write {
        handles.update_latency.record(ms);
        crate::mntr::get().update_latency.add(whole_ms);
    } else {
        handles.read_latency.record(ms);
        crate::mntr::get().read_latency.add(whole_ms);
    }
}

/// The per-request metrics, looked up in the recorder once rather than per request:
/// the lookups (hashing names and labels) were 8% of a create's instructions.
struct RequestHandles {
    /// By `OpCode as usize`, registered at an opcode's first request so that
    /// /metrics lists only opcodes that were used, as before.
    by_op: Vec<OnceLock<PerOp>>,
    update_latency: metrics::Histogram,
    read_latency: metrics::Histogram,
}

struct PerOp {
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

fn request_handles() -> &'static RequestHandles {
    static HANDLES: OnceLock<RequestHandles> = OnceLock::new();
    HANDLES.get_or_init(|| {
        // The recorder first, or the handles would go to the no-op one.
        let _ = handle();
        RequestHandles {
            by_op: OpCode::ALL.iter().map(|_| OnceLock::new()).collect(),
            update_latency: metrics::histogram!("updatelatency"),
            read_latency: metrics::histogram!("readlatency"),
        }
    })
}

/// The text Prometheus scrapes: the gauges are refreshed from `state` first.
pub fn render(state: &ServerState) -> String {
    let Some(handle) = handle() else {
        return String::new();
    };
    refresh_gauges(state);
    handle.render()
}

fn refresh_gauges(state: &ServerState) {
    let (nodes, data_size, ephemerals, last_zxid) = {
        let tree = state.tree().read();
        (
            tree.node_count(),
            tree.approximate_data_size(),
            tree.ephemeral_count(),
            tree.last_zxid(),
        )
    };
    let (_, _, watches) = state.hub.watches().summary();
    let gauge = |name: &'static str, v: f64| metrics::gauge!(name).set(v);
    gauge("corral_znodes", nodes as f64);
    gauge("corral_watches", watches as f64);
    gauge("corral_ephemerals", ephemerals as f64);
    if state.config.metrics_zk_count_names {
        gauge("znode_count", nodes as f64);
        gauge("watch_count", watches as f64);
        gauge("ephemerals_count", ephemerals as f64);
    }
    gauge("approximate_data_size", data_size as f64);
    gauge("num_alive_connections", state.hub.conns().len() as f64);
    gauge(
        "outstanding_requests",
        state.stats.outstanding.load(Ordering::Relaxed) as f64,
    );
    gauge("global_sessions", state.hub.sessions().count() as f64);
    gauge(
        "packets_received",
        Stats::get(&state.stats.packets_received) as f64,
    );
    gauge("packets_sent", Stats::get(&state.stats.packets_sent) as f64);
    gauge("uptime", state.started.elapsed().as_millis() as f64);
    gauge("corral_last_zxid", last_zxid as f64);
    let (data_dir, log_dir) = crate::fourletter::dir_sizes(state);
    gauge("corral_snapshot_dir_bytes", data_dir as f64);
    gauge("corral_log_dir_bytes", log_dir as f64);
    let raft = state.consensus.metrics();
    gauge("corral_raft_term", raft.term as f64);
    gauge("corral_raft_last_log_index", raft.last_log_index as f64);
    gauge("corral_raft_commit_index", raft.committed_index as f64);
    gauge("corral_raft_applied_index", raft.applied_index as f64);
    gauge("corral_raft_snapshot_index", raft.snapshot_index as f64);
    let status = state.consensus.status().borrow().clone();
    for role in ["standalone", "leader", "follower", "observer", "looking"] {
        let on = status.role.mode() == role;
        metrics::gauge!("corral_server_role", "role" => role).set(if on { 1.0 } else { 0.0 });
    }
    gauge("corral_serving", if status.serving { 1.0 } else { 0.0 });
    // ZooKeeper's leader-only gauges; zero elsewhere.
    gauge("learners", status.followers as f64);
    gauge("synced_followers", status.synced_followers as f64);
    gauge(
        "synced_observers",
        (status.followers - status.synced_followers) as f64,
    );
}
