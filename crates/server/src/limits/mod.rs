//! The limits that keep one client, or many, from taking the server down: the
//! connection count (`maxCnxns`; `maxClientCnxns` per address is the listener's),
//! the connection token bucket (`throttle`), large requests in process, and the
//! thresholds of request throttling and `globalOutstandingLimit`, which
//! `connection` applies with the in-process count the telemetry keeps. Each counts
//! in mntr when it acts, and logs, at most once a second per limit so that a flood
//! does not become a flood of log lines.
//!
//! Imports `config` only; `throttle` is the bucket's pure rules.

mod throttle;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::config::Limits;

pub struct ServerLimits {
    pub rules: Limits,
    bucket: Mutex<throttle::Bucket>,
    connections: AtomicU32,
    large_bytes: AtomicU64,
    started: Instant,
    /// When each limit last logged, in milliseconds since start (+1, so 0 is never).
    last_logged: [AtomicU64; 5],
}

/// Which limit a log line is about, for its once-a-second pacing.
#[derive(Clone, Copy)]
pub enum Limit {
    Connections,
    ConnectionThrottle,
    LargeRequests,
    RequestThrottle,
    GlobalOutstanding,
}

impl ServerLimits {
    pub fn new(rules: Limits) -> ServerLimits {
        ServerLimits {
            bucket: Mutex::new(throttle::Bucket::new(rules.connection_throttle.clone(), 0)),
            rules,
            connections: AtomicU32::new(0),
            large_bytes: AtomicU64::new(0),
            started: Instant::now(),
            last_logged: Default::default(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// True at most once a second per limit: whether to log that it acted now.
    pub fn log_now(&self, limit: Limit) -> bool {
        let slot = &self.last_logged[limit as usize];
        let now = self.now_ms() + 1;
        let last = slot.load(Ordering::Relaxed);
        (last == 0 || now >= last + 1000)
            && slot
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// One more client connection, unless `maxCnxns` are open already: then the
    /// count open.
    pub fn take_connection(self: &Arc<Self>) -> Result<ConnectionSlot, u32> {
        let max = self.rules.max_cnxns;
        let mut open = self.connections.load(Ordering::Relaxed);
        loop {
            if max > 0 && open >= max {
                return Err(open);
            }
            match self.connections.compare_exchange_weak(
                open,
                open + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(ConnectionSlot(self.clone())),
                Err(now) => open = now,
            }
        }
    }

    /// The connection throttle's verdict on a ConnectRequest: a reconnecting session
    /// (`renewing`) and a new one cost what the weights say.
    pub fn admit_session(&self, renewing: bool) -> bool {
        let t = &self.rules.connection_throttle;
        if t.tokens == 0 {
            return true;
        }
        let need = match (t.weight_enabled, renewing) {
            (false, _) => 1,
            (true, true) => t.renew_weight,
            (true, false) => t.global_weight,
        };
        let roll = random_unit();
        let now = self.now_ms();
        self.bucket
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .admit(need, now, roll)
    }

    /// `zk_connection_drop_probability`.
    pub fn drop_probability(&self) -> f64 {
        self.bucket
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drop_probability()
    }

    /// Admits a request of `len` bytes under `largeRequestMaxBytes`, or refuses it
    /// with the bytes of large requests already in process. A large request holds
    /// its bytes until the guard drops, when it is answered.
    pub fn large_request(self: &Arc<Self>, len: usize) -> Result<Option<LargeRequest>, u64> {
        let threshold = self.rules.large_request_threshold;
        if threshold < 0 || (len as u64) <= threshold as u64 {
            return Ok(None);
        }
        let len = len as u64;
        let max = self.rules.large_request_max_bytes;
        let mut current = self.large_bytes.load(Ordering::Relaxed);
        loop {
            if current + len > max {
                return Err(current);
            }
            match self.large_bytes.compare_exchange_weak(
                current,
                current + len,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    return Ok(Some(LargeRequest {
                        limits: self.clone(),
                        len,
                    }))
                }
                Err(now) => current = now,
            }
        }
    }

    /// Whether a connection with `own` requests outstanding stops reading while the
    /// server has `in_process` (`globalOutstandingLimit`, as ZooKeeper's
    /// `shouldThrottle`: a connection with nothing outstanding may always send one).
    pub fn over_outstanding_limit(&self, in_process: u64, own: u64) -> bool {
        own > 0 && in_process > u64::from(self.rules.global_outstanding_limit)
    }

    /// Whether a request must wait before it is processed
    /// (`request_throttle_max_requests`).
    pub fn request_must_wait(&self, in_process: u64) -> bool {
        let max = self.rules.request_throttle_max_requests;
        max > 0 && in_process >= u64::from(max)
    }
}

/// A uniform number in [0, 1) for the throttle's random drop; 0.99 if the system's
/// randomness is unavailable (a drop then needs a probability of 1).
fn random_unit() -> f64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return 0.99;
    }
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// An open connection's place in the `maxCnxns` count, given back when dropped.
pub struct ConnectionSlot(Arc<ServerLimits>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A large request's bytes in the `largeRequestMaxBytes` count.
pub struct LargeRequest {
    limits: Arc<ServerLimits>,
    len: u64,
}

impl Drop for LargeRequest {
    fn drop(&mut self) {
        self.limits
            .large_bytes
            .fetch_sub(self.len, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(f: impl FnOnce(&mut Limits)) -> Arc<ServerLimits> {
        let mut l = Limits::default();
        f(&mut l);
        Arc::new(ServerLimits::new(l))
    }

    #[test]
    fn max_cnxns_counts_open_connections() {
        let l = limits(|l| l.max_cnxns = 2);
        let a = l.take_connection().unwrap();
        let _b = l.take_connection().unwrap();
        assert_eq!(l.take_connection().err(), Some(2));
        drop(a);
        assert!(l.take_connection().is_ok());
        let unlimited = limits(|_| {});
        let held: Vec<_> = (0..100).map(|_| unlimited.take_connection()).collect();
        assert!(held.iter().all(|s| s.is_ok()));
    }

    #[test]
    fn large_requests_share_their_bytes_until_answered() {
        let l = limits(|l| {
            l.large_request_threshold = 100;
            l.large_request_max_bytes = 1000;
        });
        assert!(
            l.large_request(100).unwrap().is_none(),
            "at the threshold is not large"
        );
        let a = l.large_request(600).unwrap().expect("large");
        assert_eq!(l.large_request(500).err(), Some(600));
        assert!(l.large_request(400).unwrap().is_some());
        drop(a);
        assert!(l.large_request(500).unwrap().is_some());
        let off = limits(|l| l.large_request_max_bytes = 1);
        assert!(off.large_request(10 << 20).unwrap().is_none(), "-1 is off");
    }

    #[test]
    fn the_outstanding_limits_follow_zookeeper() {
        let l = limits(|l| {
            l.global_outstanding_limit = 10;
            l.request_throttle_max_requests = 5;
        });
        assert!(!l.over_outstanding_limit(10, 3));
        assert!(l.over_outstanding_limit(11, 3));
        assert!(
            !l.over_outstanding_limit(11, 0),
            "nothing of its own outstanding"
        );
        assert!(!l.request_must_wait(4));
        assert!(l.request_must_wait(5));
        assert!(!limits(|_| {}).request_must_wait(1_000_000), "0 is off");
    }

    #[test]
    fn log_lines_are_paced() {
        let l = limits(|_| {});
        assert!(l.log_now(Limit::RequestThrottle));
        assert!(!l.log_now(Limit::RequestThrottle));
    }
}
