//! The nemesis: faults on a schedule drawn from the campaign's seed. Each fault is
//! injected, held for a while, and healed before the next one, so the history holds
//! both the fault and the recovery from it. The first round goes through every kind
//! once, so even a short run meets them all; later ones are drawn at random.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::cluster::{Cluster, ClusterError};
use crate::proxy::Flow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum FaultKind {
    /// kill -9 of a random server, restarted when healed.
    KillRandom,
    /// kill -9 of the leader.
    KillLeader,
    /// kill -9 of a majority: no quorum until they come back.
    KillMajority,
    /// SIGSTOP of a random server, SIGCONT when healed.
    PauseRandom,
    /// SIGSTOP of the leader.
    PauseLeader,
    /// The leader cut off from every other server (its clients still reach it).
    IsolateLeader,
    /// A minority cut off from the majority.
    SplitMinority,
    /// One server's connections to another stall; the other way keeps working.
    OneWay,
    /// Every client connection dropped at once; sessions must move and survive.
    ResetClients,
    /// A server killed, a torn record appended to its newest log segment, restarted.
    TornWrite,
}

impl FaultKind {
    pub const ALL: [FaultKind; 10] = [
        FaultKind::KillRandom,
        FaultKind::KillLeader,
        FaultKind::KillMajority,
        FaultKind::PauseRandom,
        FaultKind::PauseLeader,
        FaultKind::IsolateLeader,
        FaultKind::SplitMinority,
        FaultKind::OneWay,
        FaultKind::ResetClients,
        FaultKind::TornWrite,
    ];
}

/// One fault as it happened, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct FaultEvent {
    pub kind: FaultKind,
    /// The servers it hit (0-based).
    pub targets: Vec<usize>,
    /// Microseconds since the campaign started.
    pub at: u64,
    pub healed_at: u64,
    pub note: String,
}

/// The timing of the schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub kinds: Vec<FaultKind>,
    /// How long a fault is held, drawn from this range.
    pub hold: (Duration, Duration),
    /// The calm between two faults.
    pub calm: (Duration, Duration),
}

pub struct Nemesis {
    rng: StdRng,
    schedule: Schedule,
    round: Vec<FaultKind>,
    pub events: Vec<FaultEvent>,
}

/// What is in effect now, to undo when healing.
enum Injected {
    Killed(Vec<usize>),
    Paused(Vec<usize>),
    Cut(Vec<(usize, usize)>),
    Nothing,
}

impl Nemesis {
    pub fn new(seed: u64, schedule: Schedule) -> Nemesis {
        let round = schedule.kinds.clone();
        Nemesis {
            rng: StdRng::seed_from_u64(seed ^ 0x6e656d65736973),
            schedule,
            round,
            events: Vec::new(),
        }
    }

    fn draw(&mut self, (lo, hi): (Duration, Duration)) -> Duration {
        let lo = lo.as_millis() as u64;
        let hi = (hi.as_millis() as u64).max(lo);
        Duration::from_millis(self.rng.random_range(lo..=hi))
    }

    fn next_kind(&mut self) -> Option<FaultKind> {
        if !self.round.is_empty() {
            let i = self.rng.random_range(0..self.round.len());
            return Some(self.round.swap_remove(i));
        }
        let kinds = &self.schedule.kinds;
        (!kinds.is_empty()).then(|| kinds[self.rng.random_range(0..kinds.len())])
    }

    /// Injects and heals faults until `until`, then leaves the cluster whole.
    pub async fn run(
        &mut self,
        cluster: &tokio::sync::Mutex<Cluster>,
        clock: &crate::workload::Clock,
        until: tokio::time::Instant,
    ) -> Result<(), ClusterError> {
        loop {
            let calm = self.draw(self.schedule.calm);
            tokio::time::sleep_until((tokio::time::Instant::now() + calm).min(until)).await;
            if tokio::time::Instant::now() >= until {
                return Ok(());
            }
            let Some(kind) = self.next_kind() else {
                tokio::time::sleep_until(until).await;
                return Ok(());
            };
            let at = clock.now();
            let (injected, targets, note) = {
                let mut c = cluster.lock().await;
                self.inject(&mut c, kind).await?
            };
            let hold = self.draw(self.schedule.hold);
            tokio::time::sleep(hold).await;
            {
                let mut c = cluster.lock().await;
                heal(&mut c, injected)?;
            }
            self.events.push(FaultEvent {
                kind,
                targets,
                at,
                healed_at: clock.now(),
                note,
            });
        }
    }

