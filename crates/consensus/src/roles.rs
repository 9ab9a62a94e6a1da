//! What this server is in the ensemble, as operators name it (standalone, leader,
//! follower, observer, or looking for a leader), and whether it can serve clients.
//!
//! A watcher task turns openraft's metrics into a [`Status`], logs the transitions as
//! ZooKeeper does (`LOOKING`, `LEADING - LEADER ELECTION TOOK - N MS`, a follower's
//! GOODBYE), and on a new leader adds the configured observers as Raft learners.
//!
//! Its rules (`role_of`, `serving`, `role_since`) judge at a time they are handed: the
//! watcher reads it from the clock it was given, once per look. openraft stamps the
//! quorum's and the followers' acks with its own clock; the watcher reads their age
//! from it and hands the rules the age.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::async_runtime::WatchReceiver;
use openraft::impls::BasicNode;
use openraft::Instant as _;

use crate::clock::Clock;
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
    /// A node that has just started and looks for a leader since `since`.
    pub fn starting(since: Instant) -> Status {
        Status {
            role: Role::Looking,
            serving: false,
            leader: None,
            followers: 0,
            synced_followers: 0,
            since,
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
    pub clock: Arc<dyn Clock>,
}

/// Besides every metrics change, look this often: a lost quorum changes no metric.
const POLL: Duration = Duration::from_millis(50);

pub(crate) async fn watch(w: Watch, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut looking_since = w.clock.now();
    let mut previous = Status::starting(looking_since);
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
        let at = w.clock.now();
        let now = compute(&w, &m, &mut synced, &previous, at);
        if now.role != previous.role {
            announce(&w, previous.role, now.role, &mut looking_since, at);
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

/// The role of a node of `kind` (`me`) while `leader` leads, `gone` being a leader
/// whose process is known to be gone.
fn role_of(kind: Kind, me: u64, leader: Option<u64>, gone: Option<u64>) -> Role {
    // A leader whose process is known to be gone is no leader, though openraft does
    // not know yet: this server is looking, as a ZooKeeper follower is at once.
    let leads = leader == Some(me);
    match (kind, leader) {
        (_, Some(l)) if gone == Some(l) => Role::Looking,
        (Kind::Standalone, Some(_)) if leads => Role::Standalone,
        (_, Some(_)) if leads => Role::Leader,
        (Kind::Observer, Some(_)) => Role::Observer,
        (_, Some(_)) => Role::Follower,
        (_, None) => Role::Looking,
    }
}

/// Whether a node in `role` can answer clients with current data: a leader whose
/// quorum answered within `lost_after`, a follower or observer that heard its leader
/// within it. The ages are as of the moment judged.
fn serving(
    role: Role,
    quorum_acked_ago: Option<Duration>,
    leader_heard_ago: Option<Duration>,
    lost_after: Duration,
) -> bool {
    match role {
        Role::Standalone => true,
        Role::Leader => quorum_acked_ago.is_some_and(|ago| ago <= lost_after),
        Role::Follower | Role::Observer => leader_heard_ago.is_some_and(|ago| ago <= lost_after),
        Role::Looking => false,
    }
}

/// Since when a node has had `role`: since the previous status's if it is the same
/// role, else from `now`.
fn role_since(previous: &Status, role: Role, now: Instant) -> Instant {
    if role == previous.role {
        previous.since
    } else {
        now
    }
}

/// This server's status at `now`, from openraft's metrics and the leader contact.
fn compute(
    w: &Watch,
    m: &openraft::RaftMetrics<TypeConfig>,
    synced: &mut BTreeSet<u64>,
    previous: &Status,
    now: Instant,
) -> Status {
    let role = role_of(w.kind, w.id, m.current_leader, w.contact.dead_leader());
    let quorum_acked_ago = m.last_quorum_acked.as_ref().map(|t| t.elapsed());
    let serving = serving(
        role,
        quorum_acked_ago,
        w.contact.heard_ago(now),
        w.lost_after,
    );
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
        since: role_since(previous, role, now),
        voters: m.membership_config.membership().voter_ids().count(),
    }
}

fn announce(w: &Watch, from: Role, to: Role, looking_since: &mut Instant, now: Instant) {
    let took = now.saturating_duration_since(*looking_since).as_millis();
    match to {
        Role::Looking => {
            *looking_since = now;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_role_follows_the_leader_and_a_gone_one_means_looking() {
        assert_eq!(role_of(Kind::Voter, 1, Some(1), None), Role::Leader);
        assert_eq!(
            role_of(Kind::Standalone, 1, Some(1), None),
            Role::Standalone
        );
        assert_eq!(role_of(Kind::Voter, 1, Some(2), None), Role::Follower);
        assert_eq!(role_of(Kind::Observer, 4, Some(2), None), Role::Observer);
        assert_eq!(role_of(Kind::Voter, 1, None, None), Role::Looking);
        assert_eq!(role_of(Kind::Voter, 1, Some(2), Some(2)), Role::Looking);
        assert_eq!(role_of(Kind::Voter, 1, Some(3), Some(2)), Role::Follower);
    }

    #[test]
    fn a_follower_serves_while_it_hears_its_leader() {
        let base = Instant::now();
        let clock = std::sync::Arc::new(FakeClock::at(base));
        let contact = LeaderContact::new(clock.clone());
        let lost_after = ms(400);
        let at = |t: Duration| contact.heard_ago(base + t);
        assert!(
            !serving(Role::Follower, None, at(ms(10)), lost_after),
            "never heard"
        );
        clock.set(base + ms(100));
        contact.heard(2);
        assert!(serving(Role::Follower, None, at(ms(500)), lost_after));
        assert!(
            !serving(Role::Follower, None, at(ms(501)), lost_after),
            "contact lost"
        );
        assert!(!serving(Role::Observer, None, at(ms(900)), lost_after));
        clock.set(base + ms(800));
        contact.heard(2);
        assert!(
            serving(Role::Observer, None, at(ms(900)), lost_after),
            "heard again"
        );
    }

    #[test]
    fn a_leader_serves_while_its_quorum_answers() {
        let lost_after = ms(400);
        assert!(serving(Role::Leader, Some(ms(400)), None, lost_after));
        assert!(!serving(Role::Leader, Some(ms(401)), None, lost_after));
        assert!(!serving(Role::Leader, None, Some(ms(0)), lost_after));
        assert!(serving(Role::Standalone, None, None, lost_after));
        assert!(!serving(
            Role::Looking,
            Some(ms(0)),
            Some(ms(0)),
            lost_after
        ));
    }

    #[test]
    fn looking_since_moves_only_when_the_role_changes() {
        let base = Instant::now();
        let looking = Status::starting(base);
        assert_eq!(role_since(&looking, Role::Looking, base + ms(700)), base);
        assert_eq!(
            role_since(&looking, Role::Follower, base + ms(700)),
            base + ms(700)
        );
        let following = Status {
            role: Role::Follower,
            since: base + ms(700),
            ..looking
        };
        assert_eq!(
            role_since(&following, Role::Follower, base + ms(900)),
            base + ms(700)
        );
        assert_eq!(
            role_since(&following, Role::Looking, base + ms(900)),
            base + ms(900)
        );
    }
}
