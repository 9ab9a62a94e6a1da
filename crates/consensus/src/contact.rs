//! What this server knows of its leader's liveness: when a leader's append last
//! arrived, whether its connection closed, and whether its process is known gone.
//! The peer service records it; the election driver and the role watcher read it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clock::Clock;

/// What this server knows of its leader's liveness, kept by the peer service.
pub struct LeaderContact {
    /// Stamps each append heard.
    clock: Arc<dyn Clock>,
    base: Instant,
    /// Milliseconds since `base` of the last append from a leader; 0 for never.
    last: AtomicU64,
    /// A leader whose connection to this server closed, to be checked; 0 for none.
    lost: AtomicU64,
    /// A leader whose process is known to be gone; 0 for none.
    dead: AtomicU64,
}

impl LeaderContact {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> LeaderContact {
        LeaderContact {
            base: clock.now(),
            clock,
            last: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            dead: AtomicU64::new(0),
        }
    }

    /// An append arrived from `leader`: it is alive, even if it was given up for gone
    /// (a leader that restarts and wins again has the same id).
    pub fn heard(&self, leader: u64) {
        let now = self.clock.now();
        let ms = now.saturating_duration_since(self.base).as_millis() as u64;
        self.last.store(ms.max(1), Ordering::Relaxed);
        let _ = self
            .dead
            .compare_exchange(leader, 0, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// The connection on which `leader` sent appends closed.
    pub(crate) fn connection_lost(&self, leader: u64) {
        self.lost.store(leader, Ordering::Relaxed);
    }

    /// The leader whose connection closed since the last call, to be probed.
    pub(crate) fn take_lost(&self) -> Option<u64> {
        Some(self.lost.swap(0, Ordering::Relaxed)).filter(|id| *id != 0)
    }

    /// A probe found `leader`'s process gone.
    pub(crate) fn mark_dead(&self, leader: u64) {
        self.dead.store(leader, Ordering::Relaxed);
    }

    /// Someone else leads now: the dead leader no longer matters.
    pub(crate) fn forget_dead(&self) {
        self.dead.store(0, Ordering::Relaxed);
    }

    pub(crate) fn dead_leader(&self) -> Option<u64> {
        Some(self.dead.load(Ordering::Relaxed)).filter(|id| *id != 0)
    }

    /// How long before `now` an append last arrived; None if none ever did.
    pub(crate) fn heard_ago(&self, now: Instant) -> Option<Duration> {
        self.last_heard().map(|t| now.saturating_duration_since(t))
    }

    pub(crate) fn last_heard(&self) -> Option<Instant> {
        let ms = self.last.load(Ordering::Relaxed);
        (ms > 0).then(|| self.base + Duration::from_millis(ms))
    }
}
