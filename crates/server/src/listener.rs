//! Accepts client connections, enforcing maxClientCnxns per client address and
//! maxCnxns in all (`limits`, shared by every client port), and
//! hands each to `tls`, which serves it as plaintext or TLS as its port says.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::TcpListener;

use crate::limits::Limit;
use crate::state::ServerState;
use crate::tls;

/// Open connections per client address.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, u32>>);

impl PerAddress {
    /// Each change is one map operation on a `u32`, which a panic cannot leave half
    /// done: a poisoned lock still guards true counts.
    fn counts(&self) -> MutexGuard<'_, HashMap<IpAddr, u32>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One more connection from `ip`, unless it has `limit` already (0: no limit).
    fn take(self: &Arc<Self>, ip: IpAddr, limit: u32) -> Option<Slot> {
        let mut counts = self.counts();
        let n = counts.entry(ip).or_insert(0);
        if limit > 0 && *n >= limit {
            return None;
        }
        *n += 1;
        Some(Slot {
            table: self.clone(),
            ip,
        })
    }
}

/// A connection's place in its address's count. Dropping it gives the place back,
/// when the connection ends and when a panic unwinds its task alike, so a crashing
/// connection cannot lock its address out.
struct Slot {
    table: Arc<PerAddress>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.table.counts();
        if let Some(n) = counts.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

pub async fn run(
    socket: TcpListener,
    port: tls::Port,
    state: Arc<ServerState>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let next_id = AtomicU64::new(1);
    let per_address = Arc::new(PerAddress::default());
    loop {
        let accepted = tokio::select! {
            a = socket.accept() => a,
            _ = stop.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of descriptors and the like: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let limit = state.config.max_client_cnxns;
        let Some(slot) = per_address.take(peer.ip(), limit) else {
            tracing::warn!("Too many connections from {} - max is {limit}", peer.ip());
            state
                .telemetry
                .server_metrics
                .connection_rejected
                .fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let total = match state.limits.take_connection() {
            Ok(total) => total,
            Err(open) => {
                state
                    .telemetry
                    .server_metrics
                    .connection_rejected
                    .fetch_add(1, Ordering::Relaxed);
                if state.limits.log_now(Limit::Connections) {
                    tracing::warn!(
                        "Too many connections: {open} open, the limit is maxCnxns={}; refusing {peer}",
                        state.config.limits.max_cnxns
                    );
                }
                continue;
            }
        };
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let state = state.clone();
        let port = port.clone();
        tokio::spawn(async move {
            let _slots = (slot, total);
            tls::serve(port, stream, peer, state, id).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(table: &PerAddress, ip: IpAddr) -> u32 {
        table.counts().get(&ip).copied().unwrap_or(0)
    }

    #[test]
    fn the_limit_refuses_and_a_dropped_slot_is_given_back() {
        let table = Arc::new(PerAddress::default());
        let ip = IpAddr::from([127, 0, 0, 1]);
        let a = table.take(ip, 2);
        let b = table.take(ip, 2);
        assert!(a.is_some() && b.is_some());
        assert!(table.take(ip, 2).is_none(), "a third over the limit of 2");
        assert!(
            table.take(IpAddr::from([127, 0, 0, 2]), 2).is_some(),
            "another address has its own count"
        );
        drop(a);
        assert_eq!(held(&table, ip), 1);
        assert!(table.take(ip, 2).is_some());
        assert!(table.take(ip, 0).is_some(), "0 is no limit");
    }

    #[tokio::test]
    async fn a_panicking_connection_task_gives_its_slot_back() {
        let table = Arc::new(PerAddress::default());
        let ip = IpAddr::from([127, 0, 0, 1]);
        for _ in 0..3 {
            let slot = table.take(ip, 1).expect("the slot is free");
            let task = tokio::spawn(async move {
                let _slot = slot;
                panic!("a connection task that dies");
            });
            assert!(task.await.expect_err("the task panicked").is_panic());
            assert_eq!(held(&table, ip), 0, "the slot is back");
        }
        assert!(table.counts().is_empty());
    }
}
