//! The Raft state machine: applies committed entries to the shared tree in log order,
//! and writes and installs snapshots of it.
//!
//! The log index is the zxid. It is 64 bits and only grows, so a busy ensemble never
//! rolls a 32-bit counter over and never holds an election for it.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use corral_storage::snapshot;
use corral_tree::{DataTree, Event, Txn, TxnOp, TxnResult};
use futures::{Stream, StreamExt};
use openraft::storage::{EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use openraft::EntryPayload;

use crate::log_store::DiskLogStore;
use crate::measure::{since_stamped, Measure};
use crate::observer::ApplyObserver;
use crate::shared_tree::SharedTree;
use crate::types::{Entry, LogId, Snapshot, SnapshotMeta, StoredMembership, TypeConfig};

/// The Raft node over this state machine, as every part of the crate drives it.
pub type Raft = openraft::Raft<TypeConfig, TreeStateMachine>;

/// Where snapshots go and how many to keep.
#[derive(Clone)]
pub struct SnapshotStore {
    pub dir: PathBuf,
    /// Snapshots to keep; the log behind the oldest kept one stays too.
    pub retain: usize,
    /// autopurge on: old snapshots and the log they alone needed are deleted.
    pub autopurge: bool,
    pub log: DiskLogStore,
}

impl SnapshotStore {
    fn write(&self, index: u64, meta: &SnapshotMeta, tree: &[u8]) -> Result<u64, io::Error> {
        let meta =
            postcard::to_stdvec(meta).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let (path, size) =
            snapshot::write(&self.dir, index, &meta, tree).map_err(io::Error::other)?;
        tracing::info!("Snapshot written: {} ({size} bytes)", path.display());
        if self.autopurge {
            self.purge();
        }
        Ok(size)
    }

    /// Keeps the newest `retain` snapshots and the log segments they need.
    pub fn purge(&self) {
        match snapshot::retain(&self.dir, self.retain) {
            Ok(Some(oldest)) => match self.log.purge_segments(oldest) {
                Ok(n) if n > 0 => {
                    tracing::info!("Purged {n} log segment(s) behind snapshot {oldest}")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("autopurge of the log failed: {e}"),
            },
            Ok(None) => {}
            Err(e) => tracing::warn!("autopurge of snapshots failed: {e}"),
        }
    }

    pub fn newest(&self) -> Result<Option<Snapshot>, io::Error> {
        for (_, path) in snapshot::list(&self.dir) {
            match snapshot::read(&path) {
                Ok(f) => {
                    let meta: SnapshotMeta = postcard::from_bytes(&f.meta)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                    return Ok(Some(Snapshot {
                        meta,
                        snapshot: Bytes::from(f.tree),
                    }));
                }
                Err(e) => tracing::warn!("skipping snapshot: {e}"),
            }
        }
        Ok(None)
    }
}

pub struct TreeStateMachine {
    tree: SharedTree,
    observer: Arc<dyn ApplyObserver>,
    applied_tx: tokio::sync::watch::Sender<u64>,
    last_applied: Option<LogId>,
    membership: StoredMembership,
    store: SnapshotStore,
    #[cfg(feature = "test-faults")]
    faults: crate::fault::FaultSwitch,
}

impl TreeStateMachine {
    pub fn new(
        tree: SharedTree,
        observer: Arc<dyn ApplyObserver>,
        applied_tx: tokio::sync::watch::Sender<u64>,
        applied: (Option<LogId>, StoredMembership),
        store: SnapshotStore,
    ) -> Self {
        applied_tx.send_replace(applied.0.map_or(0, |l| l.index));
        TreeStateMachine {
            tree,
            observer,
            applied_tx,
            last_applied: applied.0,
            membership: applied.1,
            store,
            #[cfg(feature = "test-faults")]
            faults: Default::default(),
        }
    }

    /// Runs with the test faults of `faults` (see `crate::fault`).
    #[cfg(feature = "test-faults")]
    pub(crate) fn with_faults(mut self, faults: crate::fault::FaultSwitch) -> Self {
        self.faults = faults;
        self
    }
}

/// Runs the calling thread at nice 10 (Linux), for background work.
fn lower_priority() {
    // SAFETY: setpriority on the calling thread's id changes only its scheduling
    // priority; a failure is harmless and ignored.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// Nodes written per read-lock hold while a snapshot is taken.
const SNAPSHOT_CHUNK: usize = 4096;

/// Applies one entry to a tree, as both the running state machine and recovery do.
pub fn apply_entry(
    tree: &mut DataTree,
    entry: &Entry,
    membership: &mut StoredMembership,
) -> (TxnResult, Vec<Event>) {
    let index = entry.log_id.index as i64;
    match &entry.payload {
        EntryPayload::Normal(txn) => tree.apply(index, txn),
        EntryPayload::Blank => tree.apply(index, &noop()),
        EntryPayload::Membership(m) => {
            *membership = StoredMembership::new(Some(entry.log_id), m.clone());
            tree.apply(index, &noop())
        }
    }
}

/// A blank or membership entry takes a zxid like any other, so replies stay ordered.
fn noop() -> Txn {
    Txn {
        session_id: 0,
        time: 0,
        identity: Vec::new(),
        op: TxnOp::Noop,
    }
}

pub struct TreeSnapshotBuilder {
    tree: SharedTree,
    writer: std::sync::Mutex<Option<corral_tree::snapshot::SnapshotWriter>>,
    meta: SnapshotMeta,
    store: SnapshotStore,
    observer: Arc<dyn ApplyObserver>,
}

impl RaftSnapshotBuilder<TypeConfig> for TreeSnapshotBuilder {
    type SnapshotData = Bytes;

    async fn build_snapshot(&mut self) -> Result<Snapshot, io::Error> {
        let index = self.meta.last_log_id.map_or(0, |l| l.index);
        let started = std::time::Instant::now();
        // Poisoning is ignored: nothing but this `take` ever runs under the lock, so
        // no panic can have left the slot half-changed.
        let Some(mut writer) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return Err(io::Error::other("snapshot already built"));
        };
        let tree = self.tree.clone();
        let store = self.store.clone();
        let meta = self.meta.clone();
        // A thread of its own at a lower priority: the walk and the compression are
        // CPU work that must not take turns away from requests. The read lock is held
        // a chunk at a time, so writes wait a few milliseconds at most.
        let (bytes, size) = tokio::task::spawn_blocking(move || -> io::Result<(Bytes, u64)> {
            lower_priority();
            while !writer.is_done() {
                tree.read().snapshot_step(&mut writer, SNAPSHOT_CHUNK);
            }
            let bytes = tree.write().finish_snapshot(writer)?;
            let size = store.write(index, &meta, &bytes)?;
            Ok((bytes, size))
        })
        .await
        .map_err(io::Error::other)??;
        self.observer.snapshot_taken(index, size, started.elapsed());
        Ok(Snapshot {
            meta: self.meta.clone(),
            snapshot: bytes,
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
            let result = {
                let mut tree = self.tree.write();
                let (result, events) = apply_entry(&mut tree, &entry, &mut self.membership);
                if let EntryPayload::Normal(txn) = &entry.payload {
                    #[cfg(feature = "test-faults")]
                    self.faults.applied(txn);
                    self.observer.applied(&tree, txn, &result, &events);
                    self.observer.measured(Measure::Applied {
                        since_stamped: since_stamped(txn),
                    });
                }
                self.last_applied = Some(entry.log_id);
                result
            };
            self.applied_tx.send_replace(entry.log_id.index);
            if let Some(responder) = responder {
                responder.send(result);
            }
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        let writer = self.tree.write().begin_snapshot();
        TreeSnapshotBuilder {
            tree: self.tree.clone(),
            writer: std::sync::Mutex::new(Some(writer)),
            meta: SnapshotMeta {
                last_log_id: self.last_applied,
                last_membership: self.membership.clone(),
            },
            store: self.store.clone(),
            observer: self.observer.clone(),
        }
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Bytes,
    ) -> Result<(), io::Error> {
        let tree = DataTree::decode_snapshot(&snapshot)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let index = meta.last_log_id.map_or(0, |l| l.index);
        let store = self.store.clone();
        let (m, bytes) = (meta.clone(), snapshot.clone());
        tokio::task::spawn_blocking(move || store.write(index, &m, &bytes))
            .await
            .map_err(io::Error::other)??;
        {
            let mut guard = self.tree.write();
            *guard = tree;
            self.observer.reset(&guard);
        }
        self.last_applied = meta.last_log_id;
        self.membership = meta.last_membership.clone();
        self.applied_tx.send_replace(index);
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, io::Error> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.newest())
            .await
            .map_err(io::Error::other)?
    }
}
