//! The write path on any server: a client's transaction goes into the leader's log
//! (here, or forwarded to the leader), and its result comes back once this server has
//! applied it, so the client reads its own write here. `sync` waits the same way.

use corral_tree::{Txn, TxnResult};

use crate::append::{append_local, read_index_local};
use crate::error::ConsensusError;
use crate::handle::Consensus;
use crate::measure::Measure;
use crate::peer::wire::{PeerRequest, PeerResponse};

/// How long a forwarded write may wait for this server to apply it after the leader
/// did, before the client's connection is closed instead.
const APPLY_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

impl Consensus {
    /// Appends a transaction to the log and returns its result once applied here.
    pub async fn propose(&self, txn: Txn) -> Result<TxnResult, ConsensusError> {
        self.submit(txn).await?.await
    }

    /// Hands a transaction to the log and returns at once with a future for its result.
    /// Transactions submitted one after another enter the log in that order, which is
    /// how a session's writes keep the order the client sent them in. On a follower
    /// the transaction goes to the leader, and the future resolves once this server
    /// has applied it too, so the client reads its own write here.
    pub async fn submit(
        &self,
        txn: Txn,
    ) -> Result<
        impl std::future::Future<Output = Result<TxnResult, ConsensusError>> + Send + 'static,
        ConsensusError,
    > {
        let (leader, addr) = self.leader().await?;
        if leader == self.id {
            let local = append_local(&self.raft, &self.observer, txn, true).await?;
            return Ok(futures::future::Either::Left(local));
        }
        let answer = self
            .forwarder
            .request(leader, &addr, |id| PeerRequest::Forward { id, txn })
            .await?;
        let applied = self.applied.clone();
        let observer = self.observer.clone();
        Ok(futures::future::Either::Right(async move {
            let lost = || ConsensusError::Unavailable(format!("lost the link to leader {leader}"));
            let result = match answer.await.map_err(|_| lost())? {
                PeerResponse::Forwarded { result, .. } => result?,
                _ => return Err(lost()),
            };
            // The leader answers once it has committed (and applied) the write: from
            // here this server knows it is committed and waits to apply it.
            let committed = std::time::Instant::now();
            wait_applied(applied, result.zxid as u64).await?;
            observer.measured(Measure::CommitApplied {
                local: true,
                took: committed.elapsed(),
            });
            Ok(result)
        }))
    }

    /// ZooKeeper's `sync`: returns once this server has applied everything the leader
    /// had committed when the sync reached it.
    pub fn sync(
        &self,
    ) -> impl std::future::Future<Output = Result<(), ConsensusError>> + Send + 'static {
        let this = self.clone();
        async move {
            #[cfg(feature = "test-faults")]
            if this.fault.stale_sync() {
                return Ok(());
            }
            let (leader, addr) = this.leader().await?;
            let index = if leader == this.id {
                read_index_local(&this.raft).await?
            } else {
                let answer = this
                    .forwarder
                    .request(leader, &addr, |id| PeerRequest::ReadIndex { id })
                    .await?;
                match answer.await {
                    Ok(PeerResponse::ReadIndex { result, .. }) => result?,
                    _ => {
                        return Err(ConsensusError::Unavailable(format!(
                            "lost the link to leader {leader}"
                        )))
                    }
                }
            };
            wait_applied(this.applied.clone(), index).await
        }
    }
}

async fn wait_applied(
    mut applied: tokio::sync::watch::Receiver<u64>,
    index: u64,
) -> Result<(), ConsensusError> {
    match tokio::time::timeout(APPLY_WAIT, applied.wait_for(|a| *a >= index)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(_)) => Err(ConsensusError::Unavailable("raft stopped".into())),
        Err(_) => Err(ConsensusError::Unavailable(format!(
            "not caught up with index {index}"
        ))),
    }
}
