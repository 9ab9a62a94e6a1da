//! The leader's side of a write and of a sync: appending to its own log and
//! confirming its leadership. The leader's own clients and the writes its followers
//! forward (`peer::serve`) come through here alike.

use std::sync::Arc;

use corral_tree::{Txn, TxnResult};

use crate::error::ConsensusError;
use crate::measure::Measure;
use crate::observer::ApplyObserver;
use crate::state_machine::Raft;

/// Appends to this node's log, which must be the leader's, and returns a future for
/// the result once applied. Transactions appended one after another keep that order.
/// `local`: the transaction comes from this server's own clients, not a follower's.
pub(crate) async fn append_local(
    raft: &Raft,
    observer: &Arc<dyn ApplyObserver>,
    txn: Txn,
    local: bool,
) -> Result<
    impl std::future::Future<Output = Result<TxnResult, ConsensusError>> + Send + 'static,
    ConsensusError,
> {
    use openraft::errors::ClientWriteError;
    let (responder, committed, result) = openraft::impls::ProgressResponder::new();
    let proposed = std::time::Instant::now();
    raft.client_write_ff(Arc::new(txn), Some(responder))
        .await
        .map_err(|e| ConsensusError::Unavailable(e.to_string()))?;
    observer.measured(Measure::Proposed {
        took: proposed.elapsed(),
    });
    let observer = observer.clone();
    Ok(async move {
        // openraft reports the commit before the apply. The apply is what we wait
        // for; the commit is only timed (it fails at once if openraft drops it, and
        // then the result tells what happened).
        let committed_at = committed.await.ok().map(|_| {
            let at = std::time::Instant::now();
            observer.measured(Measure::Committed {
                since_proposed: at.saturating_duration_since(proposed),
            });
            at
        });
        let result = result.await;
        if let (Some(at), Ok(Ok(_))) = (committed_at, &result) {
            observer.measured(Measure::CommitApplied {
                local,
                took: at.elapsed(),
            });
        }
        match result {
            Ok(Ok(resp)) => Ok(resp.data),
            Ok(Err(ClientWriteError::ForwardToLeader(f))) => Err(ConsensusError::NotLeader {
                leader: f.leader_id,
            }),
            Ok(Err(e)) => Err(ConsensusError::Unavailable(e.to_string())),
            Err(_) => Err(ConsensusError::Unavailable("raft stopped".into())),
        }
    })
}

/// On the leader: confirms with a quorum that it still leads, and returns the log
/// index a linearizable read must wait for.
pub(crate) async fn read_index_local(raft: &Raft) -> Result<u64, ConsensusError> {
    raft.ensure_linearizable(openraft::ReadPolicy::ReadIndex)
        .await
        .map(|r| r.index())
        .map_err(|e| ConsensusError::Unavailable(e.to_string()))
}
