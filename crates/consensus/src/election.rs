//! When an ensemble holds an election. openraft's own election timer is off for the
//! voters of an ensemble; this driver starts elections instead, on the two signs a
//! ZooKeeper follower also acts on:
//!
//! - the leader's process is gone: its connection to this server closed and its peer
//!   port refuses a new one (kill -9, a crash, a clean stop). The election starts as
//!   soon as the old leader's lease has run out on the other voters (openraft's voters
//!   refuse to vote before that), the surviving voters taking turns by id so that they
//!   do not split the vote;
//! - silence: nothing from the leader for a randomized timeout, which covers a leader
//!   that is paused or cut off while its port still answers.
//!
//! Elections start with a pre-vote, so a server that was only cut off cannot disrupt
//! a healthy leader when it comes back.
//!
//! The rules (`Rules::decide`) take the time they judge at from the driver, which
//! reads it from the clock it was given once per look.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::async_runtime::WatchReceiver;

use crate::clock::Clock;
use crate::contact::LeaderContact;
use crate::members::Dialer;
use crate::state_machine::Raft;

pub(crate) struct Driver {
    pub raft: Raft,
    pub id: u64,
    pub contact: Arc<LeaderContact>,
    /// openraft's leader lease: how long a voter refuses votes after hearing a leader.
    pub lease: Duration,
    /// The silence after which an election starts, drawn from this range each time.
    pub silence_ms: (u64, u64),
    pub dialer: Dialer,
    pub clock: Arc<dyn Clock>,
}

/// How often the driver looks; also the precision of its timing.
const TICK: Duration = Duration::from_millis(10);
/// Beyond the lease, so that the other voters' leases have surely run out too.
const MARGIN: Duration = Duration::from_millis(20);
/// Between one surviving voter's turn to stand and the next one's.
const TURN: Duration = Duration::from_millis(40);
const PROBE_TIMEOUT: Duration = Duration::from_millis(200);

/// What the driver sees of the membership at one look.
pub(crate) struct View {
    pub leader: Option<u64>,
    pub voters: Vec<u64>,
}

/// Why this server stands for election.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stand {
    /// The leader's process is gone and it is this server's turn.
    LeaderGone,
    /// Nothing from a leader for this long.
    Silence(Duration),
}

/// When to stand: what the driver remembers from one look to the next.
pub(crate) struct Rules {
    id: u64,
    lease: Duration,
    silence_ms: (u64, u64),
    /// Since when this server has been waiting without a leader to hear from.
    quiet_since: Instant,
    /// The silence drawn for the current wait.
    silence: Duration,
    /// This server's turn to stand, once the leader is known gone.
    stand_at: Option<Instant>,
}

impl Rules {
    pub(crate) fn new(id: u64, lease: Duration, silence_ms: (u64, u64), now: Instant) -> Rules {
        Rules {
            id,
            lease,
            silence_ms,
            quiet_since: now,
            silence: draw(silence_ms),
            stand_at: None,
        }
    }

    /// Whether this server should stand for election at `now`.
    pub(crate) fn decide(
        &mut self,
        view: &View,
        contact: &LeaderContact,
        now: Instant,
    ) -> Option<Stand> {
        if view.leader == Some(self.id) || !view.voters.contains(&self.id) {
            self.stand_at = None;
            self.quiet_since = now;
            return None;
        }
        if let Some(dead) = contact.dead_leader() {
            if view.leader != Some(dead) {
                // Someone else leads now.
                contact.forget_dead();
                self.stand_at = None;
            }
        }
        if let Some(dead) = contact.dead_leader() {
            if self.stand_at.is_none() && view.leader == Some(dead) {
                let turn = view
                    .voters
                    .iter()
                    .filter(|v| **v != dead)
                    .position(|v| *v == self.id)
                    .unwrap_or(0) as u32;
                let heard = contact.last_heard().unwrap_or(now);
                self.stand_at = Some(heard + self.lease + MARGIN + TURN * turn);
            }
        }
        let heard = contact
            .last_heard()
            .map_or(self.quiet_since, |t| t.max(self.quiet_since));
        let stand = if self.stand_at.is_some_and(|t| now >= t) {
            Stand::LeaderGone
        } else if now >= heard + self.silence {
            Stand::Silence(self.silence)
        } else {
            return None;
        };
        self.stand_at = None;
        self.quiet_since = now;
        self.silence = draw(self.silence_ms);
        Some(stand)
    }
}

