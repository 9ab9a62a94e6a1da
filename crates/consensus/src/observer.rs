//! What the server above hears from the consensus path: every applied transaction
//! (under the tree's write lock), snapshots, fsyncs, sessions heard from elsewhere and
//! the measurements for mntr.

use corral_tree::{DataTree, Event, Txn, TxnResult};

use crate::measure::Measure;

/// Told of every applied transaction, under the tree's write lock. The server's
/// watch manager and session table hang off this.
pub trait ApplyObserver: Send + Sync + 'static {
    fn applied(&self, tree: &DataTree, txn: &Txn, result: &TxnResult, events: &[Event]);

    /// The tree was replaced wholesale by a snapshot.
    fn reset(&self, _tree: &DataTree) {}

    /// A snapshot was written: its index, bytes on disk and how long it took.
    fn snapshot_taken(&self, _index: u64, _bytes: u64, _took: std::time::Duration) {}

    /// The log's fsync took this long.
    fn fsync_took(&self, _took: std::time::Duration) {}

    /// On the leader: another server heard from these sessions' clients.
    fn sessions_alive(&self, _sessions: &[i64]) {}

    /// A step of the consensus path was measured (proposals, acks, commits; see
    /// `Measure`). Called once per transaction and step, so it must be cheap.
    fn measured(&self, _m: Measure) {}
}
