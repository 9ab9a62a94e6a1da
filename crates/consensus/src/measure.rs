//! What the consensus path reports for ZooKeeper's `mntr` (`ApplyObserver::measured`):
//! the Raft counterparts of the proposal, ack and commit steps of ZooKeeper's `Leader`
//! and `Follower`. docs/mntr.md maps each to its ZooKeeper metric.
//!
//! Only client transactions are measured (blank and membership entries are Raft's own
//! machinery, as ZooKeeper's NEWLEADER is not a proposal). Latencies "since stamped"
//! are wall-clock milliseconds since the transaction's `time`, which the server that
//! took the request stamps, as ZooKeeper's take the txn header's time; a clock that
//! went back gives no sample, as in ZooKeeper.

use std::sync::atomic::{
    AtomicI64, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};
use std::time::Duration;

use corral_tree::Txn;

/// One measurement. Recording it must stay cheap: it runs once per transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Leader: a client transaction was handed to openraft (appended to the leader's
    /// log and queued for replication), which took `took` (ZooKeeper's `propose`).
    Proposed { took: Duration },
    /// Leader: a transaction committed, a quorum having stored it, `since_proposed`
    /// after it was handed to openraft (ZooKeeper's `commit`, after the quorum ack).
    Committed { since_proposed: Duration },
    /// A write was applied `took` after this server knew it committed. `local`: the
    /// write came from this server's own clients; otherwise a follower forwarded it.
    CommitApplied { local: bool, took: Duration },
    /// Follower or observer: a transaction arrived from the leader.
    ProposalReceived { since_stamped: Option<u64> },
    /// Follower or observer: a transaction was stored durably and acknowledged.
    ProposalAcked { since_stamped: Option<u64> },
    /// Follower or observer: the leader's commit of a transaction it had received
    /// arrived (the commit index of an AppendEntries passed it).
    CommitReceived { since_stamped: Option<u64> },
    /// Any server: a transaction was applied to the tree here.
    Applied { since_stamped: Option<u64> },
}

/// Wall-clock milliseconds since `txn` was stamped; none if the clock went back.
pub(crate) fn since_stamped(txn: &Txn) -> Option<u64> {
    since_millis(txn.time)
}

pub(crate) fn since_millis(time: i64) -> Option<u64> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_millis() as i64;
    u64::try_from(now - time).ok()
}

/// Transactions received from the leader, until their commit arrives: a ring of slots
/// by log index, shared by every connection from the leader (openraft sends its
/// heartbeats, which carry most commits, on a connection of their own). Atomics only:
/// each commit index range is claimed by one caller through `committed`.
pub(crate) struct Replicated {
    slots: Box<[Slot]>,
    /// The highest index received: a commit passes nothing this server lacks.
    received: AtomicU64,
    /// The highest commit index measured.
    committed: AtomicU64,
}

#[derive(Default)]
struct Slot {
    index: AtomicU64,
    time: AtomicI64,
}

/// Transactions remembered for their commit. One committed more than this many
/// entries after it arrived is counted without it (the leader's commits were not
/// coming, or a jump of the commit index passed it).
const SLOTS: u64 = 4096;

impl Replicated {
    pub fn new() -> Replicated {
        Replicated {
            slots: (0..SLOTS).map(|_| Slot::default()).collect(),
            received: AtomicU64::new(0),
            committed: AtomicU64::new(0),
        }
    }

    fn slot(&self, index: u64) -> &Slot {
        &self.slots[(index % SLOTS) as usize]
    }

    /// A transaction received from the leader, stamped `time`. One sent again, or
    /// replacing an entry of an older term, takes its slot.
    pub fn received(&self, index: u64, time: i64) {
        let slot = self.slot(index);
        slot.time.store(time, Relaxed);
        slot.index.store(index, Release);
        self.received.fetch_max(index, Relaxed);
    }

    /// The stamped time of the transaction at `index`, if it is remembered.
    pub fn time(&self, index: u64) -> Option<i64> {
        let slot = self.slot(index);
        (slot.index.load(Acquire) == index).then(|| slot.time.load(Relaxed))
    }

    /// The leader's commit index: calls `f` with the stamped time of each received
    /// transaction it commits that no earlier call did.
    pub fn commit(&self, index: u64, mut f: impl FnMut(i64)) {
        let index = index.min(self.received.load(Relaxed));
        let before = self.committed.fetch_max(index, Relaxed);
        if index <= before {
            return;
        }
        let from = (before + 1).max(index.saturating_sub(SLOTS - 1));
        for i in from..=index {
            if let Some(time) = self.time(i) {
                f(time);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_count_each_received_transaction_once() {
        let r = Replicated::new();
        for i in [1, 2, 3, 5] {
            r.received(i, i as i64);
        }
        // Sent again (a retry) or replaced by a newer term's entry.
        r.received(3, 30);
        let mut seen = Vec::new();
        r.commit(3, |t| seen.push(t));
        assert_eq!(seen, vec![1, 2, 30]);
        r.commit(2, |t| seen.push(t));
        // A commit past what arrived stops at the last received.
        r.commit(100, |t| seen.push(t));
        assert_eq!(seen, vec![1, 2, 30, 5]);
        r.received(7, 7);
        r.commit(100, |t| seen.push(t));
        assert_eq!(seen, vec![1, 2, 30, 5, 7]);
        // An index that wrapped the ring is not mistaken for an older one.
        assert_eq!(r.time(7 + SLOTS), None);
    }

    #[test]
    fn stamps_in_the_future_give_no_sample() {
        assert_eq!(since_millis(i64::MAX), None);
        assert!(since_millis(0).is_some());
    }
}
