//! Start-up: recovering the tree and the log from disk, building the Raft node over
//! them, and starting the peer service, the role watcher and the election driver.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use openraft::impls::BasicNode;
use openraft::Config;

use crate::clock::{Clock, SystemClock};
use crate::contact::LeaderContact;
use crate::election;
use crate::error::ConsensusError;
use crate::forward::Forwarder;
use crate::handle::Consensus;
use crate::log_store::DiskLogStore;
use crate::measure::Replicated;
use crate::members::Members;
use crate::network::NoPeers;
use crate::observer::ApplyObserver;
use crate::peer::raft_client::TcpPeers;
use crate::peer::secure::{PeerSecurity, Plain};
use crate::peer::serve::{serve, PeerService};
use crate::recovery;
use crate::roles::{self, Kind, Status};
use crate::settings::{Paths, Timing};
use crate::shared_tree::SharedTree;
use crate::state_machine::{Raft, SnapshotStore, TreeStateMachine};
use crate::types::TypeConfig;

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
            security: Arc::new(Plain),
        };
        Self::start(how, paths, observer, timing, NoPeers).await
    }

    /// Starts one member of an ensemble, a voter or an observer as `members` says;
    /// peers' RPCs are answered on this member's own address there. Every peer
    /// connection, in and out, passes `security` before its first frame.
    pub async fn start_cluster(
        id: u64,
        members: Members,
        paths: &Paths,
        observer: Arc<dyn ApplyObserver>,
        timing: Timing,
        security: Arc<dyn PeerSecurity>,
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
            security,
        };
        let peers = TcpPeers::new(id, how.members.dialer(), how.security.clone());
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
        let StartAs {
            id,
            kind,
            members,
            peer_listener,
            security,
        } = how;
        let (config, lease) = raft_config(kind, &timing)?;
        let restored = restore(paths, &observer)?;
        let entry_sizes = restored.log.entry_sizes();
        let raft = Raft::new(
            id,
            Arc::new(config),
            network,
            restored.log,
            restored.machine,
        )
        .await
        .map_err(|e| ConsensusError::Start(e.to_string()))?;
        let (stop_peers, stopped) = tokio::sync::watch::channel(false);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let contact = Arc::new(LeaderContact::new(clock.clone()));
        if let Some(listener) = peer_listener {
            let service = PeerService {
                raft: raft.clone(),
                contact: contact.clone(),
                observer: observer.clone(),
                replicated: Arc::new(Replicated::new()),
                members: Arc::new(members.ids()),
                security: security.clone(),
            };
            tokio::spawn(serve(listener, service, stopped.clone()));
        }
        let (status_tx, status) = tokio::sync::watch::channel(Status::starting(clock.now()));
        let watch = roles::Watch {
            raft: raft.clone(),
            id,
            kind,
            contact: contact.clone(),
            lost_after: Duration::from_millis(timing.lost_after_ms),
            observers: members.observers.clone(),
            status: status_tx,
            clock: clock.clone(),
        };
        tokio::spawn(roles::watch(watch, stopped.clone()));
        let dialer = members.dialer();
        if kind == Kind::Voter {
            let driver = election::Driver {
                raft: raft.clone(),
                id,
                contact,
                lease,
                silence_ms: (timing.election_min_ms, timing.election_max_ms),
                dialer: dialer.clone(),
                clock,
            };
            tokio::spawn(election::drive(driver, stopped));
        }
        if kind != Kind::Observer {
            initialize(&raft, members.voters).await?;
        }
        Ok(Consensus {
            raft,
            tree: restored.tree,
            applied: restored.applied,
            id,
            stop_peers: Arc::new(stop_peers),
            forwarder: Arc::new(Forwarder::new(id, security)),
            status,
            dialer,
            #[cfg(feature = "test-faults")]
            fault: restored.fault,
            observer,
            entry_sizes,
        })
    }
}

struct StartAs {
    id: u64,
    kind: Kind,
    members: Members,
    peer_listener: Option<tokio::net::TcpListener>,
    security: Arc<dyn PeerSecurity>,
}

/// openraft's configuration for a node of this kind, and the leader lease: how long
/// a voter refuses votes after hearing a leader.
fn raft_config(kind: Kind, timing: &Timing) -> Result<(Config, Duration), ConsensusError> {
    // In an ensemble, `election` decides when to stand, and openraft's election
    // timeout only sets the lease during which voters refuse to vote: a little
    // over two heartbeats, so that a dead leader is replaced quickly.
    let ensemble = kind != Kind::Standalone;
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
    Ok((config, Duration::from_millis(election_timeout_max)))
}

/// What the disk gave back: the tree, the state machine over it, the log, and the
/// watch on the last applied index.
struct Restored {
    tree: SharedTree,
    machine: TreeStateMachine,
    log: DiskLogStore,
    applied: tokio::sync::watch::Receiver<u64>,
    #[cfg(feature = "test-faults")]
    fault: crate::fault::FaultSwitch,
}

/// Recovers the tree and the log, and sets the snapshot directory in order.
fn restore(paths: &Paths, observer: &Arc<dyn ApplyObserver>) -> Result<Restored, ConsensusError> {
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
        paths.auth_schemes,
        fsync_observer,
    )?;
    recovered.log.set_segment_bytes(paths.log_segment_bytes);
    let tree = SharedTree::new(recovered.tree);
    observer.reset(&tree.read());
    let (applied_tx, applied) = tokio::sync::watch::channel(0);
    let store = SnapshotStore {
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
    let machine = TreeStateMachine::new(
        tree.clone(),
        observer.clone(),
        applied_tx,
        (recovered.applied, recovered.membership),
        store,
    );
    #[cfg(feature = "test-faults")]
    let (machine, fault) = {
        let fault = crate::fault::FaultSwitch::default();
        (machine.with_faults(fault.clone()), fault)
    };
    Ok(Restored {
        tree,
        machine,
        log: recovered.log,
        applied,
        #[cfg(feature = "test-faults")]
        fault,
    })
}

/// A voter's first start: the membership is every configured voter. Every voter
/// starts from the same list, as every ZooKeeper server reads the same server.N
/// lines; initializing with it on each is harmless. Observers do not call this:
/// they wait for the leader to add them as learners.
async fn initialize(raft: &Raft, voters: BTreeMap<u64, String>) -> Result<(), ConsensusError> {
    let initialized = raft
        .is_initialized()
        .await
        .map_err(|e| ConsensusError::Start(e.to_string()))?;
    if initialized {
        return Ok(());
    }
    let voters: BTreeMap<u64, BasicNode> = voters
        .into_iter()
        .map(|(i, a)| (i, BasicNode::new(a)))
        .collect();
    if let Err(e) = raft.initialize(voters).await {
        tracing::info!("membership already set by a peer: {e}");
    }
    Ok(())
}
