//! openraft's own conformance suite, run against Corral's disk log store and state
//! machine, each test in a fresh directory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use corral_consensus::log_store::DiskLogStore;
use corral_consensus::state_machine::{SnapshotStore, TreeStateMachine};
use corral_consensus::{ApplyObserver, RaftTypeConfig, SharedTree};
use corral_tree::{DataTree, Event, Txn, TxnResult};
use openraft::testing::log::{StoreBuilder, Suite};
use openraft::StorageError;

struct Quiet;

impl ApplyObserver for Quiet {
    fn applied(&self, _: &DataTree, _: &Txn, _: &TxnResult, _: &[Event]) {}
}

struct Builder {
    root: std::path::PathBuf,
    next: AtomicUsize,
}

impl StoreBuilder<RaftTypeConfig, DiskLogStore, TreeStateMachine> for Builder {
    async fn build(
        &self,
    ) -> Result<((), DiskLogStore, TreeStateMachine), StorageError<RaftTypeConfig>> {
        let dir = self
            .root
            .join(self.next.fetch_add(1, Ordering::SeqCst).to_string());
        let opened = DiskLogStore::open(&dir.join("log"), 0, 0, None).map_err(|e| {
            StorageError::from_io_error(
                openraft::ErrorSubject::Logs,
                openraft::ErrorVerb::Read,
                std::io::Error::other(e.to_string()),
            )
        })?;
        let store = SnapshotStore {
            dir: dir.join("snapshots"),
            retain: 3,
            autopurge: true,
            log: opened.store.clone(),
        };
        let (tx, _rx) = tokio::sync::watch::channel(0);
        let tree = SharedTree::new(DataTree::new(false));
        let sm =
            TreeStateMachine::new(tree, Arc::new(Quiet), tx, (None, Default::default()), store);
        Ok(((), opened.store, sm))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openraft_storage_suite() -> Result<(), StorageError<RaftTypeConfig>> {
    let root = std::env::temp_dir().join(format!("corral-suite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let result = Suite::test_all(Builder {
        root: root.clone(),
        next: AtomicUsize::new(0),
    })
    .await;
    let _ = std::fs::remove_dir_all(&root);
    result
}
