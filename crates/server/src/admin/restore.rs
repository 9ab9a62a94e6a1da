//! ZooKeeper 3.9's `restore` admin command (`POST /commands/restore`, alias `rest`):
//! the body is a snapshot in ZooKeeper's format, as the `snapshot` command streams
//! it, and its nodes and sessions replace the tree's. The answer is ZooKeeper's
//! JSON with `last_zxid`.
//!
//! Checked in ZooKeeper's order (`RestoreCommand`): the caller's ALL on "/" (as for
//! `snapshot`), `admin.restore.enabled` (503), one restore per
//! `admin.rateLimiterIntervalInMS` milliseconds (429); the body is read only after
//! those, so an unauthenticated caller gets nothing allocated for it.
//!
//! Unlike ZooKeeper, which swaps the database of the one server asked (and leaves an
//! operator to restore every member the same way), the restore is one transaction
//! of the log (`TxnOp::Restore`), so every member of an ensemble applies it at the
//! same zxid; asking each member in turn, as ZooKeeper's guide says, restores the
//! same tree again. Zxids never go back: a snapshot from ahead of this ensemble's
//! last zxid is refused, and `corral import` is the way to seed a new one with it.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use corral_tree::{OpResult, Txn, TxnOp};
use serde_json::json;

use super::snapshot::{refusal, Gate, RateLimiter};
use crate::state::ServerState;

const NAME: &str = "restore";
/// The largest snapshot body read. An authorized operator sends it, but it is held
/// whole while it is decoded, so it is bounded all the same.
const MAX_BODY: usize = 1 << 30;
/// The largest restore the log carries: the tree compressed, as one entry, which a
/// follower forwards and the leader replicates in one peer frame (64 MiB at most).
const MAX_ENTRY: usize = 32 << 20;

/// The command, once the server is known to be serving.
pub async fn restore(
    state: &std::sync::Arc<ServerState>,
    limiter: &RateLimiter,
    headers: &HeaderMap,
    peer: std::net::IpAddr,
    body: Body,
) -> Response {
    let gate = Gate {
        command: NAME,
        peer,
        enabled: state.config.admin_restore_enabled,
        enabled_key: "admin.restore.enabled",
        limiter,
    };
    if let Some(refused) = gate.refuses(state, headers) {
        return refused;
    }
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) if !b.is_empty() => b,
        Ok(_) => {
            return failed(
                StatusCode::BAD_REQUEST,
                "the request has no snapshot in its body".into(),
            )
        }
        Err(e) => {
            return failed(
                StatusCode::BAD_REQUEST,
                format!("the snapshot could not be read (at most {MAX_BODY} bytes): {e}"),
            )
        }
    };
    let prepared = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || prepare(&state, &body)).await
    };
    let snapshot = match prepared {
        Ok(Ok(s)) => s,
        Ok(Err(why)) => return failed(StatusCode::INTERNAL_SERVER_ERROR, why),
        Err(e) => return failed(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let txn = Txn {
        session_id: 0,
        time: crate::clock::now_millis(),
        identity: Vec::new(),
        op: TxnOp::Restore { snapshot },
    };
    match state.consensus.propose(txn).await {
        Ok(r) if r.result == OpResult::Done => {
            tracing::info!(
                "Restore command: the tree is restored at zxid 0x{:x}",
                r.zxid
            );
            let body = json!({ "command": NAME, "error": null, "last_zxid": r.zxid });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Ok(r) => failed(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the log refused the restore: {:?}", r.result),
        ),
        Err(e) => failed(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the restore did not reach the log: {e}"),
        ),
    }
}

/// The snapshot decoded, checked and encoded as the log's entry carries it.
fn prepare(state: &ServerState, body: &[u8]) -> Result<Bytes, String> {
    let snap = corral_zkdata::snapshot::decode(body, &mut |_, _| {}).map_err(|e| {
        format!(
            "the body is not a ZooKeeper snapshot: {} at byte {}",
            e.reason, e.offset
        )
    })?;
    let mut zk = snap.tree;
    // The 3.9 trailer names the zxid; without it, the newest zxid of any node.
    zk.last_zxid = snap.last_processed_zxid.unwrap_or_else(|| {
        zk.nodes
            .values()
            .map(|n| n.stat.mzxid.max(n.stat.czxid).max(n.stat.pzxid))
            .max()
            .unwrap_or(0)
    });
    let ours = state.tree().read().last_zxid();
    if zk.last_zxid > ours {
        return Err(format!(
            "the snapshot is at zxid 0x{:x}, ahead of this ensemble's 0x{ours:x}; zxids cannot go back, \
             so seed a new data directory with `corral import` instead",
            zk.last_zxid
        ));
    }
    let nodes = zk.nodes.len();
    let (mut tree, _) =
        crate::zkformat::from_zookeeper(zk, state.config.extended_types, &mut |_| {})
            .map_err(|e| format!("the snapshot's tree is inconsistent: {e}"))?;
    let encoded = tree.encode_snapshot();
    if encoded.len() > MAX_ENTRY {
        return Err(format!(
            "the snapshot's tree is {} bytes compressed, over the {MAX_ENTRY} one log entry carries; \
             restore it offline with `corral import`",
            encoded.len()
        ));
    }
    tracing::info!(
        "Restore command: {nodes} nodes decoded, {} bytes to the log",
        encoded.len()
    );
    Ok(encoded)
}

/// ZooKeeper answers a failed restore with its status code; the reason is logged
/// and given in `error`.
fn failed(status: StatusCode, why: String) -> Response {
    tracing::warn!("Exception occurred when restore snapshot via the restore command: {why}");
    refusal(NAME, status, Some(&why))
}
