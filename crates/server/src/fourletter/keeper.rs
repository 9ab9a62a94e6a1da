//! ClickHouse Keeper's words, for its operators' tools: `lgif` (where the log starts
//! and ends), `csnp` (snapshot now), `rqld` and `ydld` (ask for, or give up, the
//! leadership).

use crate::state::ServerState;

/// ClickHouse Keeper's `lgif`: where this server's log starts and ends, what is
/// committed, and the last snapshot. Terms are the current term (Corral keeps no
/// per-index term outside the log).
pub(super) fn log_info(state: &ServerState) -> String {
    let raft = state.consensus.metrics();
    let lines = [
        ("first_log_idx", state.consensus.first_log_index()),
        ("first_log_term", raft.term),
        ("last_log_idx", raft.last_log_index),
        ("last_log_term", raft.term),
        ("last_committed_log_idx", raft.applied_index),
        ("leader_committed_log_idx", raft.committed_index),
        ("target_committed_log_idx", raft.committed_index),
        ("last_snapshot_idx", raft.snapshot_index),
    ];
    lines.iter().map(|(k, v)| format!("{k}\t{v}\n")).collect()
}

/// `csnp`: a snapshot now, and the log index it will cover.
pub(super) async fn snapshot_now(state: &ServerState) -> String {
    match state.consensus.snapshot_now().await {
        Ok(()) => format!(
            "Snapshot creation scheduled with last committed log index {}.",
            state.consensus.metrics().committed_index
        ),
        Err(_) => "Failed to schedule snapshot creation task.".to_string(),
    }
}

/// `rqld`: ask the leader to hand this server the leadership.
pub(super) async fn request_leadership(state: &ServerState) -> String {
    if state.consensus.request_leadership().await {
        "Sent leadership request to leader."
    } else {
        "Failed to send leadership request to leader."
    }
    .to_string()
}

/// `ydld`: ask the leader to give the leadership up.
pub(super) async fn yield_leadership(state: &ServerState) -> String {
    if state.consensus.yield_leadership().await.is_some() {
        "Sent yield leadership request to leader."
    } else {
        "Failed to send yield leadership request to leader."
    }
    .to_string()
}
