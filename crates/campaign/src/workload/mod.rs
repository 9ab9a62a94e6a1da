//! The clients: each workload runs a few workers, every worker one operation at a
//! time through its own ZooKeeper session, and records what it saw in the shared
//! history. Outcomes are judged conservatively: only an answer from the server is
//! `Ok`, and only a refusal that certainly left no trace is `Fail`; a timeout, a lost
//! connection or an expired session leaves the outcome `Unknown`.

pub mod counter;
pub mod queue;
pub mod registers;
pub mod sessions;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use zookeeper_client::{Client, Error};

use crate::history::{History, Outcome, Span};

/// How long a client waits for one answer before calling the outcome unknown.
pub const OP_TIMEOUT: Duration = Duration::from_secs(4);
/// The session timeout the workers ask for.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(6);

/// The campaign's one clock: microseconds since it started.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn start() -> Clock {
        Clock(Instant::now())
    }

    pub fn now(&self) -> u64 {
        self.0.elapsed().as_micros() as u64
    }
}

/// What every worker shares: the clock, the history, and when to stop.
#[derive(Clone)]
pub struct Ctx {
    pub clock: Clock,
    pub history: Arc<Mutex<History>>,
    pub until: tokio::time::Instant,
}

impl Ctx {
    pub fn record(&self) -> MutexGuard<'_, History> {
        // A worker that panicked while recording leaves a history still worth checking.
        self.history.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn running(&self) -> bool {
        tokio::time::Instant::now() < self.until
    }

    /// A span that completed now.
    pub fn done(&self, invoke: u64) -> Span {
        Span {
            invoke,
            complete: Some(self.clock.now()),
        }
    }

    /// A span whose completion the client never learnt.
    pub fn open(&self, invoke: u64) -> Span {
        Span {
            invoke,
            complete: None,
        }
    }
}

/// Opens a session, retrying while the ensemble cannot take one, until the run ends.
pub async fn connect(ctx: &Ctx, hosts: &str) -> Option<Client> {
    while ctx.running() {
        let attempt = Client::connector()
            .with_session_timeout(SESSION_TIMEOUT)
            .with_connection_timeout(Duration::from_secs(1))
            .connect(hosts);
        if let Ok(Ok(client)) = tokio::time::timeout(Duration::from_secs(5), attempt).await {
            return Some(client);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

/// Runs one request with the client's timeout; `Err(None)` is a timeout.
pub async fn bounded<T>(
    f: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Option<Error>> {
    match tokio::time::timeout(OP_TIMEOUT, f).await {
        Ok(r) => r.map_err(Some),
        Err(_) => Err(None),
    }
}

/// The outcome of a write that failed: unknown, since the request may have reached
/// the log before its answer was lost.
pub fn unknown<T>(e: &Option<Error>) -> Outcome<T> {
    Outcome::Unknown(describe(e))
}

pub fn describe(e: &Option<Error>) -> String {
    match e {
        Some(e) => e.to_string(),
        None => "timeout".to_string(),
    }
}

/// True when the session is gone for good and the worker needs a new one.
pub fn session_lost(client: &Client, e: &Option<Error>) -> bool {
    matches!(e, Some(Error::SessionExpired | Error::ClientClosed)) || client.state().is_terminated()
}

/// A small pause between a worker's operations, so histories stay checkable.
pub async fn pace(rng: &mut impl rand::Rng, max_ms: u64) {
    tokio::time::sleep(Duration::from_millis(rng.random_range(0..=max_ms))).await;
}
