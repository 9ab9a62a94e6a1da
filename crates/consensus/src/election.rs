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

use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::async_runtime::WatchReceiver;

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
}

/// How often the driver looks; also the precision of its timing.
const TICK: Duration = Duration::from_millis(10);
/// Beyond the lease, so that the other voters' leases have surely run out too.
const MARGIN: Duration = Duration::from_millis(20);
/// Between one surviving voter's turn to stand and the next one's.
const TURN: Duration = Duration::from_millis(40);
const PROBE_TIMEOUT: Duration = Duration::from_millis(200);

pub(crate) async fn drive(d: Driver, mut stop: tokio::sync::watch::Receiver<bool>) {
    let metrics = d.raft.metrics();
    let mut quiet_since = Instant::now();
    let mut silence = draw(d.silence_ms);
    let mut stand_at: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = stop.changed() => return,
        }
        let (leader, voters, leader_addr) = {
            let m = metrics.borrow_watched();
            let membership = m.membership_config.membership();
            let voters: Vec<u64> = membership.voter_ids().collect();
            let addr = m.current_leader.and_then(|l| {
                let recorded = &membership.get_node(&l)?.addr;
                Some(d.dialer.address(l, recorded).to_string())
            });
            (m.current_leader, voters, addr)
        };
        if leader == Some(d.id) || !voters.contains(&d.id) {
            stand_at = None;
            quiet_since = Instant::now();
            continue;
        }
        if let Some(dead) = d.contact.dead_leader() {
            if leader != Some(dead) {
                // Someone else leads now.
                d.contact.forget_dead();
                stand_at = None;
            }
        }
        if let Some(lost) = d.contact.take_lost().filter(|l| leader == Some(*l)) {
            if let Some(addr) = leader_addr {
                tokio::spawn(probe(d.contact.clone(), lost, addr));
            }
        }
        if let Some(dead) = d.contact.dead_leader() {
            if stand_at.is_none() && leader == Some(dead) {
                let turn = voters
                    .iter()
                    .filter(|v| **v != dead)
                    .position(|v| *v == d.id)
                    .unwrap_or(0) as u32;
                let heard = d.contact.last_heard().unwrap_or_else(Instant::now);
                stand_at = Some(heard + d.lease + MARGIN + TURN * turn);
            }
        }
        let heard = d
            .contact
            .last_heard()
            .map_or(quiet_since, |t| t.max(quiet_since));
        let now = Instant::now();
        let turn_came = stand_at.is_some_and(|t| now >= t);
        let too_quiet = now >= heard + silence;
        if !(turn_came || too_quiet) {
            continue;
        }
        if turn_came {
            tracing::info!("the leader's process is gone; standing for election");
        } else {
            tracing::info!(
                "nothing from a leader for {} ms; standing for election",
                silence.as_millis()
            );
        }
        stand_at = None;
        quiet_since = now;
        silence = draw(d.silence_ms);
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
