//! Consensus: the one place Corral touches openraft.
//!
//! This crate owns the Raft glue and nothing else: the type configuration (`types`),
//! the log store (`log_store`), the state machine that applies committed transactions
//! to the shared tree and tells an observer what changed (`state_machine`), and the
//! peer network (`network` for a standalone node; `peer`, TCP between the servers of
//! an ensemble), a follower's link to the leader for its clients' writes (`forward`),
//! and the node's place in the ensemble (`roles`), and what the consensus path reports
//! for mntr (`measure`). Everything above talks to [`Consensus`], which takes a
//! transaction on any server and returns its result once it is applied on that server.
//! A standalone server is a one-voter cluster on this same path.

mod election;
mod forward;
pub mod inspect;
pub mod log_store;
mod measure;

pub mod network;
pub mod peer;
mod recovery;
pub mod roles;
pub mod state_machine;
pub mod types;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use corral_tree::{DataTree, Txn, TxnResult};
use openraft::async_runtime::WatchReceiver;
use openraft::impls::BasicNode;
use openraft::Config;

use election::LeaderContact;
pub use measure::Measure;
use roles::Kind;
pub use roles::{Role, Status};
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

    /// Sets /zookeeper/config's data on this server (see `DataTree::set_config`).
    pub fn set_config(&self, data: Vec<u8>) {
        self.write().set_config(data.into());
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, DataTree> {
        self.0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Debug, Clone, thiserror::Error, serde::Serialize, serde::Deserialize)]
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
    /// Silence after which a follower counts its leader gone, or a leader its quorum.
    pub lost_after_ms: u64,
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
    forwarder: Arc<forward::Forwarder>,
    status: tokio::sync::watch::Receiver<Status>,
    dialer: peer::Dialer,
    fault: Option<Fault>,
    observer: Arc<dyn ApplyObserver>,
}

/// A deliberate bug, switched on only to show that the fault campaign's checkers
/// catch a broken guarantee (`corral.testFault` in zoo.cfg; never in production).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `sync` answers at once instead of waiting for what the leader committed, so
    /// a lagging or cut-off server serves stale reads after a sync.
    StaleSync,
}

/// Who the members of an ensemble are: id to peer address (host:quorumPort).
#[derive(Debug, Clone, Default)]
pub struct Members {
    pub voters: BTreeMap<u64, String>,
    pub observers: BTreeMap<u64, String>,
    /// Where this server connects to a member, when that is not the member's own
    /// address above (a proxy or a NAT between the servers). The membership still
    /// records, and the member still listens on, its own address.
    pub connect: BTreeMap<u64, String>,
}

/// How long a forwarded write may wait for this server to apply it after the leader
/// did, before the client's connection is closed instead.
const APPLY_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a write waits for an election before it fails.
const LEADER_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

impl Consensus {
    /// Starts a standalone node: a cluster of one voter that elects itself.
    pub async fn start_standalone(
        id: u64,
        paths: &Paths,
        observer: Arc<dyn ApplyObserver>,
        timing: Timing,
    ) -> Result<Consensus, ConsensusError> {
        let members = Members {
            voters: BTreeMap::from([(id, String::new())]),
            ..Members::default()
        };
        let how = StartAs {
            id,
            kind: Kind::Standalone,
            members,
            peer_listener: None,
        };
        Self::start(how, paths, observer, timing, network::NoPeers).await
    }

