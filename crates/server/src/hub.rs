//! What the log's apply step touches on this server: watches, session clocks and the
//! connections. The state machine calls `Hub::applied` under the tree's write lock;
//! a connection joins the hub once its session is admitted and leaves it when it ends.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use corral_consensus::ApplyObserver;
use corral_tree::{DataTree, Event, EventKind, OpResult, Txn, TxnOp, TxnResult};
use tokio::sync::watch;

use crate::clock::now_millis;
use crate::session::SessionTable;
use crate::telemetry::Telemetry;
use crate::watches::WatchManager;
use crate::wire::ConnId;

/// A live client connection, as operators see it in `cons` and `stat`.
pub struct ConnEntry {
    pub peer: std::net::SocketAddr,
    pub session: i64,
    pub timeout: i32,
    /// Stops the connection's reader; what is queued is still answered, then it closes.
    pub stop: Arc<watch::Sender<bool>>,
    pub counters: Arc<ConnCounters>,
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
    /// Milliseconds since the epoch when the session was established here.
    pub established_ms: std::sync::atomic::AtomicU64,
    /// The last request answered: opcode (0 for none yet), xid and zxid.
    pub last_op: std::sync::atomic::AtomicI32,
    pub last_cxid: std::sync::atomic::AtomicI64,
    pub last_zxid: std::sync::atomic::AtomicI64,
    /// When the last reply went out, in milliseconds since the epoch.
    pub last_response_ms: std::sync::atomic::AtomicU64,
    /// Latency in milliseconds: last, min (u64::MAX before any), max, sum, count.
    pub last_latency: std::sync::atomic::AtomicU64,
    pub min_latency: std::sync::atomic::AtomicU64,
    pub max_latency: std::sync::atomic::AtomicU64,
    pub latency_sum: std::sync::atomic::AtomicU64,
    pub latency_count: std::sync::atomic::AtomicU64,
}

impl ConnCounters {
    pub fn new(established_ms: u64) -> ConnCounters {
        let c = ConnCounters::default();
        c.established_ms.store(established_ms, Relaxed);
        c.min_latency.store(u64::MAX, Relaxed);
        c
    }

    /// A request was answered.
    pub fn answered(&self, op: i32, xid: i32, zxid: Option<i64>, latency_ms: u64) {
        self.last_op.store(op, Relaxed);
        self.last_cxid.store(i64::from(xid), Relaxed);
        if let Some(z) = zxid {
            self.last_zxid.store(z, Relaxed);
        }
        self.last_response_ms.store(now_millis() as u64, Relaxed);
        self.last_latency.store(latency_ms, Relaxed);
        self.min_latency.fetch_min(latency_ms, Relaxed);
        self.max_latency.fetch_max(latency_ms, Relaxed);
        self.latency_sum.fetch_add(latency_ms, Relaxed);
        self.latency_count.fetch_add(1, Relaxed);
    }

    /// A read or write was queued for answering; the number now queued.
    pub fn queue_one(&self) -> u64 {
        self.queued.fetch_add(1, Relaxed) + 1
    }

    /// A queued request was answered. False if the connection's end already took it
    /// out of the count (`take_unanswered`), so nothing is counted out twice however
    /// the connection's tasks end.
    pub fn answer_one(&self) -> bool {
        self.queued
            .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// The connection has ended: the requests it never answered, counted out.
    pub fn take_unanswered(&self) -> u64 {
        self.queued.swap(0, Relaxed)
    }

    /// `crst`: counts and latencies start again.
    pub fn reset(&self) {
        for c in [
            &self.received,
            &self.sent,
            &self.max_latency,
            &self.latency_sum,
            &self.latency_count,
        ] {
            c.store(0, Relaxed);
        }
        self.min_latency.store(u64::MAX, Relaxed);
    }
}

pub struct Hub {
    watches: Mutex<WatchManager>,
    sessions: Mutex<SessionTable>,
    conns: Mutex<HashMap<ConnId, ConnEntry>>,
    /// The server's telemetry, which the apply step and the watches record into.
    telemetry: Arc<Telemetry>,
}

/// For the session clocks and the connection table, a poisoned lock is taken as it
/// is: each of their changes is a single map operation or a field store, which a
/// panic (in a caller, between changes) cannot leave half done, so the maps are
/// consistent.
fn lock_consistent<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The watch tables change in several steps (both tables, the per-connection index,
/// the recursive count), and a panic between them leaves them out of step: serving on
/// would send wrong events or miss some. The server stops instead.
fn lock_or_stop<'a, T>(m: &'a Mutex<T>, what: &str) -> MutexGuard<'a, T> {
    m.lock().unwrap_or_else(|_| {
        tracing::error!("{what} were poisoned by a panic while changing them; stopping");
        eprintln!("corral: {what} were poisoned by a panic while changing them; stopping");
        std::process::abort()
    })
}

