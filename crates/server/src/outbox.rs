//! A connection's queue of frames to its socket (replies and watch events), bounded
//! in frames and in bytes (`corral.clientOutboxBytes`). Nothing waits to queue: a
//! client that does not read what it is sent fills its outbox, and the connection
//! is then cut at once, with a log line, so that the server's memory does not grow
//! with a slow reader and nothing it is sent later arrives after a lost frame.
//!
//! Imports `wire` only.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};

use crate::wire::Outbound;

/// Frames an outbox holds at most, whatever their size.
pub const FRAMES: usize = 10_000;

struct Shared {
    queued: AtomicUsize,
    limit: usize,
    overflowed: watch::Sender<bool>,
    peer: SocketAddr,
}

/// The sending side, one clone for the responder and one for the watches.
#[derive(Clone)]
pub struct Outbox {
    frames: mpsc::Sender<Outbound>,
    shared: Arc<Shared>,
}

/// The writer's side.
pub struct OutboxReader {
    frames: mpsc::Receiver<Outbound>,
    shared: Arc<Shared>,
    overflowed: watch::Receiver<bool>,
}

/// An outbox for the client at `peer`, holding up to `limit` bytes; a single frame
/// larger than that still goes out when nothing else is waiting.
pub fn outbox(peer: SocketAddr, limit: usize) -> (Outbox, OutboxReader) {
    let (tx, rx) = mpsc::channel(FRAMES);
    let (overflowed, watching) = watch::channel(false);
    let shared = Arc::new(Shared {
        queued: AtomicUsize::new(0),
        limit,
        overflowed,
        peer,
    });
    (
        Outbox {
            frames: tx,
            shared: shared.clone(),
        },
        OutboxReader {
            frames: rx,
            shared,
            overflowed: watching,
        },
    )
}

impl Outbox {
    /// Queues a frame without waiting. False when it cannot go: the client has
    /// stopped reading (the outbox overflows now or did before) or the writer is gone;
    /// the connection is then to end.
    pub fn push(&self, frame: Bytes) -> bool {
        let s = &self.shared;
        if *s.overflowed.borrow() {
            return false;
        }
        let len = frame.len();
        let before = s.queued.fetch_add(len, Ordering::Relaxed);
        if before > 0 && before + len > s.limit {
            s.queued.fetch_sub(len, Ordering::Relaxed);
            self.overflow(before);
            return false;
        }
        match self.frames.try_send(Outbound::Frame(frame)) {
            Ok(()) => true,
            Err(e) => {
                s.queued.fetch_sub(len, Ordering::Relaxed);
                if let mpsc::error::TrySendError::Full(_) = e {
                    self.overflow(before);
                }
                false
            }
        }
    }

    fn overflow(&self, queued: usize) {
        let s = &self.shared;
        if !s.overflowed.send_replace(true) {
            tracing::warn!(
                "Closing connection from {}: it is not reading what it is sent ({queued} bytes \
                 waiting, the limit is corral.clientOutboxBytes={} and {FRAMES} frames)",
                s.peer,
                s.limit
            );
        }
    }

    /// Asks the writer to flush and close, after every frame queued before. Waits for
    /// room, unless the outbox overflowed: then the writer stops anyway.
    pub async fn close(&self) {
        let mut overflowed = self.shared.overflowed.subscribe();
        tokio::select! {
            _ = self.frames.send(Outbound::Close) => {}
            _ = overflowed.wait_for(|o| *o) => {}
        }
    }
}

impl OutboxReader {
    fn taken(&self, msg: Outbound) -> Outbound {
        if let Outbound::Frame(b) = &msg {
            self.shared.queued.fetch_sub(b.len(), Ordering::Relaxed);
        }
        msg
    }

    /// The next frame, waiting for one; `None` once every sender is gone, or the
    /// outbox overflowed.
    pub async fn recv(&mut self) -> Option<Outbound> {
        let msg = tokio::select! {
            biased;
            _ = self.overflowed.wait_for(|o| *o) => return None,
            m = self.frames.recv() => m?,
        };
        Some(self.taken(msg))
    }

    /// The next frame if one is waiting.
    pub fn try_recv(&mut self) -> Option<Outbound> {
        if *self.overflowed.borrow() {
            return None;
        }
        let msg = self.frames.try_recv().ok()?;
        Some(self.taken(msg))
    }

    /// Whether the client stopped reading and the connection is to be cut.
    pub fn overflowed(&self) -> bool {
        *self.overflowed.borrow()
    }

    /// Runs `f` (a write to the socket) unless the outbox overflows first: a client
    /// that does not read would otherwise hold the writer in it forever.
    pub async fn unless_overflowed<F: std::future::Future>(&mut self, f: F) -> Option<F::Output> {
        tokio::select! {
            biased;
            _ = self.overflowed.wait_for(|o| *o) => None,
            r = f => Some(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 1))
    }

    #[tokio::test]
    async fn bytes_over_the_limit_overflow_and_nothing_goes_after() {
        let (tx, mut rx) = outbox(peer(), 100);
        assert!(
            tx.push(Bytes::from(vec![0; 300])),
            "alone, a frame over the limit goes"
        );
        assert!(
            !tx.push(Bytes::from(vec![0; 10])),
            "behind it, the limit is passed"
        );
        assert!(
            !tx.push(Bytes::from(vec![0; 1])),
            "and nothing goes after an overflow"
        );
        assert!(rx.recv().await.is_none(), "the writer stops");
    }

    #[tokio::test]
    async fn frames_taken_by_the_writer_make_room() {
        let (tx, mut rx) = outbox(peer(), 100);
        for _ in 0..10 {
            assert!(tx.push(Bytes::from(vec![0; 60])));
            assert!(matches!(rx.recv().await, Some(Outbound::Frame(b)) if b.len() == 60));
        }
        assert!(tx.push(Bytes::from(vec![0; 50])));
        assert!(tx.push(Bytes::from(vec![0; 50])));
        assert!(rx.try_recv().is_some() && rx.try_recv().is_some() && rx.try_recv().is_none());
        tx.close().await;
        assert!(matches!(rx.recv().await, Some(Outbound::Close)));
    }

    #[tokio::test]
    async fn the_frame_count_bounds_small_frames() {
        let (tx, _rx) = outbox(peer(), usize::MAX);
        assert!((0..FRAMES).all(|_| tx.push(Bytes::from_static(b"x"))));
        assert!(!tx.push(Bytes::from_static(b"x")));
    }
}