    /// Starts one member of an ensemble, a voter or an observer as `members` says;
    /// peers' RPCs are answered on this member's own address there.
    pub async fn start_cluster(
        id: u64,
        members: Members,
        paths: &Paths,
        observer: Arc<dyn ApplyObserver>,
        timing: Timing,
    ) -> Result<Consensus, ConsensusError> {
        let (kind, addr) = match (members.voters.get(&id), members.observers.get(&id)) {
            (Some(a), _) => (Kind::Voter, a.clone()),
            (None, Some(a)) => (Kind::Observer, a.clone()),
            (None, None) => {
                return Err(ConsensusError::Start(format!(
                    "server {id} is not among the members"
                )))
            }
        };
        let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
            ConsensusError::Start(format!("cannot listen for peers on {addr}: {e}"))
        })?;
        let how = StartAs {
            id,
            kind,
            members,
            peer_listener: Some(listener),
        };
        let peers = peer::TcpPeers::new(how.members.dialer());
        Self::start(how, paths, observer, timing, peers).await
    }

    async fn start<
        N: openraft::network::RaftNetworkFactory<
            TypeConfig,
            Network = impl openraft::network::RaftNetworkV2<TypeConfig, SnapshotData = bytes::Bytes>,
        >,
    >(
        how: StartAs,
        paths: &Paths,
        observer: Arc<dyn ApplyObserver>,
        timing: Timing,
        network: N,
    ) -> Result<Consensus, ConsensusError> {
        let id = how.id;
        let dialer = how.members.dialer();
        let fsync_observer = {
            let observer = observer.clone();
            let hook: corral_storage::flusher::SyncObserver =
                Arc::new(move |took| observer.fsync_took(took));
            Some(hook)
        };
        let recovered = recovery::recover(
            &paths.snapshots,
            &paths.log,
            paths.extended_types,
            fsync_observer,
        )?;
        recovered.log.set_segment_bytes(paths.log_segment_bytes);
        let tree = SharedTree::new(recovered.tree);
        observer.reset(&tree.read());
        // In an ensemble, `election` decides when to stand, and openraft's election
        // timeout only sets the lease during which voters refuse to vote: a little
        // over two heartbeats, so that a dead leader is replaced quickly.
        let ensemble = how.kind != Kind::Standalone;
        let (election_timeout_min, election_timeout_max) = if ensemble {
            let h = timing.heartbeat_ms;
            (h * 2, h * 2 + h / 2 + 1)
        } else {
            (timing.election_min_ms, timing.election_max_ms)
        };
        let config = Config {
            cluster_name: "corral".into(),
            heartbeat_interval: timing.heartbeat_ms,
            election_timeout_min,
            election_timeout_max,
            enable_elect: !ensemble,
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
        // Nothing writes a snapshot yet: what a .tmp is now, a crash left behind.
        corral_storage::snapshot::remove_temporaries(&paths.snapshots);
        if paths.autopurge {
            store.purge();
        }
        let recovered_state = (recovered.applied, recovered.membership);
        let sm = state_machine::TreeStateMachine::new(
            tree.clone(),
            observer.clone(),
            applied_tx,
            recovered_state,
            store,
        );
        let log = recovered.log;
        let raft = Raft::new(id, Arc::new(config), network, log, sm)
            .await
            .map_err(|e| ConsensusError::Start(e.to_string()))?;
        let (stop_peers, peers_stopped) = tokio::sync::watch::channel(false);
        let contact = Arc::new(LeaderContact::default());
        if let Some(listener) = how.peer_listener {
            let service = peer::PeerService {
                raft: raft.clone(),
                contact: contact.clone(),
                observer: observer.clone(),
                replicated: Arc::new(measure::Replicated::new()),
            };
            tokio::spawn(peer::serve(listener, service, peers_stopped.clone()));
        }
        let (status_tx, status) = tokio::sync::watch::channel(Status::starting());
        let watch = roles::Watch {
            raft: raft.clone(),
            id,
            kind: how.kind,
            contact: contact.clone(),
            lost_after: std::time::Duration::from_millis(timing.lost_after_ms),
            observers: how.members.observers.clone(),
            status: status_tx,
        };
        tokio::spawn(roles::watch(watch, peers_stopped.clone()));
        if how.kind == Kind::Voter {
            let driver = election::Driver {
                raft: raft.clone(),
                id,
                contact: contact.clone(),
                lease: std::time::Duration::from_millis(election_timeout_max),
                silence_ms: (timing.election_min_ms, timing.election_max_ms),
                dialer: dialer.clone(),
            };
            tokio::spawn(election::drive(driver, peers_stopped));
        }
        let initialized = raft
            .is_initialized()
            .await
            .map_err(|e| ConsensusError::Start(e.to_string()))?;
        if !initialized && how.kind != Kind::Observer {
            // Every voter starts from the same list, as every ZooKeeper server reads
            // the same server.N lines; initializing with it on each is harmless.
            // Observers wait for the leader to add them as learners.
            let voters: BTreeMap<u64, BasicNode> = how
                .members
                .voters
                .into_iter()
                .map(|(i, a)| (i, BasicNode::new(a)))
                .collect();
            if let Err(e) = raft.initialize(voters).await {
                tracing::info!("membership already set by a peer: {e}");
            }
        }
        Ok(Consensus {
            raft,
            tree,
            applied,
            id,
            stop_peers: Arc::new(stop_peers),
            forwarder: Arc::default(),
            status,
            dialer,
            fault: None,
            observer,
        })
    }

    /// Switches on a deliberate bug (see `Fault`).
    pub fn with_fault(mut self, fault: Option<Fault>) -> Consensus {
        if let Some(f) = fault {
            tracing::warn!("TEST FAULT {f:?} is on: this server breaks a guarantee on purpose");
        }
        self.fault = fault;
        self
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
            .request(leader, &addr, |id| peer::PeerRequest::Forward { id, txn })
            .await?;
        let applied = self.applied.clone();
        let observer = self.observer.clone();
        Ok(futures::future::Either::Right(async move {
            let lost = || ConsensusError::Unavailable(format!("lost the link to leader {leader}"));
            let result = match answer.await.map_err(|_| lost())? {
                peer::PeerResponse::Forwarded { result, .. } => result?,
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
            if this.fault == Some(Fault::StaleSync) {
                return Ok(());
            }
            let (leader, addr) = this.leader().await?;
            let index = if leader == this.id {
                read_index_local(&this.raft).await?
            } else {
                let answer = this
                    .forwarder
                    .request(leader, &addr, |id| peer::PeerRequest::ReadIndex { id })
                    .await?;
                match answer.await {
                    Ok(peer::PeerResponse::ReadIndex { result, .. }) => result?,
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

    /// Tells the leader that these sessions' clients were heard from here.
    pub async fn report_alive(&self, sessions: Vec<i64>) {
        let Some(leader) = self.status.borrow().leader else {
            return;
        };
        if leader == self.id || sessions.is_empty() {
            return;
        }
        if let Some(addr) = self.address_of(leader) {
            self.forwarder
                .tell(leader, &addr, peer::PeerRequest::Alive(sessions))
                .await;
        }
    }

    /// `rqld`: asks the leader to hand leadership to this server. Returns false if
    /// there is no leader to ask or this server is not a voter.
    pub async fn request_leadership(&self) -> bool {
        let status = self.status.borrow().clone();
        let Some(leader) = status.leader else {
            return false;
        };
        if leader == self.id {
            return true;
        }
        if status.role == Role::Observer {
            return false;
        }
        let Some(addr) = self.address_of(leader) else {
            return false;
        };
        self.forwarder
            .tell(
                leader,
                &addr,
                peer::PeerRequest::TransferLeader { to: self.id },
            )
            .await;
        true
    }

    /// `ydld`: on the leader, hands leadership to the voter furthest along in the log.
    /// Returns the chosen voter, or `None` if this server does not lead or has no one
    /// to hand over to.
    pub async fn yield_leadership(&self) -> Option<u64> {
        let m = self.raft.metrics().borrow_watched().clone();
        if m.current_leader != Some(self.id) {
            return None;
        }
        let voters: Vec<u64> = m.membership_config.membership().voter_ids().collect();
        let progress = m.replication.unwrap_or_default();
        let to = voters
            .into_iter()
            .filter(|v| *v != self.id)
            .max_by_key(|v| progress.get(v).cloned().flatten().map_or(0, |l| l.index))?;
        self.raft.trigger().transfer_leader(to).await.ok()?;
        Some(to)
    }

    /// The first index still in this server's log (after what snapshots purged).
    pub fn first_log_index(&self) -> u64 {
        let m = self.raft.metrics().borrow_watched().clone();
        m.purged.map_or(1, |l| l.index + 1)
    }

    /// This server's place in the ensemble; `changed()` on the receiver wakes on news.
    pub fn status(&self) -> tokio::sync::watch::Receiver<Status> {
        self.status.clone()
    }

    fn address_of(&self, id: u64) -> Option<String> {
        let m = self
            .raft
            .metrics()
            .borrow_watched()
            .membership_config
            .clone();
        let recorded = m.membership().get_node(&id).map(|n| n.addr.clone())?;
        Some(self.dialer.address(id, &recorded).to_string())
    }

    /// The current leader and its peer address, waiting a little for an election.
    async fn leader(&self) -> Result<(u64, String), ConsensusError> {
        // The common case reads the current leader in place; only an election in
        // progress waits (openraft's wait clones the whole metrics on every check).
        let now = self.raft.metrics().borrow_watched().current_leader;
        let leader = match now {
            Some(l) => Some(l),
            None => {
                self.raft
                    .wait(Some(LEADER_WAIT))
                    .metrics(|m| m.current_leader.is_some(), "a leader")
                    .await
                    .map_err(|_| ConsensusError::Unavailable("no leader".into()))?
                    .current_leader
            }
        };
        let Some(leader) = leader else {
            return Err(ConsensusError::Unavailable("no leader".into()));
        };
        if leader == self.id {
            return Ok((leader, String::new()));
        }
        match self.address_of(leader) {
            Some(addr) => Ok((leader, addr)),
            None => Err(ConsensusError::Unavailable(format!(
                "leader {leader} has no address"
            ))),
        }
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
            committed_index: m.local_committed.map(|l| l.index).unwrap_or(0),
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
    pub committed_index: u64,
    pub applied_index: u64,
    pub snapshot_index: u64,
}

#[doc(hidden)]
pub type RaftTypeConfig = TypeConfig;

/// Sizes in bytes of the log entries this server wrote: the last, the smallest and the
/// largest. On the leader these are ZooKeeper's "proposal sizes".
pub fn proposal_sizes() -> (u64, u64, u64) {
    log_store::ENTRY_SIZES.get()
}

/// How `start` sets a node up.
impl Members {
    fn dialer(&self) -> peer::Dialer {
        peer::Dialer::new(self.connect.clone())
    }
}

struct StartAs {
    id: u64,
    kind: Kind,
    members: Members,
    peer_listener: Option<tokio::net::TcpListener>,
}

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
