//! What this server is in the ensemble, as operators name it (standalone, leader,
//! follower, observer, or looking for a leader), and whether it can serve clients.
//!
//! A watcher task turns openraft's metrics into a [`Status`], logs the transitions as
//! ZooKeeper does (`LOOKING`, `LEADING - LEADER ELECTION TOOK - N MS`, a follower's
//! GOODBYE), and on a new leader adds the configured observers as Raft learners.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::async_runtime::WatchReceiver;
use openraft::impls::BasicNode;
use openraft::Instant as _;

use crate::contact::LeaderContact;
use crate::state_machine::Raft;
use crate::types::TypeConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Standalone,
    Leader,
    Follower,
    Observer,
    Looking,
}

impl Role {
    /// The word `srvr` prints after `Mode:`.
    pub fn mode(self) -> &'static str {
        match self {
            Role::Standalone => "standalone",
            Role::Leader => "leader",
            Role::Follower => "follower",
            Role::Observer => "observer",
            Role::Looking => "looking",
        }
    }
}

/// This server's place in the ensemble, refreshed by the watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub role: Role,
    /// True while the server can answer clients with current data: it leads with a
    /// quorum behind it, or it hears from a leader.
    pub serving: bool,
    pub leader: Option<u64>,
    /// On the leader: the followers and observers that answered lately.
    pub followers: usize,
    /// On the leader: the voting followers that answered lately.
    pub synced_followers: usize,
    /// When this server took its current role.
    pub since: Instant,
    /// Voters in the membership.
    pub voters: usize,
}

impl Status {
    pub fn starting() -> Status {
        Status {
            role: Role::Looking,
            serving: false,
            leader: None,
            followers: 0,
            synced_followers: 0,
            since: Instant::now(),
            voters: 0,
        }
    }
}

/// How a node takes part, from its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Standalone,
    Voter,
    Observer,
}

pub(crate) struct Watch {
    pub raft: Raft,
    pub id: u64,
    pub kind: Kind,
    pub contact: Arc<LeaderContact>,
    /// Silence after which a peer (or the quorum) counts as gone.
    pub lost_after: Duration,
    pub observers: BTreeMap<u64, String>,
    pub status: tokio::sync::watch::Sender<Status>,
}

/// Besides every metrics change, look this often: a lost quorum changes no metric.
const POLL: Duration = Duration::from_millis(50);

pub(crate) async fn watch(w: Watch, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut looking_since = Instant::now();
    let mut previous = Status::starting();
    let mut synced: BTreeSet<u64> = BTreeSet::new();
    let adding = Arc::new(std::sync::atomic::AtomicBool::new(false));
    tracing::info!("LOOKING");
    let mut metrics = w.raft.metrics();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            r = metrics.changed() => if r.is_err() { return },
            _ = stop.changed() => return,
        }
        let m = metrics.borrow_watched().clone();
        let mut now = compute(&w, &m, &mut synced);
        now.since = if now.role == previous.role {
            previous.since
        } else {
            Instant::now()
        };
        if now.role != previous.role {
            announce(&w, previous.role, now.role, &mut looking_since);
        }
        if now.role == Role::Leader && !adding.load(Ordering::Relaxed) {
            add_observers(&w, &m, &adding);
        }
        if now.serving != previous.serving && now.role != Role::Looking {
            if now.serving {
                tracing::info!("serving clients as {}", now.role.mode());
            } else {
                tracing::warn!(
                    "not serving clients: no {} for {} ms",
                    if now.role == Role::Leader {
                        "quorum"
                    } else {
                        "leader"
                    },
                    w.lost_after.as_millis()
                );
            }
        }
        if now != previous {
            w.status.send_replace(now.clone());
            previous = now;
        }
    }
}