    async fn inject(
        &mut self,
        c: &mut Cluster,
        kind: FaultKind,
    ) -> Result<(Injected, Vec<usize>, String), ClusterError> {
        let n = c.members.len();
        let random = self.rng.random_range(0..n);
        let leader = c.leader().await.unwrap_or(random);
        let others = |x: usize| (0..n).filter(move |j| *j != x);
        Ok(match kind {
            FaultKind::KillRandom | FaultKind::KillLeader => {
                let t = if kind == FaultKind::KillLeader {
                    leader
                } else {
                    random
                };
                c.kill(t);
                (Injected::Killed(vec![t]), vec![t], String::new())
            }
            FaultKind::KillMajority => {
                let mut all: Vec<usize> = (0..n).collect();
                let start = self.rng.random_range(0..n);
                all.rotate_left(start);
                all.truncate(n / 2 + 1);
                for t in &all {
                    c.kill(*t);
                }
                (Injected::Killed(all.clone()), all, String::new())
            }
            FaultKind::PauseRandom | FaultKind::PauseLeader => {
                let t = if kind == FaultKind::PauseLeader {
                    leader
                } else {
                    random
                };
                c.pause(t);
                (Injected::Paused(vec![t]), vec![t], String::new())
            }
            FaultKind::IsolateLeader => {
                let cuts: Vec<(usize, usize)> = others(leader)
                    .flat_map(|j| [(leader, j), (j, leader)])
                    .collect();
                cut(c, &cuts);
                (Injected::Cut(cuts), vec![leader], String::new())
            }
            FaultKind::SplitMinority => {
                let size = self.rng.random_range(1..=(n - 1) / 2);
                let mut all: Vec<usize> = (0..n).collect();
                all.rotate_left(random);
                let minority: Vec<usize> = all[..size].to_vec();
                let cuts: Vec<(usize, usize)> = minority
                    .iter()
                    .flat_map(|a| {
                        (0..n)
                            .filter(|b| !minority.contains(b))
                            .flat_map(move |b| [(*a, b), (b, *a)])
                    })
                    .collect();
                cut(c, &cuts);
                (Injected::Cut(cuts), minority, String::new())
            }
            FaultKind::OneWay => {
                let to = (random + self.rng.random_range(1..n)) % n;
                cut(c, &[(random, to)]);
                let note = format!("server {} cannot reach server {}", random + 1, to + 1);
                (Injected::Cut(vec![(random, to)]), vec![random, to], note)
            }
            FaultKind::ResetClients => {
                for p in &c.client_links {
                    p.reset();
                }
                (Injected::Nothing, (0..n).collect(), String::new())
            }
            FaultKind::TornWrite => {
                c.kill(random);
                let len = self.rng.random_range(1..200);
                let garbage: Vec<u8> = (0..len).map(|_| self.rng.random()).collect();
                let note = match c.tear_log(random, &garbage)? {
                    Some((file, bytes)) => format!("{bytes} torn bytes on {}", file.display()),
                    None => "no log segment to tear".to_string(),
                };
                (Injected::Killed(vec![random]), vec![random], note)
            }
        })
    }
}

fn cut(c: &Cluster, links: &[(usize, usize)]) {
    for (from, to) in links {
        if let Some(p) = &c.peer_links[*from][*to] {
            p.set_flow(Flow::CUT);
        }
    }
}

fn heal(c: &mut Cluster, injected: Injected) -> Result<(), ClusterError> {
    match injected {
        Injected::Killed(ts) => {
            for t in ts {
                c.start(t)?;
            }
        }
        Injected::Paused(ts) => {
            for t in ts {
                c.resume(t);
            }
        }
        Injected::Cut(links) => {
            for (from, to) in links {
                if let Some(p) = &c.peer_links[from][to] {
                    p.set_flow(Flow::OPEN);
                }
            }
        }
        Injected::Nothing => {}
    }
    Ok(())
}
