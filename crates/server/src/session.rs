//! Session liveness on this server: who was heard from when, and which sessions are
//! past their deadline. The rules here are pure: every call that needs the time is
//! given the current instant, so they can be tested with instants made up as
//! `base + Duration`. The task that acts on them is `expiry`.
//!
//! The session table itself is replicated in the tree; this is the local clock side.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::wire::ConnId;

struct Liveness {
    timeout: Duration,
    deadline: Instant,
    conn: Option<ConnId>,
    closing: bool,
}

#[derive(Default)]
pub struct SessionTable {
    live: HashMap<i64, Liveness>,
    /// Heard from since the last report to the leader.
    touched: HashSet<i64>,
}

fn timeout_of(timeout_ms: i32) -> Duration {
    Duration::from_millis(timeout_ms.max(1) as u64)
}

impl SessionTable {
    /// Starts the clock on a session the log has just created.
    pub fn track(&mut self, id: i64, timeout_ms: i32, now: Instant) {
        let timeout = timeout_of(timeout_ms);
        self.live.entry(id).or_insert(Liveness {
            timeout,
            deadline: now + timeout,
            conn: None,
            closing: false,
        });
    }

    pub fn forget(&mut self, id: i64) -> Option<ConnId> {
        self.live.remove(&id).and_then(|l| l.conn)
    }

    /// Binds a session to the connection now serving it; returns the one it replaces.
    pub fn attach(
        &mut self,
        id: i64,
        conn: ConnId,
        timeout_ms: i32,
        now: Instant,
    ) -> Option<ConnId> {
        let l = self.live.get_mut(&id)?;
        l.timeout = timeout_of(timeout_ms);
        l.deadline = now + l.timeout;
        self.touched.insert(id);
        l.conn.replace(conn).filter(|old| *old != conn)
    }

    /// The connection is gone; the session's clock starts from now.
    pub fn detach(&mut self, id: i64, conn: ConnId, now: Instant) {
        if let Some(l) = self.live.get_mut(&id) {
            if l.conn == Some(conn) {
                l.conn = None;
                l.deadline = now + l.timeout;
            }
        }
    }

    /// The session was heard from: its deadline moves to a timeout from now.
    pub fn touch(&mut self, id: i64, now: Instant) {
        if let Some(l) = self.live.get_mut(&id) {
            l.deadline = now + l.timeout;
            self.touched.insert(id);
        }
    }

    /// Drops the sessions a new tree no longer has.
    pub fn retain(&mut self, keep: impl Fn(i64) -> bool) {
        self.live.retain(|id, _| keep(*id));
    }

    /// Gives a session whose close could not be proposed another chance.
    pub fn reopen(&mut self, id: i64) {
        if let Some(l) = self.live.get_mut(&id) {
            l.closing = false;
        }
    }

    /// The sessions heard from since the last call, for the report to the leader.
    pub fn take_touched(&mut self) -> Vec<i64> {
        self.touched.drain().collect()
    }

    /// The leader keeps no report of its own: what it heard is already in its clocks.
    pub fn clear_touched(&mut self) {
        self.touched.clear();
    }

    /// A new leader starts every session's clock afresh, instead of judging sessions
    /// by clocks it did not keep.
    pub fn renew_all(&mut self, now: Instant) {
        for l in self.live.values_mut() {
            l.deadline = now + l.timeout;
            l.closing = false;
        }
    }

    /// The sessions whose deadline is at or before `now` and whose close is not
    /// already under way; each is marked closing, so it is returned once.
    pub fn expired(&mut self, now: Instant) -> Vec<i64> {
        let mut out = Vec::new();
        for (id, l) in self.live.iter_mut() {
            if !l.closing && l.deadline <= now {
                l.closing = true;
                out.push(*id);
            }
        }
        out
    }

    pub fn count(&self) -> usize {
        self.live.len()
    }

    /// Every session with its deadline and timeout, for `dump`.
    pub fn deadlines(&self) -> Vec<(i64, Instant, Duration)> {
        let mut out: Vec<_> = self
            .live
            .iter()
            .map(|(id, l)| (*id, l.deadline, l.timeout))
            .collect();
        out.sort_by_key(|(id, _, _)| *id);
        out
    }
}

/// ZooKeeper's session id layout: the server id in the top byte, then time-derived
/// bits, so ids from different servers and restarts do not collide.
pub struct SessionIds {
    next: AtomicI64,
}

impl SessionIds {
    pub fn new(server_id: u64) -> Self {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let base = ((millis << 24) as u64 >> 8) as i64 | ((server_id as i64 & 0xff) << 56);
        SessionIds {
            next: AtomicI64::new(base),
        }
    }

    pub fn next(&self) -> i64 {
        self.next.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
    }
}