fn compute(w: &Watch, m: &openraft::RaftMetrics<TypeConfig>, synced: &mut BTreeSet<u64>) -> Status {
    let leads = m.current_leader == Some(w.id);
    // A leader whose process is known to be gone is no leader, though openraft does
    // not know yet: this server is looking, as a ZooKeeper follower is at once.
    let gone = m.current_leader.is_some() && m.current_leader == w.contact.dead_leader();
    let role = match (w.kind, m.current_leader) {
        _ if gone => Role::Looking,
        (Kind::Standalone, Some(_)) if leads => Role::Standalone,
        (_, Some(_)) if leads => Role::Leader,
        (Kind::Observer, Some(_)) => Role::Observer,
        (_, Some(_)) => Role::Follower,
        (_, None) => Role::Looking,
    };
    let serving = match role {
        Role::Standalone => true,
        Role::Leader => m
            .last_quorum_acked
            .as_ref()
            .is_some_and(|t| t.elapsed() <= w.lost_after),
        Role::Follower | Role::Observer => w.contact.within(w.lost_after),
        Role::Looking => false,
    };
    let mut followers = 0;
    let mut synced_followers = 0;
    if role == Role::Leader {
        let voters: BTreeSet<u64> = m.membership_config.membership().voter_ids().collect();
        let mut fresh = BTreeSet::new();
        for (id, acked) in m.heartbeat.iter().flatten() {
            if *id == w.id {
                continue;
            }
            if acked.as_ref().is_some_and(|t| t.elapsed() <= w.lost_after) {
                fresh.insert(*id);
                followers += 1;
                if voters.contains(id) {
                    synced_followers += 1;
                }
            }
        }
        for id in fresh.difference(synced) {
            tracing::info!("Follower sid: {id} is in sync with the leader");
        }
        for id in synced.difference(&fresh) {
            tracing::warn!(
                "******* GOODBYE sid: {id} ******** (no answer for over {} ms)",
                w.lost_after.as_millis()
            );
        }
        *synced = fresh;
    } else {
        synced.clear();
    }
    Status {
        role,
        serving,
        leader: m.current_leader,
        followers,
        synced_followers,
        since: Instant::now(),
        voters: m.membership_config.membership().voter_ids().count(),
    }
}

fn announce(w: &Watch, from: Role, to: Role, looking_since: &mut Instant) {
    let took = looking_since.elapsed().as_millis();
    match to {
        Role::Looking => {
            *looking_since = Instant::now();
            tracing::info!("LOOKING (was {})", from.mode());
        }
        Role::Leader => tracing::info!("LEADING - LEADER ELECTION TOOK - {took} MS"),
        Role::Follower => tracing::info!(
            "FOLLOWING - LEADER ELECTION TOOK - {took} MS (leader is sid {:?})",
            w.raft
                .metrics()
                .borrow_watched()
                .current_leader
                .unwrap_or(0)
        ),
        Role::Observer => tracing::info!("OBSERVING - found the leader in {took} MS"),
        Role::Standalone => tracing::info!("serving standalone"),
    }
}

/// The leader makes sure every configured observer is a learner: the first leader of
/// a new ensemble adds them (once its first membership is committed; until then
/// openraft refuses, and the next poll tries again), later ones find them there.
fn add_observers(
    w: &Watch,
    m: &openraft::RaftMetrics<TypeConfig>,
    adding: &Arc<std::sync::atomic::AtomicBool>,
) {
    let known: BTreeSet<u64> = m
        .membership_config
        .membership()
        .nodes()
        .map(|(id, _)| *id)
        .collect();
    let missing: Vec<(u64, String)> = w
        .observers
        .iter()
        .filter(|(id, _)| !known.contains(id))
        .map(|(id, a)| (*id, a.clone()))
        .collect();
    if missing.is_empty() || m.membership_config != m.committed_membership_config {
        return;
    }
    adding.store(true, Ordering::Relaxed);
    let raft = w.raft.clone();
    let adding = adding.clone();
    tokio::spawn(async move {
        for (id, addr) in missing {
            match raft.add_learner(id, BasicNode::new(addr), false).await {
                Ok(_) => tracing::info!("added observer sid {id} as a learner"),
                Err(e) => tracing::info!("observer sid {id} not added yet: {e}"),
            }
        }
        adding.store(false, Ordering::Relaxed);
    });
}
