//! ZooKeeper 3.8's `ServerMetrics` as `mntr` and the AdminServer's `monitor` print
//! them after the server gauges: 47 counters, 41 summaries and 23 percentile
//! summaries in a fixed order (`order`), then the summary sets keyed by namespace
//! (first path component, `namespaces`) and, on a leader, by learner id, in Java
//! hash-map order (`chm`). ZooKeeper keeps these in a process-wide singleton; here
//! each server's `Telemetry` owns one `ServerMetrics` (`values`), so two servers in
//! one process count apart. `dump` prints them.
//!
//! Values are Corral's own measurements where Corral does the same thing (request
//! latencies, fsync and snapshot times, bytes, connections, watch triggers, per-
//! namespace bytes, elections, expired sessions, unavailable time, and the proposal,
//! ack and commit steps the consensus layer reports through `measured`). Metrics of
//! ZooKeeper machinery that Corral does not have (its request-processor pipeline, the
//! JVM, Netty, throttling, TLS, DIFF/SNAP learner sync) stay at zero, which is true
//! for Corral. Which is which is the table in docs/mntr.md. Recording is atomics
//! only; a namespace seen for the first time takes a write lock once.

mod chm;
mod dump;
mod namespaces;
mod order;
mod summary;
mod values;

pub use values::ServerMetrics;
