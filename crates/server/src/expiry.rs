//! Session expiry, the task. Only the leader expires: a session that no server heard
//! from within its timeout is closed through the log, which removes its ephemerals on
//! every replica. The other servers report the sessions they heard from to the leader
//! every half tick, as ZooKeeper's followers do in their pings, and a new leader
//! gives every session a fresh timeout. The rules are `session::SessionTable`'s; this
//! task reads the clock and acts on what they say.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corral_consensus::Role;
use corral_tree::{Txn, TxnOp};

use crate::clock::now_millis;
use crate::state::ServerState;

/// On the leader, proposes a close for every session whose deadline passed; on the
/// other servers, reports the sessions heard from to the leader.
pub async fn run(state: Arc<ServerState>, mut stop: tokio::sync::watch::Receiver<bool>) {
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
            state.hub.sessions().renew_all(Instant::now());
        }
        led = leads;
        if !leads {
            let alive = state.hub.sessions().take_touched();
            state.consensus.report_alive(alive).await;
            continue;
        }
        state.hub.sessions().clear_touched();
        if !now.serving {
            continue;
        }
        let expired = state.hub.sessions().expired(Instant::now());
        for id in expired {
            expire(&state, id).await;
        }
    }
}

async fn expire(state: &ServerState, id: i64) {
    tracing::info!("Expiring session 0x{id:x}, timeout exceeded");
    state
        .telemetry
        .server_metrics
        .sessions_expired
        .fetch_add(1, Ordering::Relaxed);
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
