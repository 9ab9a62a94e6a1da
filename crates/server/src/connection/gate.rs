//! Where a connection meets the server's limits (`crate::limits`): the connection
//! throttle at the ConnectRequest, `largeRequestThreshold` at a frame's length,
//! `globalOutstandingLimit` before reading the next frame, and the request throttle
//! before processing one. Each counts in mntr and logs (paced) when it acts.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use tokio::sync::watch;

use crate::limits::{LargeRequest, Limit};
use crate::request::Conn;
use crate::state::ServerState;

/// How often a connection held by `globalOutstandingLimit` looks again.
const OUTSTANDING_POLL: Duration = Duration::from_millis(2);

/// The connection throttle's verdict on a ConnectRequest from `peer`.
pub fn admit_session(state: &ServerState, peer: SocketAddr, renewing: bool) -> bool {
    if state.limits.admit_session(renewing) {
        return true;
    }
    state
        .telemetry
        .server_metrics
        .connection_rejected
        .fetch_add(1, Relaxed);
    if state.limits.log_now(Limit::ConnectionThrottle) {
        let t = &state.limits.rules.connection_throttle;
        tracing::warn!(
            "Rejecting connection from {peer}: the connection throttle is out of tokens \
             (connection_throttle_tokens={}, {} per {} ms; drop probability {:.3})",
            t.tokens,
            t.fill_count,
            t.fill_time_ms,
            state.limits.drop_probability()
        );
    }
    false
}

/// Admits a request frame of `len` bytes under `largeRequestMaxBytes`; `Err` closes
/// the connection, as ZooKeeper's "Rejecting large request" does.
pub fn large_request(
    state: &ServerState,
    peer: SocketAddr,
    len: usize,
) -> Result<Option<LargeRequest>, ()> {
    state.limits.large_request(len).map_err(|in_process| {
        state
            .telemetry
            .server_metrics
            .large_requests_rejected
            .fetch_add(1, Relaxed);
        let rules = &state.limits.rules;
        if !state.limits.log_now(Limit::LargeRequests) {
            return;
        }
        tracing::warn!(
            "Rejecting large request of {len} bytes from {peer} and closing its connection: \
             {in_process} bytes of large requests are in process (largeRequestThreshold={}, \
             largeRequestMaxBytes={})",
            rules.large_request_threshold,
            rules.large_request_max_bytes
        );
    })
}

/// Waits while the server is over `globalOutstandingLimit` and this connection has
/// requests of its own outstanding. False if the connection is stopped meanwhile.
pub async fn wait_to_read(
    state: &ServerState,
    conn: &Conn,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let over = || {
        state.limits.over_outstanding_limit(
            state.telemetry.stats.outstanding(),
            conn.counters.queued.load(Relaxed),
        )
    };
    if !over() {
        return true;
    }
    if state.limits.log_now(Limit::GlobalOutstanding) {
        tracing::warn!(
            "Throttling reads from clients: {} requests in process, over \
             globalOutstandingLimit={}",
            state.telemetry.stats.outstanding(),
            state.limits.rules.global_outstanding_limit
        );
    }
    while over() {
        tokio::select! {
            _ = tokio::time::sleep(OUTSTANDING_POLL) => {}
            _ = stop.changed() => return false,
        }
    }
    true
}

/// The request throttle: while `request_throttle_max_requests` are in process, a
/// request waits `request_throttle_stall_time` at a time. False when it is dropped:
/// its connection was stopped while it waited (stale), with
/// `request_throttle_drop_stale`, or the connection is gone.
pub async fn wait_to_process(
    state: &ServerState,
    conn: &Conn,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let limits = &state.limits;
    let stall = Duration::from_millis(limits.rules.request_throttle_stall_time_ms.max(1));
    let metrics = &state.telemetry.server_metrics;
    loop {
        if *stop.borrow() && limits.rules.request_throttle_drop_stale {
            metrics.stale_requests_dropped.fetch_add(1, Relaxed);
            return false;
        }
        let in_process = state.telemetry.stats.outstanding();
        if !limits.request_must_wait(in_process) {
            return true;
        }
        metrics.request_throttle_waits.fetch_add(1, Relaxed);
        if limits.log_now(Limit::RequestThrottle) {
            tracing::warn!(
                "Throttling requests: {in_process} in process, at \
                 request_throttle_max_requests={}; a request from {} waits {} ms",
                limits.rules.request_throttle_max_requests,
                conn.peer,
                stall.as_millis()
            );
        }
        // A stopped connection's request still waits its turn without drop_stale,
        // as ZooKeeper processes it; the stop is seen on the next look.
        tokio::select! {
            _ = tokio::time::sleep(stall) => {}
            r = stop.changed() => if r.is_err() {
                tokio::time::sleep(stall).await;
            },
        }
    }
}