pub(crate) async fn drive(d: Driver, mut stop: tokio::sync::watch::Receiver<bool>) {
    let metrics = d.raft.metrics();
    let mut rules = Rules::new(d.id, d.lease, d.silence_ms, d.clock.now());
    loop {
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = stop.changed() => return,
        }
        let (view, leader_addr) = {
            let m = metrics.borrow_watched();
            let membership = m.membership_config.membership();
            let addr = m.current_leader.and_then(|l| {
                let recorded = &membership.get_node(&l)?.addr;
                Some(d.dialer.address(l, recorded).to_string())
            });
            let view = View {
                leader: m.current_leader,
                voters: membership.voter_ids().collect(),
            };
            (view, addr)
        };
        let following = view.leader != Some(d.id) && view.voters.contains(&d.id);
        if let Some(lost) = following
            .then(|| d.contact.take_lost())
            .flatten()
            .filter(|l| view.leader == Some(*l))
        {
            if let Some(addr) = leader_addr {
                tokio::spawn(probe(d.contact.clone(), lost, addr));
            }
        }
        match rules.decide(&view, &d.contact, d.clock.now()) {
            None => continue,
            Some(Stand::LeaderGone) => {
                tracing::info!("the leader's process is gone; standing for election")
            }
            Some(Stand::Silence(silence)) => tracing::info!(
                "nothing from a leader for {} ms; standing for election",
                silence.as_millis()
            ),
        }
        if let Err(e) = d.raft.trigger().elect(true).await {
            tracing::warn!("cannot start an election: {e}");
        }
    }
}

/// Decides whether a leader whose connection closed is gone: its peer port refuses.
async fn probe(contact: Arc<LeaderContact>, leader: u64, addr: String) {
    let attempt = tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(&addr)).await;
    if let Ok(Err(e)) = attempt {
        if e.kind() == std::io::ErrorKind::ConnectionRefused {
            tracing::info!("leader sid {leader} at {addr} is gone: {e}");
            contact.mark_dead(leader);
        }
    }
}

/// A duration drawn uniformly from `[min, max]` milliseconds.
fn draw((min, max): (u64, u64)) -> Duration {
    let mut seed = [0u8; 8];
    if getrandom::fill(&mut seed).is_err() {
        // The clock's low bits still differ between servers.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        seed = (u64::from(nanos) ^ u64::from(std::process::id())).to_le_bytes();
    }
    let spread = max.saturating_sub(min) + 1;
    Duration::from_millis(min + u64::from_le_bytes(seed) % spread)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;

    const LEASE: Duration = Duration::from_millis(110);
    const SILENCE: u64 = 300;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Voter `id` of 1, 2 and 3, whose leader is 2; its contact stamps with `clock`.
    fn voter(id: u64, base: Instant) -> (Rules, LeaderContact, Arc<FakeClock>, View) {
        let clock = Arc::new(FakeClock::at(base));
        let contact = LeaderContact::new(clock.clone());
        let rules = Rules::new(id, LEASE, (SILENCE, SILENCE), base);
        let view = View {
            leader: Some(2),
            voters: vec![1, 2, 3],
        };
        (rules, contact, clock, view)
    }

    #[test]
    fn a_silent_leader_is_replaced_after_the_silence() {
        let base = Instant::now();
        let (mut rules, contact, _, view) = voter(1, base);
        assert_eq!(rules.decide(&view, &contact, base + ms(299)), None);
        assert_eq!(
            rules.decide(&view, &contact, base + ms(300)),
            Some(Stand::Silence(ms(SILENCE)))
        );
        // Standing starts a new wait from then.
        assert_eq!(rules.decide(&view, &contact, base + ms(599)), None);
        assert!(rules.decide(&view, &contact, base + ms(600)).is_some());
    }

    #[test]
    fn hearing_from_the_leader_puts_the_election_off() {
        let base = Instant::now();
        let (mut rules, contact, clock, view) = voter(1, base);
        clock.set(base + ms(200));
        contact.heard(2);
        assert_eq!(rules.decide(&view, &contact, base + ms(499)), None);
        assert!(rules.decide(&view, &contact, base + ms(500)).is_some());
    }

    #[test]
    fn a_gone_leader_is_replaced_after_its_lease_in_turns_by_id() {
        let base = Instant::now();
        for (id, turn) in [(1, 0), (3, 1)] {
            let (mut rules, contact, clock, view) = voter(id, base);
            clock.set(base + ms(100));
            contact.heard(2);
            contact.mark_dead(2);
            let at = base + ms(100) + LEASE + MARGIN + TURN * turn;
            assert_eq!(rules.decide(&view, &contact, base + ms(101)), None);
            assert_eq!(rules.decide(&view, &contact, at - ms(1)), None, "sid {id}");
            assert_eq!(
                rules.decide(&view, &contact, at),
                Some(Stand::LeaderGone),
                "sid {id}"
            );
        }
    }

    #[test]
    fn a_leader_or_a_non_voter_never_stands() {
        let base = Instant::now();
        let (mut rules, contact, _, mut view) = voter(1, base);
        view.leader = Some(1);
        assert_eq!(rules.decide(&view, &contact, base + ms(10_000)), None);
        // Stepping down starts the wait from the last look as leader.
        view.leader = None;
        assert_eq!(rules.decide(&view, &contact, base + ms(10_299)), None);
        assert!(rules.decide(&view, &contact, base + ms(10_300)).is_some());
        view.voters = vec![2, 3];
        assert_eq!(rules.decide(&view, &contact, base + ms(99_000)), None);
    }

    #[test]
    fn a_new_leader_clears_the_gone_one() {
        let base = Instant::now();
        let (mut rules, contact, _, mut view) = voter(1, base);
        contact.mark_dead(2);
        view.leader = Some(3);
        assert_eq!(rules.decide(&view, &contact, base + ms(1)), None);
        assert_eq!(contact.dead_leader(), None);
    }
}
