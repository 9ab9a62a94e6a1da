//! The handle everything above talks to: a running Raft node holding the tree, and
//! what an operator or a server asks of it besides writes (those are `write`'s, and
//! starting one is `start`'s).

use std::sync::Arc;

use openraft::async_runtime::WatchReceiver;

use crate::error::ConsensusError;
#[cfg(feature = "test-faults")]
use crate::fault::{Fault, FaultSwitch};
use crate::forward::Forwarder;
use crate::log_store::EntrySizes;
use crate::members::Dialer;
use crate::observer::ApplyObserver;
use crate::peer::wire::PeerRequest;
use crate::roles::{Role, Status};
use crate::shared_tree::SharedTree;
use crate::state_machine::Raft;

/// How long a write waits for an election before it fails.
const LEADER_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// A running Raft node holding the tree.
#[derive(Clone)]
pub struct Consensus {
    pub(crate) raft: Raft,
    pub(crate) tree: SharedTree,
    pub(crate) applied: tokio::sync::watch::Receiver<u64>,
    pub(crate) id: u64,
    pub(crate) stop_peers: Arc<tokio::sync::watch::Sender<bool>>,
    pub(crate) forwarder: Arc<Forwarder>,
    pub(crate) status: tokio::sync::watch::Receiver<Status>,
    pub(crate) dialer: Dialer,
    #[cfg(feature = "test-faults")]
    pub(crate) fault: FaultSwitch,
    pub(crate) observer: Arc<dyn ApplyObserver>,
    pub(crate) entry_sizes: Arc<EntrySizes>,
}

impl Consensus {
    /// Switches on a deliberate bug (see `Fault`; only in a build with the
    /// `test-faults` feature).
    #[cfg(feature = "test-faults")]
    pub fn with_fault(self, fault: Option<Fault>) -> Consensus {
        if let Some(f) = fault {
            self.fault.set(f);
        }
        self
    }

    pub fn tree(&self) -> &SharedTree {
        &self.tree
    }

    /// Sizes in bytes of the log entries this server wrote: the last, the smallest and
    /// the largest. On the leader these are ZooKeeper's "proposal sizes".
    pub fn proposal_sizes(&self) -> (u64, u64, u64) {
        self.entry_sizes.get()
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
                .tell(leader, &addr, PeerRequest::Alive(sessions))
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
            .tell(leader, &addr, PeerRequest::TransferLeader { to: self.id })
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

    pub(crate) fn address_of(&self, id: u64) -> Option<String> {
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
    pub(crate) async fn leader(&self) -> Result<(u64, String), ConsensusError> {
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

/// Raft's view of this node, for operators (`Consensus::metrics`).
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