impl Hub {
    pub fn new(telemetry: Arc<Telemetry>) -> Hub {
        Hub {
            watches: Mutex::new(WatchManager::new(telemetry.clone())),
            sessions: Mutex::default(),
            conns: Mutex::default(),
            telemetry,
        }
    }

    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    pub fn watches(&self) -> MutexGuard<'_, WatchManager> {
        lock_or_stop(&self.watches, "the watch tables")
    }

    pub fn sessions(&self) -> MutexGuard<'_, SessionTable> {
        lock_consistent(&self.sessions)
    }

    pub fn conns(&self) -> MutexGuard<'_, HashMap<ConnId, ConnEntry>> {
        lock_consistent(&self.conns)
    }

    /// A connection whose session was admitted: it is listed, receives its watch
    /// events in `outbox`, and serves the session from now (a connection that
    /// served it before is told to close). `leave` undoes all of it.
    pub fn join(
        &self,
        conn: ConnId,
        entry: ConnEntry,
        outbox: crate::outbox::Outbox,
        now: Instant,
    ) {
        let (session, timeout, stop) = (entry.session, entry.timeout, entry.stop.clone());
        self.conns().insert(conn, entry);
        self.watches().attach(conn, outbox, stop);
        let replaced = self.sessions().attach(session, conn, timeout, now);
        if let Some(old) = replaced {
            self.kick(old);
        }
    }

    /// The connection has ended: its listing and watches go, and its session's
    /// clock starts from `now`.
    pub fn leave(&self, conn: ConnId, session: i64, now: Instant) {
        self.conns().remove(&conn);
        self.watches().detach(conn);
        self.sessions().detach(session, conn, now);
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
                self.sessions()
                    .track(txn.session_id, *timeout, Instant::now());
            }
            (TxnOp::CloseSession, _) => {
                let conn = self.sessions().forget(txn.session_id);
                if let Some(conn) = conn {
                    self.kick(conn);
                }
            }
            _ => {}
        }
        if let TxnOp::CloseSession = txn.op {
            // The session's ephemerals, deleted with it.
            for e in events.iter().filter(|e| e.kind == EventKind::Deleted) {
                self.telemetry.server_metrics.write(&e.path, 0);
            }
        } else if !matches!(result.result, OpResult::Error(_)) {
            count_writes(&self.telemetry, &txn.op, &result.result);
        }
        if !events.is_empty() {
            self.watches().trigger(events, result.zxid);
        }
    }

    fn fsync_took(&self, took: std::time::Duration) {
        self.telemetry.fsync_took(took);
    }

    fn snapshot_taken(&self, _index: u64, _bytes: u64, took: std::time::Duration) {
        self.telemetry.snapshot_took(took);
    }

    fn measured(&self, m: corral_consensus::Measure) {
        self.telemetry.server_metrics.measured(m);
    }

    fn sessions_alive(&self, sessions: &[i64]) {
        let now = Instant::now();
        let mut table = self.sessions();
        for id in sessions {
            table.touch(*id, now);
        }
    }

    fn reset(&self, tree: &DataTree) {
        let now = Instant::now();
        let mut sessions = self.sessions();
        sessions.retain(|id| tree.session(id).is_some());
        for (id, s) in tree.sessions() {
            sessions.track(id, s.timeout, now);
        }
    }
}

/// mntr's write_per_namespace: each znode a successful transaction created, deleted
/// or set, as ZooKeeper's DataTree counts them when it applies a transaction.
fn count_writes(telemetry: &Telemetry, op: &TxnOp, result: &OpResult) {
    let m = &telemetry.server_metrics;
    let len = |d: &Option<bytes::Bytes>| d.as_ref().map_or(0, |d| d.len() as u64);
    match (op, result) {
        (TxnOp::Create(c), OpResult::Created { path, .. } | OpResult::CreatedPlain { path }) => {
            m.write(path, len(&c.data));
        }
        (TxnOp::Delete { path, .. } | TxnOp::Reap { path }, OpResult::Deleted) => {
            m.write(path, 0);
        }
        (TxnOp::SetData { path, data, .. }, OpResult::DataSet { .. }) => m.write(path, len(data)),
        (TxnOp::Multi(ops), OpResult::Multi(results)) => {
            for (op, result) in ops.iter().zip(results) {
                count_writes(telemetry, op, result);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(session: i64) -> (ConnEntry, watch::Receiver<bool>) {
        let (stop, stopped) = watch::channel(false);
        let entry = ConnEntry {
            peer: std::net::SocketAddr::from(([127, 0, 0, 1], 1)),
            session,
            timeout: 1000,
            stop: Arc::new(stop),
            counters: Arc::new(ConnCounters::new(0)),
            read_only: false,
        };
        (entry, stopped)
    }

    #[test]
    fn leave_undoes_join_and_a_second_connection_replaces_the_first() {
        let hub = Hub::new(Arc::new(Telemetry::new(false)));
        let now = Instant::now();
        hub.sessions().track(7, 1000, now);
        let (first, first_stopped) = entry(7);
        let (tx, _rx) =
            crate::outbox::outbox(std::net::SocketAddr::from(([127, 0, 0, 1], 1)), 1 << 20);
        hub.join(1, first, tx.clone(), now);
        hub.watches()
            .add_standard(crate::watches::Table::Data, "/a", 1);
        let (second, _) = entry(7);
        hub.join(2, second, tx, now);
        assert!(
            *first_stopped.borrow(),
            "the replaced connection is told to close"
        );
        hub.leave(1, 7, now);
        assert_eq!(hub.conns().len(), 1);
        assert_eq!(hub.watches().summary(), (0, 0, 0));
        hub.leave(2, 7, now);
        assert!(hub.conns().is_empty());
        // Nothing serves the session any more: a new connection replaces none.
        assert_eq!(hub.sessions().attach(7, 3, 1000, now), None);
    }
}
