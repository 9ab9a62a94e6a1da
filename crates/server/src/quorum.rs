//! In an ensemble, what clients may do depends on the quorum. While this server has
//! no leader (or, leading, no quorum) it answers no client with data that may be
//! stale: its clients are dropped and new ones refused, as a ZooKeeper server that
//! goes LOOKING does. With `readonlymode.enabled`, clients that allow read-only mode
//! are let in and served reads meanwhile; when the quorum is back they are dropped
//! so they reconnect with full sessions.
//!
//! Whether the server can serve comes from the consensus layer's `Status`, which
//! already applies the configured time a silent leader or quorum is given. The rules
//! here (`offered`, `Monitor`) are pure: the monitor is handed each status with the
//! current instant, and says which clients to drop and what to record.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corral_consensus::{Role, Status};

use crate::state::ServerState;

/// The sessions a server gives new clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offered {
    pub full: bool,
    pub read_only: bool,
}

/// What is offered by a server that is (or is not) in an ensemble, with read-only
/// mode on or off, whose consensus layer says it can (or cannot) serve.
pub fn offered(ensemble: bool, read_only_mode: bool, status_serving: bool) -> Offered {
    let full = !ensemble || status_serving;
    Offered {
        full,
        read_only: ensemble && read_only_mode && !full,
    }
}

fn offered_now(state: &ServerState) -> Offered {
    let serving = state.ensemble && state.consensus.status().borrow().serving;
    offered(state.ensemble, state.config.read_only_mode, serving)
}

/// True while this server hands out read-only sessions instead of full ones.
pub fn read_only(state: &ServerState) -> bool {
    offered_now(state).read_only
}

/// True while this server can give clients full sessions.
pub fn serving(state: &ServerState) -> bool {
    offered_now(state).full
}

/// Connections by the kind of session they have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clients {
    /// The server lost its leader or quorum: full sessions may no longer be served.
    ReadWrite,
    /// The server serves the quorum again: read-only sessions must reconnect as full.
    ReadOnly,
}

/// A stretch of unavailability that has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable {
    pub took: Duration,
    /// It ended with this server leading: it counts as the leader's too.
    pub leading: bool,
}

/// What one status means.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// The connections to drop.
    pub drop: Option<Clients>,
    /// mntr's looking_count goes up.
    pub looking_started: bool,
    /// A LOOKING stretch ended after this long (mntr's election_time).
    pub election_took: Option<Duration>,
    /// mntr's unavailable_time (and leader_unavailable_time).
    pub unavailable: Option<Unavailable>,
}

/// The monitor's memory between statuses.
///
/// mntr's looking_count and election_time come from the role changes this server
/// goes through: ZooKeeper counts each time a peer goes LOOKING and, when it leaves
/// LOOKING, how long that took. A role change shorter than the watcher's wake-up can
/// be missed; the consensus log's "LEADER ELECTION TOOK" line has every one.
///
/// unavailable_time and leader_unavailable_time: ZooKeeper times each stretch from
/// the peer's start or the end of its last role to being in BROADCAST again (synced
/// and serving), and counts it as the leader's too when it then leads. Here a stretch
/// is the time this server is not serving (no leader, or leading without a quorum),
/// from its start or the moment it stopped serving to serving again.
pub struct Monitor {
    serving: bool,
    looking_since: Option<Instant>,
    unavailable_since: Option<Instant>,
}

impl Monitor {
    /// The server starts LOOKING (as a ZooKeeper peer does) and unavailable, at
    /// `started`; `status` is the first one seen, at `now`.
    pub fn new(started: Instant, status: &Status, now: Instant) -> (Monitor, Seen) {
        let mut monitor = Monitor {
            serving: status.serving,
            looking_since: Some(started),
            unavailable_since: Some(started),
        };
        let mut seen = monitor.saw(status, now);
        seen.looking_started = true;
        (monitor, seen)
    }

    /// The status has changed; `now` is when this was noticed.
    pub fn saw(&mut self, status: &Status, now: Instant) -> Seen {
        let mut seen = Seen::default();
        match (status.role == Role::Looking, self.looking_since) {
            (true, None) => {
                seen.looking_started = true;
                self.looking_since = Some(status.since);
            }
            (false, Some(since)) => {
                seen.election_took = Some(status.since.saturating_duration_since(since));
                self.looking_since = None;
            }
            _ => {}
        }
        let available = status.serving && status.role != Role::Looking;
        match (available, self.unavailable_since) {
            (false, None) => self.unavailable_since = Some(now),
            (true, Some(since)) => {
                seen.unavailable = Some(Unavailable {
                    took: now.saturating_duration_since(since),
                    leading: status.role == Role::Leader,
                });
                self.unavailable_since = None;
            }
            _ => {}
        }
        if status.serving != self.serving {
            self.serving = status.serving;
            seen.drop = Some(if status.serving {
                Clients::ReadOnly
            } else {
                Clients::ReadWrite
            });
        }
        seen
    }
}

