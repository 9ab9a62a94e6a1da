//! Consensus: the one place Corral touches openraft.
//!
//! This crate owns the Raft glue and nothing else: the type configuration (`types`),
//! the log store (`log_store`), the state machine that applies committed transactions
//! to the shared tree and tells an observer what changed (`state_machine`), and the
//! peer network (`network` for a standalone node; `peer`, TCP between the servers of
//! an ensemble). Everything above talks to [`Consensus`], which proposes a
//! transaction and returns its result once it is applied here. A standalone server is
//! a one-voter cluster on this same path.

pub mod inspect;
pub mod log_store;

pub mod network;
pub mod peer;
mod recovery;
pub mod state_machine;
pub mod types;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use corral_tree::{DataTree, Txn, TxnResult};
use openraft::async_runtime::WatchReceiver;
use openraft::impls::BasicNode;
use openraft::Config;

pub use state_machine::ApplyObserver;
use types::{Raft, TypeConfig};

/// The tree every part of a server reads, behind one lock: the state machine writes
/// under it and calls the observer while still holding it, so a read that registers a
/// watch never misses an event.
#[derive(Clone)]
pub struct SharedTree(Arc<RwLock<DataTree>>);

impl SharedTree {
    pub fn new(tree: DataTree) -> Self {
        SharedTree(Arc::new(RwLock::new(tree)))
    }

    pub fn read(&self) -> RwLockReadGuard<'_, DataTree> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, DataTree> {
        self.0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConsensusError {
    #[error("storage: {0}")]
    Storage(String),
    #[error("raft failed to start: {0}")]
    Start(String),
    #[error("this server is not the leader (leader: {leader:?})")]
    NotLeader { leader: Option<u64> },
    #[error("consensus unavailable: {0}")]
    Unavailable(String),
}

/// Timing of the Raft node, derived from zoo.cfg's tickTime and limits.
#[derive(Debug, Clone)]
pub struct Timing {
    pub heartbeat_ms: u64,
    pub election_min_ms: u64,
    pub election_max_ms: u64,
    /// Log entries between snapshots (ZooKeeper's snapCount).
    pub snap_count: u64,
}

/// Where a node keeps its data.
#[derive(Debug, Clone)]
pub struct Paths {
    pub snapshots: std::path::PathBuf,
    pub log: std::path::PathBuf,
    pub snap_retain: usize,
    pub autopurge: bool,
    pub extended_types: bool,
    pub log_segment_bytes: u64,
}

/// A running Raft node holding the tree.
#[derive(Clone)]
pub struct Consensus {
    raft: Raft,
    tree: SharedTree,
    applied: tokio::sync::watch::Receiver<u64>,
    id: u64,
    stop_peers: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Consensus {
    /// Starts a standalone node: a cluster of one voter that elects itself.
    pub async fn start_standalone(
        id: u64,
        paths: &Paths,
        observer: Arc<dyn ApplyObserver>,
        timing: Timing,
    ) -> Result<Consensus, ConsensusError> {
        let members = BTreeMap::from([(id, BasicNode::default())]);
        Self::start(id, paths, observer, timing, network::NoPeers, members, None).await
    }

    /// Starts one voter of an ensemble: `members` maps every voter's id to its peer
    /// address (host:port), this node's included; peers' RPCs are answered there.
    pub async fn start_cluster(
        id: u64,
        members: BTreeMap<u64, String>,
        paths: &Paths,
        observer: Arc<dyn ApplyObserver>,
        timing: Timing,
    ) -> Result<Consensus, ConsensusError> {
        let Some(addr) = members.get(&id).cloned() else {
            return Err(ConsensusError::Start(format!(
                "server {id} is not among the members"
            )));
        };
        let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
            ConsensusError::Start(format!("cannot listen for peers on {addr}: {e}"))
        })?;
        let members = members
            .into_iter()
            .map(|(i, a)| (i, BasicNode::new(a)))
            .collect();
        Self::start(
            id,
            paths,
            observer,
            timing,
            peer::TcpPeers,
            members,
            Some(listener),
        )
        .await
    }

    async fn start<
        N: openraft::network::RaftNetworkFactory<
            TypeConfig,
            Network = impl openraft::network::RaftNetworkV2<TypeConfig, SnapshotData = bytes::Bytes>,
        >,
    >(
        id: u64,
        paths: &Paths,
        observer: Arc<dyn ApplyObserver>,
        timing: Timing,
        network: N,
        members: BTreeMap<u64, BasicNode>,
        peer_listener: Option<tokio::net::TcpListener>,
    ) -> Result<Consensus, ConsensusError> {
        let recovered = recovery::recover(&paths.snapshots, &paths.log, paths.extended_types)?;
        recovered.log.set_segment_bytes(paths.log_segment_bytes);
        let tree = SharedTree::new(recovered.tree);
        observer.reset(&tree.read());
        let config = Config {
            cluster_name: "corral".into(),
            heartbeat_interval: timing.heartbeat_ms,
            election_timeout_min: timing.election_min_ms,
            election_timeout_max: timing.election_max_ms,
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(timing.snap_count),
            max_in_snapshot_log_to_keep: 0,
            ..Default::default()
        }
        .validate()
        .map_err(|e| ConsensusError::Start(e.to_string()))?;
        let (applied_tx, applied) = tokio::sync::watch::channel(0);
        let store = state_machine::SnapshotStore {
            dir: paths.snapshots.clone(),
            retain: paths.snap_retain,
            autopurge: paths.autopurge,
            log: recovered.log.clone(),
        };
        if paths.autopurge {
            store.purge();
        }
        let recovered_state = (recovered.applied, recovered.membership);
        let sm = state_machine::TreeStateMachine::new(
            tree.clone(),
            observer,
            applied_tx,
            recovered_state,
            store,
        );
        let log = recovered.log;
        let raft = Raft::new(id, Arc::new(config), network, log, sm)
            .await
            .map_err(|e| ConsensusError::Start(e.to_string()))?;
        let (stop_peers, peers_stopped) = tokio::sync::watch::channel(false);
        if let Some(listener) = peer_listener {
            tokio::spawn(peer::serve(listener, raft.clone(), peers_stopped));
        }
        let initialized = raft
            .is_initialized()
            .await
            .map_err(|e| ConsensusError::Start(e.to_string()))?;
        if !initialized {
            // Every member starts from the same list, as every ZooKeeper server reads
            // the same server.N lines; initializing with it on each is harmless.
            if let Err(e) = raft.initialize(members).await {
                tracing::info!("membership already set by a peer: {e}");
            }
        }
        Ok(Consensus {
            raft,
            tree,
            applied,
            id,
            stop_peers: Arc::new(stop_peers),
        })
    }

