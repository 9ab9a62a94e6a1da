//! In an ensemble, what clients may do depends on the quorum. While this server has
//! no leader (or, leading, no quorum) it answers no client with data that may be
//! stale: its clients are dropped and new ones refused, as a ZooKeeper server that
//! goes LOOKING does. With `readonlymode.enabled`, clients that allow read-only mode
//! are let in and served reads meanwhile; when the quorum is back they are dropped
//! so they reconnect with full sessions.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use corral_consensus::{Role, Status};

use crate::ServerState;

/// True while this server hands out read-only sessions instead of full ones.
pub fn read_only(state: &ServerState) -> bool {
    state.ensemble && state.config.read_only_mode && !serving(state)
}

/// True while this server can give clients full sessions.
pub fn serving(state: &ServerState) -> bool {
    !state.ensemble || state.consensus.status().borrow().serving
}

pub async fn watch(state: Arc<ServerState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut status = state.consensus.status();
    let mut was_serving = status.borrow().serving;
    let mut elections = Elections::new(&state, &status.borrow());
    loop {
        tokio::select! {
            r = status.changed() => if r.is_err() { return },
            _ = stop.changed() => return,
        }
        let now = status.borrow_and_update().clone();
        elections.saw(&now);
        let serving = now.serving;
        if serving == was_serving {
            continue;
        }
        was_serving = serving;
        // Drop the clients whose kind of session this server no longer gives.
        let dropped: Vec<_> = state
            .hub
            .conns()
            .iter()
            .filter(|(_, c)| c.read_only == serving)
            .map(|(id, _)| *id)
            .collect();
        if !dropped.is_empty() {
            tracing::info!(
                "closing {} {} client connection(s): this server {}",
                dropped.len(),
                if serving { "read-only" } else { "read-write" },
                if serving {
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
}

/// mntr's looking_count and election_time, from the role changes this server goes
/// through: ZooKeeper counts each time a peer goes LOOKING and, when it leaves
/// LOOKING, how long that took. A role change shorter than this task's wake-up can be
/// missed; the consensus log's "LEADER ELECTION TOOK" line has every one.
///
/// Also unavailable_time and leader_unavailable_time: ZooKeeper times each stretch
/// from the peer's start or the end of its last role to being in BROADCAST again
/// (synced and serving), and counts it as the leader's too when it then leads. Here a
/// stretch is the time this server is not serving (no leader, or leading without a
/// quorum), from its start or the moment it stopped serving to serving again.
struct Elections {
    looking_since: Option<std::time::Instant>,
    unavailable_since: Option<std::time::Instant>,
}

impl Elections {
    /// The server starts LOOKING (as a ZooKeeper peer does) when it starts.
    fn new(state: &ServerState, now: &Status) -> Elections {
        crate::mntr::get().looking.fetch_add(1, Relaxed);
        let mut e = Elections {
            looking_since: Some(state.started),
            unavailable_since: Some(state.started),
        };
        e.saw(now);
        e
    }

    fn saw(&mut self, now: &Status) {
        let m = crate::mntr::get();
        match (now.role == Role::Looking, self.looking_since) {
            (true, None) => {
                m.looking.fetch_add(1, Relaxed);
                self.looking_since = Some(now.since);
            }
            (false, Some(since)) => {
                let took = now.since.saturating_duration_since(since);
                m.election_ms.add(took.as_millis() as u64);
                self.looking_since = None;
            }
            _ => {}
        }
        let serving = now.serving && now.role != Role::Looking;
        match (serving, self.unavailable_since) {
            (false, None) => self.unavailable_since = Some(std::time::Instant::now()),
            (true, Some(since)) => {
                let took = since.elapsed().as_millis() as u64;
                m.unavailable_ms.add(took);
                if now.role == Role::Leader {
                    m.leader_unavailable_ms.add(took);
                }
                self.unavailable_since = None;
            }
            _ => {}
        }
    }
}
