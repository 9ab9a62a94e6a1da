//! The Raft state machine: applies committed entries to the shared tree in log order.
//!
//! The log index is the zxid. It is 64 bits and only grows, so a busy ensemble never
//! rolls a 32-bit counter over and never holds an election for it.

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use corral_tree::{DataTree, Event, Txn, TxnResult};
use futures::{Stream, StreamExt};
use openraft::storage::{EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use openraft::EntryPayload;

use crate::types::{LogId, Snapshot, SnapshotMeta, StoredMembership, TypeConfig};
use crate::SharedTree;

/// Told of every applied transaction, under the tree's write lock. The server's
/// watch manager and session table hang off this.
pub trait ApplyObserver: Send + Sync + 'static {
    fn applied(&self, tree: &DataTree, txn: &Txn, result: &TxnResult, events: &[Event]);

    /// The tree was replaced wholesale by a snapshot.
    fn reset(&self, _tree: &DataTree) {}
}

pub struct TreeStateMachine {
    tree: SharedTree,
    observer: Arc<dyn ApplyObserver>,
    applied_tx: tokio::sync::watch::Sender<u64>,
    last_applied: Option<LogId>,
    membership: StoredMembership,
    current: Option<Snapshot>,
}

impl TreeStateMachine {
    pub fn new(
        tree: SharedTree,
        observer: Arc<dyn ApplyObserver>,
        applied_tx: tokio::sync::watch::Sender<u64>,
    ) -> Self {
        TreeStateMachine {
            tree,
            observer,
            applied_tx,
            last_applied: None,
            membership: StoredMembership::default(),
            current: None,
        }
    }
}

pub struct TreeSnapshotBuilder {
    bytes: Bytes,
    meta: SnapshotMeta,
}

impl RaftSnapshotBuilder<TypeConfig> for TreeSnapshotBuilder {
    type SnapshotData = Bytes;

    async fn build_snapshot(&mut self) -> Result<Snapshot, io::Error> {
        Ok(Snapshot {
            meta: self.meta.clone(),
            snapshot: self.bytes.clone(),
        })
    }
}

impl RaftStateMachine<TypeConfig> for TreeStateMachine {
    type SnapshotData = Bytes;
    type SnapshotBuilder = TreeSnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), io::Error> {
        Ok((self.last_applied, self.membership.clone()))
    }

    async fn apply<S>(&mut self, mut entries: S) -> Result<(), io::Error>
    where
        S: Stream<Item = Result<EntryResponder<TypeConfig>, io::Error>> + Unpin + Send,
    {
        while let Some(item) = entries.next().await {
            let (entry, responder) = item?;
            let index = entry.log_id.index;
            let result = {
                let mut tree = self.tree.write();
                let result = match &entry.payload {
                    EntryPayload::Normal(txn) => {
                        let (result, events) = tree.apply(index as i64, txn);
                        self.observer.applied(&tree, txn, &result, &events);
                        result
                    }
                    EntryPayload::Blank => noop(&mut tree, index),
                    EntryPayload::Membership(m) => {
                        self.membership = StoredMembership::new(Some(entry.log_id), m.clone());
                        noop(&mut tree, index)
                    }
                };
                self.last_applied = Some(entry.log_id);
                result
            };
            self.applied_tx.send_replace(index);
            if let Some(responder) = responder {
                responder.send(result);
            }
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        let bytes = self.tree.read().encode_snapshot();
        let meta = SnapshotMeta {
            last_log_id: self.last_applied,
            last_membership: self.membership.clone(),
        };
        self.current = Some(Snapshot {
            meta: meta.clone(),
            snapshot: bytes.clone(),
        });
        TreeSnapshotBuilder { bytes, meta }
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Bytes,
    ) -> Result<(), io::Error> {
        let tree = DataTree::decode_snapshot(&snapshot)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        {
            let mut guard = self.tree.write();
            *guard = tree;
            self.observer.reset(&guard);
        }
        self.last_applied = meta.last_log_id;
        self.membership = meta.last_membership.clone();
        self.applied_tx
            .send_replace(meta.last_log_id.map_or(0, |l| l.index));
        self.current = Some(Snapshot {
            meta: meta.clone(),
            snapshot,
        });
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, io::Error> {
        Ok(self.current.clone())
    }
}

/// A blank or membership entry takes a zxid like any other, so replies stay ordered.
fn noop(tree: &mut DataTree, index: u64) -> TxnResult {
    let txn = Txn {
        session_id: 0,
        time: 0,
        identity: Vec::new(),
        op: corral_tree::TxnOp::Noop,
    };
    tree.apply(index as i64, &txn).0
}
