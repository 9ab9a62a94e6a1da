//! What the log's apply step touches on this server: watches, session clocks and the
//! connections. The state machine calls `Hub::applied` under the tree's write lock.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use corral_consensus::ApplyObserver;
use corral_tree::{DataTree, Event, OpResult, Txn, TxnOp, TxnResult};

use crate::connection::ConnId;

use crate::session::SessionTable;
use crate::watches::WatchManager;

/// A live client connection, as operators see it in `cons` and `stat`.
pub struct ConnEntry {
    pub peer: std::net::SocketAddr,
    pub session: i64,
    pub timeout: i32,
    /// Stops the connection's reader; what is queued is still answered, then it closes.
    pub stop: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
    pub counters: std::sync::Arc<ConnCounters>,
    /// A read-only session (see `quorum`).
    pub read_only: bool,
}

/// A connection's traffic, updated by its own tasks without taking any lock.
#[derive(Default)]
pub struct ConnCounters {
    pub received: std::sync::atomic::AtomicU64,
    pub sent: std::sync::atomic::AtomicU64,
    /// Requests read but not yet answered.
    pub queued: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
pub struct Hub {
    watches: Mutex<WatchManager>,
    sessions: Mutex<SessionTable>,
    conns: Mutex<HashMap<ConnId, ConnEntry>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Hub {
    pub fn watches(&self) -> MutexGuard<'_, WatchManager> {
        lock(&self.watches)
    }

    pub fn sessions(&self) -> MutexGuard<'_, SessionTable> {
        lock(&self.sessions)
    }

    pub fn conns(&self) -> MutexGuard<'_, HashMap<ConnId, ConnEntry>> {
        lock(&self.conns)
    }

    /// Tells a connection to read no more and close once its queued requests are
    /// answered (a closeSession's own reply among them).
    pub fn kick(&self, conn: ConnId) {
        if let Some(c) = self.conns().get(&conn) {
            c.stop.send_replace(true);
        }
    }
}

impl ApplyObserver for Hub {
    fn applied(&self, _tree: &DataTree, txn: &Txn, result: &TxnResult, events: &[Event]) {
        match (&txn.op, &result.result) {
            (TxnOp::CreateSession { timeout, .. }, OpResult::SessionCreated) => {
                self.sessions().track(txn.session_id, *timeout);
            }
            (TxnOp::CloseSession, _) => {
                let conn = self.sessions().forget(txn.session_id);
                if let Some(conn) = conn {
                    self.kick(conn);
                }
            }
            _ => {}
        }
        if !events.is_empty() {
            self.watches().trigger(events, result.zxid);
        }
    }

    fn fsync_took(&self, took: std::time::Duration) {
        metrics::histogram!("fsynctime").record(took.as_secs_f64() * 1000.0);
    }

    fn snapshot_taken(&self, _index: u64, _bytes: u64, took: std::time::Duration) {
        metrics::histogram!("snapshottime").record(took.as_secs_f64() * 1000.0);
    }

    fn sessions_alive(&self, sessions: &[i64]) {
        let mut table = self.sessions();
        for id in sessions {
            table.touch(*id);
        }
    }

    fn reset(&self, tree: &DataTree) {
        let mut sessions = self.sessions();
        sessions.retain(|id| tree.session(id).is_some());
        for (id, s) in tree.sessions() {
            sessions.track(id, s.timeout);
        }
    }
}