/// A new session's password. `corral.sessionPasswords=random` (the default) gives 16
/// random bytes, which nobody can compute from the id. `zookeeper` gives the one
/// ZooKeeper would give the same id (`ZooKeeperServer.generatePasswd`), so a session
/// made here reconnects to ZooKeeper after `corral export`; like ZooKeeper's, it
/// follows from the id (docs/decisions.md says what that means).
pub fn new_password(session_id: i64, derived: bool) -> Bytes {
    if derived {
        return Bytes::copy_from_slice(&corral_zkdata::password::session_password(session_id));
    }
    let mut buf = [0u8; 16];
    if getrandom::fill(&mut buf).is_err() {
        // No OS randomness: fall back to the clock, which is still unguessable enough
        // not to collide, and say so.
        tracing::warn!("no OS randomness for a session password; using the clock");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        buf.copy_from_slice(&nanos.to_le_bytes());
    }
    Bytes::copy_from_slice(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_random_unless_zookeepers_are_asked_for() {
        let id = 0x1000_0000_0000_0042;
        let derived = corral_zkdata::password::session_password(id);
        assert_eq!(&new_password(id, true)[..], &derived[..]);
        let (a, b) = (new_password(id, false), new_password(id, false));
        assert_ne!(&a[..], &derived[..]);
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn sorted(mut ids: Vec<i64>) -> Vec<i64> {
        ids.sort();
        ids
    }

    #[test]
    fn expired_returns_exactly_the_sessions_past_their_deadline() {
        let base = Instant::now();
        let mut t = SessionTable::default();
        t.track(1, 1000, base);
        t.track(2, 3000, base);
        t.track(3, 2000, base + ms(500));
        assert!(t.expired(base + ms(999)).is_empty());
        // A deadline that is exactly now has passed, as in ZooKeeper's expiry queue.
        assert_eq!(t.expired(base + ms(1000)), vec![1]);
        assert_eq!(t.expired(base + ms(2500)), vec![3]);
        assert_eq!(t.expired(base + ms(10_000)), vec![2]);
        // Each is returned once: its close is under way.
        assert!(t.expired(base + ms(20_000)).is_empty());
    }

    #[test]
    fn touch_moves_the_deadline_a_timeout_past_now() {
        let base = Instant::now();
        let mut t = SessionTable::default();
        t.track(1, 1000, base);
        t.track(2, 1000, base);
        t.touch(1, base + ms(900));
        assert_eq!(t.expired(base + ms(1000)), vec![2]);
        assert!(t.expired(base + ms(1899)).is_empty());
        assert_eq!(t.expired(base + ms(1900)), vec![1]);
        // Touching an unknown session neither tracks nor reports it.
        t.touch(9, base);
        assert_eq!(t.count(), 2);
        assert_eq!(t.take_touched(), vec![1]);
        assert!(t.take_touched().is_empty());
    }

    #[test]
    fn a_session_that_is_tracked_again_keeps_its_clock() {
        let base = Instant::now();
        let mut t = SessionTable::default();
        t.track(1, 1000, base);
        t.track(1, 60_000, base + ms(900));
        assert_eq!(t.expired(base + ms(1000)), vec![1]);
    }

    #[test]
    fn attach_renews_with_the_negotiated_timeout_and_names_the_replaced_connection() {
        let base = Instant::now();
        let mut t = SessionTable::default();
        assert_eq!(t.attach(1, 10, 1000, base), None, "an unknown session");
        t.track(1, 1000, base);
        assert_eq!(t.attach(1, 10, 4000, base + ms(500)), None);
        // The same connection again replaces nothing; another one replaces it.
        assert_eq!(t.attach(1, 10, 4000, base + ms(600)), None);
        assert_eq!(t.attach(1, 11, 4000, base + ms(700)), Some(10));
        assert!(t.expired(base + ms(4699)).is_empty());
        assert_eq!(t.expired(base + ms(4700)), vec![1]);
        assert_eq!(t.deadlines(), vec![(1, base + ms(4700), ms(4000))]);
    }

    #[test]
    fn detach_by_the_serving_connection_restarts_the_clock() {
        let base = Instant::now();
        let mut t = SessionTable::default();
        t.track(1, 1000, base);
        t.attach(1, 10, 1000, base);
        t.attach(1, 11, 1000, base + ms(100));
        // The replaced connection's late detach changes nothing.
        t.detach(1, 10, base + ms(800));
        assert_eq!(t.deadlines()[0].1, base + ms(1100));
        t.detach(1, 11, base + ms(900));
        assert_eq!(t.deadlines()[0].1, base + ms(1900));
        // Detached, the session names no connection to replace.
        assert_eq!(t.attach(1, 12, 1000, base + ms(950)), None);
        assert_eq!(t.forget(1), Some(12));
        assert_eq!(t.count(), 0);
    }

    #[test]
    fn renew_all_and_reopen_give_sessions_another_chance() {
        let base = Instant::now();
        let mut t = SessionTable::default();
        t.track(1, 1000, base);
        t.track(2, 1000, base);
        assert_eq!(sorted(t.expired(base + ms(1000))), vec![1, 2]);
        // The close of 2 could not be proposed: it is due again at once.
        t.reopen(2);
        assert_eq!(t.expired(base + ms(1001)), vec![2]);
        // A new leader judges every session afresh from its own clock.
        t.renew_all(base + ms(5000));
        assert!(t.expired(base + ms(5999)).is_empty());
        assert_eq!(sorted(t.expired(base + ms(6000))), vec![1, 2]);
        t.retain(|id| id == 2);
        assert_eq!(t.count(), 1);
    }
}