pub async fn watch(state: Arc<ServerState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut status = state.consensus.status();
    let (mut monitor, seen) = Monitor::new(state.started, &status.borrow(), Instant::now());
    act(&state, seen);
    loop {
        tokio::select! {
            r = status.changed() => if r.is_err() { return },
            _ = stop.changed() => return,
        }
        let now = status.borrow_and_update().clone();
        let seen = monitor.saw(&now, Instant::now());
        act(&state, seen);
    }
}

/// Records what the monitor saw and drops the clients it says to.
fn act(state: &ServerState, seen: Seen) {
    let m = &state.telemetry.server_metrics;
    if seen.looking_started {
        m.looking.fetch_add(1, Relaxed);
    }
    if let Some(took) = seen.election_took {
        m.election_ms.add(took.as_millis() as u64);
    }
    if let Some(u) = seen.unavailable {
        let took = u.took.as_millis() as u64;
        m.unavailable_ms.add(took);
        if u.leading {
            m.leader_unavailable_ms.add(took);
        }
    }
    let Some(drop) = seen.drop else {
        return;
    };
    let read_only = drop == Clients::ReadOnly;
    let dropped: Vec<_> = state
        .hub
        .conns()
        .iter()
        .filter(|(_, c)| c.read_only == read_only)
        .map(|(id, _)| *id)
        .collect();
    if !dropped.is_empty() {
        tracing::info!(
            "closing {} {} client connection(s): this server {}",
            dropped.len(),
            if read_only { "read-only" } else { "read-write" },
            if read_only {
                "serves the quorum again"
            } else {
                "lost the quorum"
            }
        );
    }
    for id in dropped {
        state.hub.kick(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn status(role: Role, serving: bool, since: Instant) -> Status {
        Status {
            role,
            serving,
            since,
            ..Status::starting(since)
        }
    }

    #[test]
    fn a_standalone_server_always_offers_full_sessions() {
        for (read_only_mode, serving) in [(false, false), (true, false), (true, true)] {
            assert_eq!(
                offered(false, read_only_mode, serving),
                Offered {
                    full: true,
                    read_only: false
                }
            );
        }
    }

    #[test]
    fn without_a_quorum_an_ensemble_member_offers_read_only_sessions_if_enabled() {
        let full = Offered {
            full: true,
            read_only: false,
        };
        assert_eq!(offered(true, true, true), full);
        assert_eq!(
            offered(true, true, false),
            Offered {
                full: false,
                read_only: true
            }
        );
        assert_eq!(
            offered(true, false, false),
            Offered {
                full: false,
                read_only: false
            }
        );
    }

    /// A follower that has served since t=300 loses its leader at t=1000 (the
    /// consensus layer's status turns not serving once the configured silence has
    /// passed), looks until t=1600 and follows a new leader; it notices at t=1650.
    #[test]
    fn leader_contact_lost_drops_full_sessions_and_regained_drops_read_only_ones() {
        let base = Instant::now();
        let (mut monitor, seen) = Monitor::new(
            base,
            &status(Role::Follower, true, base + ms(300)),
            base + ms(310),
        );
        assert_eq!(
            seen,
            Seen {
                drop: None,
                looking_started: true,
                election_took: Some(ms(300)),
                unavailable: Some(Unavailable {
                    took: ms(310),
                    leading: false
                }),
            }
        );

        // Contact lost: the follower still knows its role, but may not serve.
        let lost = monitor.saw(
            &status(Role::Follower, false, base + ms(300)),
            base + ms(1000),
        );
        assert_eq!(
            lost,
            Seen {
                drop: Some(Clients::ReadWrite),
                ..Seen::default()
            }
        );
        assert!(offered(true, true, false).read_only);

        let looking = monitor.saw(
            &status(Role::Looking, false, base + ms(1100)),
            base + ms(1100),
        );
        assert_eq!(
            looking,
            Seen {
                looking_started: true,
                ..Seen::default()
            }
        );

        let back = monitor.saw(
            &status(Role::Follower, true, base + ms(1600)),
            base + ms(1650),
        );
        assert_eq!(
            back,
            Seen {
                drop: Some(Clients::ReadOnly),
                looking_started: false,
                election_took: Some(ms(500)),
                unavailable: Some(Unavailable {
                    took: ms(650),
                    leading: false
                }),
            }
        );
        assert!(offered(true, true, true).full);

        // The same status again changes nothing.
        let again = monitor.saw(
            &status(Role::Follower, true, base + ms(1600)),
            base + ms(2000),
        );
        assert_eq!(again, Seen::default());
    }

    #[test]
    fn a_leader_that_regains_its_quorum_counts_the_stretch_as_the_leaders() {
        let base = Instant::now();
        let (mut monitor, _) = Monitor::new(
            base,
            &status(Role::Leader, true, base + ms(100)),
            base + ms(100),
        );
        let lost = monitor.saw(&status(Role::Leader, false, base + ms(100)), base + ms(500));
        assert_eq!(lost.drop, Some(Clients::ReadWrite));
        assert_eq!(
            lost.election_took, None,
            "a leader without quorum is not looking"
        );
        let back = monitor.saw(&status(Role::Leader, true, base + ms(100)), base + ms(900));
        assert_eq!(back.drop, Some(Clients::ReadOnly));
        assert_eq!(
            back.unavailable,
            Some(Unavailable {
                took: ms(400),
                leading: true
            })
        );
    }
}
