//! A follower's (or observer's) link to the leader: its clients' writes and syncs go
//! up, the leader's answers come back, and its sessions' liveness is reported.
//!
//! One connection to the leader's peer port, secured by the ensemble's
//! `PeerSecurity` hook, opened with this server's `Hello` and pipelined after it:
//! requests are written in the order they are handed over (which keeps each
//! session's writes in its order) and answers are matched to requests by id. When
//! the connection fails, every request on it fails with it, and the next request
//! opens a new one, after a backoff that doubles from 50 ms to 2 s while connecting
//! keeps failing. A client whose write is lost this way sees its
//! connection close, as with ZooKeeper when the leader changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use crate::error::ConsensusError;
use crate::peer::secure::{dial, PeerSecurity};
use crate::peer::wire::{encode, hello, read_frame, write_queued, PeerRequest, PeerResponse};
use crate::peer::wire::{CONNECT_TIMEOUT, MAX_FRAME};

/// Requests queued for the leader before a sender waits.
const QUEUE: usize = 4096;
/// Requests sent to the leader and not answered yet, on one link: beyond this a new
/// one fails at once (the client sees its connection close), so a leader that stops
/// answering does not make this map grow without bound.
const WAITING: usize = 16 * QUEUE;
const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// When a link may be tried again after failing to connect.
#[derive(Default)]
struct Backoff {
    not_before: Option<Instant>,
    delay: Duration,
}

type SharedBackoff = Arc<Mutex<Backoff>>;

/// Poisoning is ignored: a backoff is two plain values, each written whole, so a
/// panic elsewhere while it was held cannot leave it half-changed; the worst a stale
/// one does is delay a reconnect by at most `BACKOFF_MAX`.
fn backoff(b: &SharedBackoff) -> std::sync::MutexGuard<'_, Backoff> {
    b.lock().unwrap_or_else(|p| p.into_inner())
}

type Waiters = Arc<Mutex<HashMap<u64, oneshot::Sender<PeerResponse>>>>;

struct Link {
    leader: u64,
    queue: mpsc::Sender<PeerRequest>,
    waiters: Waiters,
}

pub(crate) struct Forwarder {
    /// This server's id, which the link's `Hello` names.
    from: u64,
    link: tokio::sync::Mutex<Option<Link>>,
    next_id: std::sync::atomic::AtomicU64,
    backoff: SharedBackoff,
    security: Arc<dyn PeerSecurity>,
}

/// Poisoning is ignored: the map is only inserted into, removed from and cleared,
/// each whole, under the lock, and it holds nothing but the senders of answers. A
/// waiter lost to a panic fails its request as a lost link does, which the client
/// sees as a closed connection, never as wrong data.
fn lock(w: &Waiters) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<PeerResponse>>> {
    w.lock().unwrap_or_else(|p| p.into_inner())
}

impl Forwarder {
    pub fn new(from: u64, security: Arc<dyn PeerSecurity>) -> Forwarder {
        Forwarder {
            from,
            link: Default::default(),
            next_id: Default::default(),
            backoff: Default::default(),
            security,
        }
    }

    /// Queues a request for `leader` at `addr`; the receiver gets its answer, or an
    /// error if the link fails first. Returns once the request is queued in order.
    pub async fn request(
        &self,
        leader: u64,
        addr: &str,
        make: impl FnOnce(u64) -> PeerRequest,
    ) -> Result<oneshot::Receiver<PeerResponse>, ConsensusError> {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut guard = self.link.lock().await;
        let link = self.usable_link(&mut guard, leader, addr)?;
        let (tx, rx) = oneshot::channel();
        {
            let mut waiters = lock(&link.waiters);
            if waiters.len() >= WAITING {
                return Err(ConsensusError::Unavailable(format!(
                    "{WAITING} requests already wait for leader {leader}"
                )));
            }
            waiters.insert(id, tx);
            assert!(waiters.len() <= WAITING, "{} waiting", waiters.len());
        }
        if link.queue.send(make(id)).await.is_err() {
            lock(&link.waiters).remove(&id);
            *guard = None;
            return Err(ConsensusError::Unavailable(format!(
                "lost the link to leader {leader}"
            )));
        }
        Ok(rx)
    }

    /// Sends a report that needs no answer; dropped if the link is busy or down.
    pub async fn tell(&self, leader: u64, addr: &str, request: PeerRequest) {
        let mut guard = self.link.lock().await;
        if let Ok(link) = self.usable_link(&mut guard, leader, addr) {
            let _ = link.queue.try_send(request);
        }
    }

    fn usable_link<'a>(
        &self,
        slot: &'a mut Option<Link>,
        leader: u64,
        addr: &str,
    ) -> Result<&'a Link, ConsensusError> {
        let stale = slot
            .as_ref()
            .is_none_or(|l| l.leader != leader || l.queue.is_closed());
        if stale {
            *slot = None;
            if backoff(&self.backoff)
                .not_before
                .is_some_and(|t| Instant::now() < t)
            {
                return Err(ConsensusError::Unavailable(format!(
                    "leader {leader} at {addr} is unreachable; retrying shortly"
                )));
            }
        }
        Ok(slot.get_or_insert_with(|| self.open(leader, addr.to_string())))
    }

    fn open(&self, leader: u64, addr: String) -> Link {
        let (queue, requests) = mpsc::channel(QUEUE);
        let waiters: Waiters = Arc::default();
        let task_waiters = waiters.clone();
        let (from, retry, security) = (self.from, self.backoff.clone(), self.security.clone());
        tokio::spawn(async move {
            let link = LinkTask {
                from,
                addr: &addr,
                security: &*security,
                retry: &retry,
            };
            if let Err(e) = run(link, requests, &task_waiters).await {
                tracing::info!("link to leader {leader} at {addr} closed: {e}");
            }
            // Dropping the senders fails every request still waiting on this link.
            lock(&task_waiters).clear();
        });
        Link {
            leader,
            queue,
            waiters,
        }
    }
}

/// What one link's task connects with.
struct LinkTask<'a> {
    from: u64,
    addr: &'a str,
    security: &'a dyn PeerSecurity,
    retry: &'a SharedBackoff,
}

async fn run(
    link: LinkTask<'_>,
    requests: mpsc::Receiver<PeerRequest>,
    waiters: &Waiters,
) -> std::io::Result<()> {
    let LinkTask {
        from,
        addr,
        security,
        retry,
    } = link;
    let stream = match dial(security, addr, CONNECT_TIMEOUT).await {
        Ok(s) => {
            *backoff(retry) = Backoff::default();
            s
        }
        Err(e) => {
            let mut b = backoff(retry);
            b.delay = (b.delay * 2).clamp(BACKOFF_MIN, BACKOFF_MAX);
            b.not_before = Some(Instant::now() + b.delay);
            return Err(e);
        }
    };
    let (rd, mut wr) = tokio::io::split(stream);
    wr.write_all(&encode(&hello(from))?).await?;
    let writer = write_queued(wr, requests);
    let reader = async move {
        let mut rd = BufReader::new(rd);
        loop {
            let answer: PeerResponse = read_frame(&mut rd, MAX_FRAME).await?;
            let id = match &answer {
                PeerResponse::Forwarded { id, .. } | PeerResponse::ReadIndex { id, .. } => *id,
                _ => return Err(std::io::Error::other("unexpected answer from the leader")),
            };
            if let Some(waiter) = lock(waiters).remove(&id) {
                let _ = waiter.send(answer);
            }
        }
    };
    tokio::select! {
        r = writer => r,
        r = reader => r,
    }
}
