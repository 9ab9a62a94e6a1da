//! The Prometheus registry behind /metrics: per-opcode request counts and latency
//! histograms, ZooKeeper's `readlatency`, `updatelatency`, `fsynctime` and
//! `snapshottime`, and the gauges the /metrics page sets from the server's report when
//! Prometheus scrapes (`admin::prometheus`).
//!
//! The recorder is this server's own and is never installed as the `metrics` crate's
//! process-wide recorder: that one can be set once per process, so a second server in
//! the process (in-process tests start several) could only share the first one's
//! counts, or have none. Everything is recorded on handles registered with this
//! recorder, or inside `metrics::with_local_recorder`; a bare `metrics::counter!`
//! anywhere else would go to the process's no-op recorder and show nowhere.
//!
//! A metric is registered when it is first recorded, so /metrics lists only what has
//! happened (an opcode never used, or no fsync yet, is not listed), as when these
//! went through the global recorder.

use std::sync::OnceLock;
use std::time::Duration;

use corral_jute::OpCode;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};

/// Buckets of the per-opcode latency histograms, in seconds: 50 µs to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 10.0,
];

/// One server's registry, and the handles of what it records per request, looked
/// up in the registry once rather than per request (the lookups, hashing names and
/// labels, were 8% of a create's instructions).
pub struct Prometheus {
    recorder: PrometheusRecorder,
    /// By `OpCode as usize`, registered at an opcode's first request.
    by_op: Vec<OnceLock<PerOp>>,
    latency: OnceLock<Latency>,
    fsync: OnceLock<Histogram>,
    snapshot: OnceLock<Histogram>,
}

struct PerOp {
    requests: Counter,
    duration: Histogram,
}

/// ZooKeeper's latency summaries, in milliseconds.
struct Latency {
    update: Histogram,
    read: Histogram,
}

impl Prometheus {
    pub(super) fn new() -> Prometheus {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("corral_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .unwrap_or_else(|e| panic!("the request latency buckets are refused: {e}"))
            .build_recorder();
        metrics::with_local_recorder(&recorder, describe);
        Prometheus {
            recorder,
            by_op: OpCode::ALL.iter().map(|_| OnceLock::new()).collect(),
            latency: OnceLock::new(),
            fsync: OnceLock::new(),
            snapshot: OnceLock::new(),
        }
    }

    /// A handle of this registry, registered by `register` the first time only.
    fn handle<'a, T>(&self, slot: &'a OnceLock<T>, register: impl FnOnce() -> T) -> &'a T {
        slot.get_or_init(|| metrics::with_local_recorder(&self.recorder, register))
    }

    /// One answered request: its count and latency by opcode, and ZooKeeper's read or
    /// update latency (milliseconds, as ZooKeeper reports them).
    pub(super) fn request_done(&self, op: OpCode, write: bool, took: Duration) {
        // `as usize` is the opcode's place in OpCode::ALL (checked in corral-jute's tests).
        if let Some(slot) = self.by_op.get(op as usize) {
            let per_op = self.handle(slot, || {
                let label = op.label();
                PerOp {
                    requests: metrics::counter!("corral_requests_total", "op" => label),
                    duration: metrics::histogram!("corral_request_duration_seconds", "op" => label),
                }
            });
            per_op.requests.increment(1);
            per_op.duration.record(took.as_secs_f64());
        }
        let latency = self.handle(&self.latency, || Latency {
            update: metrics::histogram!("updatelatency"),
            read: metrics::histogram!("readlatency"),
        });
        let ms = took.as_secs_f64() * 1000.0;
        if write {
            latency.update.record(ms);
        } else {
            latency.read.record(ms);
        }
    }

    pub(super) fn fsync_took(&self, took: Duration) {
        let h = self.handle(&self.fsync, || metrics::histogram!("fsynctime"));
        h.record(took.as_secs_f64() * 1000.0);
    }

    pub(super) fn snapshot_took(&self, took: Duration) {
        let h = self.handle(&self.snapshot, || metrics::histogram!("snapshottime"));
        h.record(took.as_secs_f64() * 1000.0);
    }

    /// The text Prometheus scrapes. `set_gauges` runs first with this registry as the
    /// recorder, so its `metrics::gauge!` and `metrics::describe_gauge!` land here.
    pub fn render(&self, set_gauges: impl FnOnce()) -> String {
        metrics::with_local_recorder(&self.recorder, set_gauges);
        self.recorder.handle().render()
    }
}

/// HELP lines, which Prometheus tooling expects for every metric.
fn describe() {
    use metrics::{describe_counter, describe_histogram, Unit};
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
}
