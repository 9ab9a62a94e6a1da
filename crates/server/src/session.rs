//! Session liveness on this server: who was heard from when, and expiry.
//!
//! The session table itself is replicated in the tree; this is the local clock side.
//! Only the leader expires: a session that no server heard from within its timeout is
//! closed through the log, which removes its ephemerals on every replica. The other
//! servers report the sessions they heard from to the leader every half tick, as
//! ZooKeeper's followers do in their pings, and a new leader gives every session a
//! fresh timeout instead of judging it by clocks it did not keep.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use corral_consensus::Role;
use corral_tree::{Txn, TxnOp};

use crate::connection::ConnId;
use crate::ServerState;

struct Liveness {
    timeout: Duration,
    deadline: Instant,
    conn: Option<ConnId>,
    closing: bool,
}

#[derive(Default)]
pub struct SessionTable {
    live: HashMap<i64, Liveness>,
    /// Heard from since the last report to the leader.
    touched: HashSet<i64>,
}

impl SessionTable {
    /// Starts the clock on a session the log has just created.
    pub fn track(&mut self, id: i64, timeout_ms: i32) {
        let timeout = Duration::from_millis(timeout_ms.max(1) as u64);
        self.live.entry(id).or_insert(Liveness {
            timeout,
            deadline: Instant::now() + timeout,
            conn: None,
            closing: false,
        });
    }

    pub fn forget(&mut self, id: i64) -> Option<ConnId> {
        self.live.remove(&id).and_then(|l| l.conn)
    }

    /// Binds a session to the connection now serving it; returns the one it replaces.
    pub fn attach(&mut self, id: i64, conn: ConnId, timeout_ms: i32) -> Option<ConnId> {
        let l = self.live.get_mut(&id)?;
        l.timeout = Duration::from_millis(timeout_ms.max(1) as u64);
        l.deadline = Instant::now() + l.timeout;
        self.touched.insert(id);
        l.conn.replace(conn).filter(|old| *old != conn)
    }

    pub fn detach(&mut self, id: i64, conn: ConnId) {
        if let Some(l) = self.live.get_mut(&id) {
            if l.conn == Some(conn) {
                l.conn = None;
                l.deadline = Instant::now() + l.timeout;
            }
        }
    }

    pub fn touch(&mut self, id: i64) {
        if let Some(l) = self.live.get_mut(&id) {
            l.deadline = Instant::now() + l.timeout;
            self.touched.insert(id);
        }
    }

    /// Drops the sessions a new tree no longer has.
    pub fn retain(&mut self, keep: impl Fn(i64) -> bool) {
        self.live.retain(|id, _| keep(*id));
    }

    /// Gives a session whose close could not be proposed another chance.
    fn reopen(&mut self, id: i64) {
        if let Some(l) = self.live.get_mut(&id) {
            l.closing = false;
        }
    }

    /// The sessions heard from since the last call, for the report to the leader.
    fn take_touched(&mut self) -> Vec<i64> {
        self.touched.drain().collect()
    }

    /// A new leader starts every session's clock afresh.
    fn renew_all(&mut self) {
        let now = Instant::now();
        for l in self.live.values_mut() {
            l.deadline = now + l.timeout;
            l.closing = false;
        }
    }

    fn expired(&mut self, now: Instant) -> Vec<i64> {
        let mut out = Vec::new();
        for (id, l) in self.live.iter_mut() {
            if !l.closing && l.deadline <= now {
                l.closing = true;
                out.push(*id);
            }
        }
        out
    }

    pub fn count(&self) -> usize {
        self.live.len()
    }

    /// Every session with its deadline and timeout, for `dump`.
    pub fn deadlines(&self) -> Vec<(i64, Instant, Duration)> {
        let mut out: Vec<_> = self
            .live
            .iter()
            .map(|(id, l)| (*id, l.deadline, l.timeout))
            .collect();
        out.sort_by_key(|(id, _, _)| *id);
        out
    }
}

/// ZooKeeper's session id layout: the server id in the top byte, then time-derived
/// bits, so ids from different servers and restarts do not collide.
pub struct SessionIds {
    next: AtomicI64,
}

impl SessionIds {
    pub fn new(server_id: u64) -> Self {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let base = ((millis << 24) as u64 >> 8) as i64 | ((server_id as i64 & 0xff) << 56);
        SessionIds {
            next: AtomicI64::new(base),
        }
    }

    pub fn next(&self) -> i64 {
        self.next.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
    }
}

pub fn new_password() -> Bytes {
    let mut buf = [0u8; 16];
    if getrandom::fill(&mut buf).is_err() {
        // No OS randomness: fall back to the clock, which is still unguessable enough
        // not to collide, and say so.
        tracing::warn!("no OS randomness for a session password; using the clock");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        buf.copy_from_slice(&nanos.to_le_bytes());
    }
    Bytes::copy_from_slice(&buf)
}

/// On the leader, proposes a close for every session whose deadline passed; on the
/// other servers, reports the sessions heard from to the leader.
pub async fn expire_loop(state: Arc<ServerState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let period = Duration::from_millis(u64::from(state.config.tick_time.max(20)) / 2);
    let status = state.consensus.status();
    let mut led = false;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => return,
        }
        let now = status.borrow().clone();
        let leads = matches!(now.role, Role::Leader | Role::Standalone);
        if leads && !led && now.role == Role::Leader {
            state.hub.sessions().renew_all();
        }
        led = leads;
        if !leads {
            let alive = state.hub.sessions().take_touched();
            state.consensus.report_alive(alive).await;
            continue;
        }
        state.hub.sessions().touched.clear();
        if !now.serving {
            continue;
        }
        let expired = state.hub.sessions().expired(Instant::now());
        for id in expired {
            tracing::info!("Expiring session 0x{id:x}, timeout exceeded");
            crate::mntr::get()
                .sessions_expired
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let txn = Txn {
                session_id: id,
                time: now_millis(),
                identity: Vec::new(),
                op: TxnOp::CloseSession,
            };
            if let Err(e) = state.consensus.propose(txn).await {
                tracing::warn!("could not expire session 0x{id:x}: {e}");
                state.hub.sessions().reopen(id);
            }
        }
    }
}

pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
