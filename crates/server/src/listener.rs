//! Accepts client connections, enforcing maxClientCnxns per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;

use crate::connection;
use crate::state::ServerState;

pub async fn run(
    socket: TcpListener,
    state: Arc<ServerState>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let next_id = AtomicU64::new(1);
    let per_ip: Arc<Mutex<HashMap<IpAddr, u32>>> = Arc::default();
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
        {
            let mut counts = per_ip.lock().unwrap_or_else(|p| p.into_inner());
            let n = counts.entry(peer.ip()).or_insert(0);
            if limit > 0 && *n >= limit {
                tracing::warn!("Too many connections from {} - max is {limit}", peer.ip());
                crate::mntr::get()
                    .connection_rejected
                    .fetch_add(1, Ordering::Relaxed);
                continue;
            }
            *n += 1;
        }
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let state = state.clone();
        let per_ip = per_ip.clone();
        tokio::spawn(async move {
            connection::serve(stream, peer, state, id).await;
            let mut counts = per_ip.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = counts.get_mut(&peer.ip()) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    counts.remove(&peer.ip());
                }
            }
        });
    }
}
