//! What the clients saw: every operation with its invoke and completion times and
//! outcome. The workloads write these records; the checkers read them. Times are
//! microseconds since the campaign started, from one monotonic clock shared by every
//! client (they all run in the campaign's process).

use serde::{Deserialize, Serialize};

/// When an operation ran. `complete` is `None` when the client never learnt its
/// outcome (a timeout or a lost connection): it may have taken effect at any time
/// after `invoke`, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub invoke: u64,
    pub complete: Option<u64>,
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome<T> {
    /// The server answered, with this value.
    Ok(T),
    /// The operation certainly had no effect (refused before it reached the log).
    Fail(String),
    /// The client cannot know whether it took effect.
    Unknown(String),
}

impl<T> Outcome<T> {
    pub fn ok(&self) -> Option<&T> {
        match self {
            Outcome::Ok(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Outcome::Unknown(_))
    }
}

/// A call on one register: a znode `/registers/<key>` created before the history
/// starts with value 0 at version 0. Values written are unique in the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegisterCall {
    /// `sync` then `getData`: linearizable in ZooKeeper's model.
    SyncRead,
    /// `getData` alone, served by the client's server: only sequentially consistent,
    /// so it is checked for per-session monotonicity, not linearizability.
    LocalRead,
    /// `setData` with version -1.
    Write { value: u64 },
    /// `setData` with an expected version.
    Cas { expected: i32, value: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegisterReturn {
    /// A read's value and the znode's version.
    Read { value: u64, version: i32 },
    /// A write or CAS took effect; the version it produced.
    Written { version: i32 },
    /// A CAS was refused with BadVersion: the version was not the expected one.
    BadVersion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterOp {
    /// The client worker that issued it; one worker issues one operation at a time.
    pub process: u32,
    /// The ZooKeeper session it ran in.
    pub session: i64,
    pub key: u32,
    pub span: Span,
    pub call: RegisterCall,
    pub outcome: Outcome<RegisterReturn>,
}

/// A sequential create under `/queue`, its data the unique `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnqueueOp {
    pub process: u32,
    pub id: u64,
    pub span: Span,
    /// The path the server created, e.g. `/queue/q-0000000042`.
    pub outcome: Outcome<String>,
}

/// One child of `/queue` as read at the end, after every fault was healed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueEntry {
    pub path: String,
    pub id: u64,
    pub czxid: i64,
}

/// A check of whether an ephemeral exists (`sync` then `exists`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EphemeralCheck {
    /// True when the check ran in the ephemeral's own session.
    pub by_owner: bool,
    pub span: Span,
    pub outcome: Outcome<bool>,
}

/// One session's life: it created an ephemeral, checked on it, and ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionLife {
    pub process: u32,
    pub session: i64,
    pub path: String,
    /// The ephemeral's create; only an `Ok` create starts the checks.
    pub create: Span,
    pub created: Outcome<()>,
    pub checks: Vec<EphemeralCheck>,
    /// The client closed the session and the server acknowledged it.
    pub closed: Option<Span>,
    /// When the client was told the session had expired.
    pub expired_at: Option<u64>,
}

/// A `setData(-1)` on the sync-then-read counter `/counter`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterWrite {
    pub process: u32,
    pub span: Span,
    /// The version the write produced.
    pub outcome: Outcome<i32>,
}

/// A `sync` then `getData` of `/counter` on one server; `span.invoke` is when the
/// sync was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncThenRead {
    pub process: u32,
    /// The ensemble member (0-based) the client was connected to.
    pub server: usize,
    pub span: Span,
    /// The version read.
    pub outcome: Outcome<i32>,
}

/// Everything one campaign run recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub registers: Vec<RegisterOp>,
    pub enqueues: Vec<EnqueueOp>,
    /// `/queue`'s children read at the end; `None` if the final read failed.
    pub queue_final: Option<Vec<QueueEntry>>,
    pub sessions: Vec<SessionLife>,
    pub counter_writes: Vec<CounterWrite>,
    pub sync_reads: Vec<SyncThenRead>,
}
