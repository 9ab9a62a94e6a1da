//! openraft's type configuration: log entries carry a tree transaction and answer with
//! its result. The Raft node itself is `state_machine::Raft`, which names the state
//! machine; this module names nothing of the crate, so everything can use it.

use corral_tree::{Txn, TxnResult};

openraft::declare_raft_types!(
    pub TypeConfig:
        // Shared: openraft clones each entry for the state machine and for every
        // follower it replicates to; an Arc makes that a count, not a deep copy.
        D = std::sync::Arc<Txn>,
        R = TxnResult,
);

pub type LogId = openraft::alias::LogIdOf<TypeConfig>;
pub type Entry = openraft::alias::EntryOf<TypeConfig>;
pub type Vote = openraft::alias::VoteOf<TypeConfig>;
pub type StoredMembership = openraft::alias::StoredMembershipOf<TypeConfig>;
pub type SnapshotMeta = openraft::alias::SnapshotMetaOf<TypeConfig>;
pub type Snapshot = openraft::alias::SnapshotOf<TypeConfig, bytes::Bytes>;
