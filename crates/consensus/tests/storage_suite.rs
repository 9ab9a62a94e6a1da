//! openraft's own conformance suite, run against Corral's log store and state machine.

use std::sync::Arc;

use corral_consensus::log_store::MemLogStore;
use corral_consensus::state_machine::TreeStateMachine;
use corral_consensus::{ApplyObserver, RaftTypeConfig, SharedTree};
use corral_tree::{DataTree, Event, Txn, TxnResult};
use openraft::testing::log::{StoreBuilder, Suite};
use openraft::StorageError;

struct Quiet;

impl ApplyObserver for Quiet {
    fn applied(&self, _: &DataTree, _: &Txn, _: &TxnResult, _: &[Event]) {}
}

struct Builder;

impl StoreBuilder<RaftTypeConfig, MemLogStore, TreeStateMachine> for Builder {
    async fn build(
        &self,
    ) -> Result<((), MemLogStore, TreeStateMachine), StorageError<RaftTypeConfig>> {
        let (tx, _rx) = tokio::sync::watch::channel(0);
        let sm = TreeStateMachine::new(SharedTree::new(DataTree::new(false)), Arc::new(Quiet), tx);
        Ok(((), MemLogStore::default(), sm))
    }
}

#[tokio::test]
async fn openraft_storage_suite() -> Result<(), StorageError<RaftTypeConfig>> {
    Suite::test_all(Builder).await
}
