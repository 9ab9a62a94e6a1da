//! Removes containers that have had children and have none left, and TTL nodes
//! without children whose TTL has passed since their last change, as ZooKeeper's
//! `ContainerManager` does every `znode.container.checkIntervalMs`.

use std::sync::Arc;
use std::time::Duration;

use corral_tree::txn::{CONTAINER_OWNER, TTL_MASK};
use corral_tree::{Txn, TxnOp};

use crate::clock::now_millis;
use crate::state::ServerState;

pub async fn run(state: Arc<ServerState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let period = Duration::from_millis(state.config.container_check_interval_ms.max(10));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => return,
        }
        for path in candidates(&state) {
            let txn = Txn {
                session_id: 0,
                time: now_millis(),
                identity: Vec::new(),
                op: TxnOp::Reap { path: path.clone() },
            };
            if let Err(e) = state.consensus.propose(txn).await {
                tracing::warn!("could not remove {path}: {e}");
            }
        }
    }
}

fn candidates(state: &ServerState) -> Vec<String> {
    let tree = state.tree().read();
    let now = now_millis();
    let mut out = Vec::new();
    for path in tree.containers().chain(tree.ttls()) {
        let Some(node) = tree.node(path) else {
            continue;
        };
        if !node.children.is_empty() {
            continue;
        }
        let owner = node.ephemeral_owner;
        let due = if owner == CONTAINER_OWNER {
            node.cversion > 0
        } else if owner & TTL_MASK == TTL_MASK {
            let ttl = owner & !TTL_MASK;
            now - node.mtime > ttl
        } else {
            false
        };
        if due {
            out.push(path.clone());
        }
    }
    out
}
