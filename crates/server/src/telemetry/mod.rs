//! What a server counts and measures, owned by one value: `Telemetry` (`record`),
//! created at start-up, held by the server state and shared with the hub, and
//! recorded into by every part that has something to count. It holds ZooKeeper's
//! `ServerStats` (`stats`: packets, outstanding requests, latency), ZooKeeper's
//! `ServerMetrics` (`server_metrics`: mntr's counters and summaries) and the
//! Prometheus registry with its cached request handles (`prometheus`).
//!
//! Nothing here is process-wide: two servers in one process count apart (the proposal
//! sizes are the consensus handle's, `Consensus::proposal_sizes`). Recording is atomics on the request path, no
//! lock and no allocation. What the operators' surfaces print is gathered from here
//! and the rest of the server by `report`.
//!
//! This module imports nothing of the crate, so that any part can record into it.

mod prometheus;
mod record;
mod server_metrics;
mod stats;

pub use record::{Answered, Telemetry};
pub use stats::StatCounts;