    pub fn tree(&self) -> &SharedTree {
        &self.tree
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// Waits until this node leads (a standalone node elects itself at once).
    pub async fn wait_leader(&self, timeout: std::time::Duration) -> Result<(), ConsensusError> {
        self.raft
            .wait(Some(timeout))
            .current_leader(self.id, "await leadership")
            .await
            .map(|_| ())
            .map_err(|e| ConsensusError::Unavailable(e.to_string()))
    }

    /// Appends a transaction to the log and returns its result once applied here.
    pub async fn propose(&self, txn: Txn) -> Result<TxnResult, ConsensusError> {
        use openraft::errors::{ClientWriteError, RaftError};
        match self.raft.client_write(txn).await {
            Ok(resp) => Ok(resp.data),
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => {
                Err(ConsensusError::NotLeader {
                    leader: f.leader_id,
                })
            }
            Err(e) => Err(ConsensusError::Unavailable(e.to_string())),
        }
    }

    /// Hands a transaction to the log and returns at once with a future for its result.
    /// Transactions submitted one after another enter the log in that order, which is
    /// how a session's writes keep the order the client sent them in.
    pub async fn submit(
        &self,
        txn: Txn,
    ) -> Result<impl std::future::Future<Output = Result<TxnResult, ConsensusError>>, ConsensusError>
    {
        use openraft::errors::ClientWriteError;
        let (responder, committed, result) = openraft::impls::ProgressResponder::new();
        self.raft
            .client_write_ff(txn, Some(responder))
            .await
            .map_err(|e| ConsensusError::Unavailable(e.to_string()))?;
        Ok(async move {
            // openraft reports the commit before the apply; the apply is what we wait
            // for, but the commit receiver must live until then.
            let _committed = committed;
            match result.await {
                Ok(Ok(resp)) => Ok(resp.data),
                Ok(Err(ClientWriteError::ForwardToLeader(f))) => Err(ConsensusError::NotLeader {
                    leader: f.leader_id,
                }),
                Ok(Err(e)) => Err(ConsensusError::Unavailable(e.to_string())),
                Err(_) => Err(ConsensusError::Unavailable("raft stopped".into())),
            }
        })
    }

    /// Waits until the tree has applied everything in the log at start-up, so a
    /// client that saw a zxid before a restart finds it again.
    pub async fn wait_caught_up(&self, timeout: std::time::Duration) -> Result<(), ConsensusError> {
        let target = self.metrics().last_log_index;
        let mut applied = self.applied.clone();
        tokio::time::timeout(timeout, applied.wait_for(|a| *a >= target))
            .await
            .map_err(|_| ConsensusError::Unavailable("timed out replaying the log".into()))?
            .map_err(|_| ConsensusError::Unavailable("raft stopped".into()))?;
        Ok(())
    }

    /// Asks for a snapshot now (`csnp`).
    pub async fn snapshot_now(&self) -> Result<(), ConsensusError> {
        self.raft
            .trigger()
            .snapshot()
            .await
            .map_err(|e| ConsensusError::Unavailable(e.to_string()))
    }

    /// The last log index applied to the tree here.
    pub fn applied_index(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Raft's view, for operators: term, leader, last log and applied indexes.
    pub fn metrics(&self) -> RaftStatus {
        let m = self.raft.metrics().borrow_watched().clone();
        RaftStatus {
            term: m.current_term,
            leader: m.current_leader,
            is_leader: m.current_leader == Some(self.id),
            last_log_index: m.last_log_index.unwrap_or(0),
            applied_index: m.last_applied.map(|l| l.index).unwrap_or(0),
            snapshot_index: m.snapshot.map(|l| l.index).unwrap_or(0),
        }
    }

    pub async fn shutdown(&self) {
        self.stop_peers.send_replace(true);
        if let Err(e) = self.raft.shutdown().await {
            tracing::warn!("raft shutdown: {e}");
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RaftStatus {
    pub term: u64,
    pub leader: Option<u64>,
    pub is_leader: bool,
    pub last_log_index: u64,
    pub applied_index: u64,
    pub snapshot_index: u64,
}

#[doc(hidden)]
pub type RaftTypeConfig = TypeConfig;
