//! The znode tree and the deterministic state machine that changes it.
//!
//! This crate owns what every replica must agree on: the nodes with their exact Stat,
//! the session table with each session's ephemerals, container and TTL bookkeeping,
//! and the rules that turn a logged transaction (`txn`) into a new tree and a list of
//! watch events (`apply`). Applying the same transactions in the same order gives the
//! same tree on every server, so nothing here reads a clock, a random source or a
//! socket: the proposer stamps time and identity into each transaction.
//!
//! Reads (`DataTree::node`, `children`…) and ACL checks (`acl`) live here too, since
//! they are pure functions of the tree.
//!
//! Modules, each importing only those listed after it:
//! - `assemble`: a tree from nodes made elsewhere (an import); uses `snapshot`,
//!   `tree`, `nodes`, `node`.
//! - `snapshot`: encodes and decodes the tree, and writes it while writes go on;
//!   uses `tree`, `nodes`, `node`, `path`.
//! - `apply`: the write rules (its own doc lists its files); uses `tree` (and the
//!   `nodes` mutators through the tree's field), `node`, `txn`, `acl`, `path`.
//! - `tree`: `DataTree`, its sessions, indexes and reads; uses `nodes`, `node`,
//!   `acl`, `path`, `txn`.
//! - `nodes`: the nodes by path behind mutators that feed the snapshot's journal;
//!   uses `node`.
//! - `node`: one znode and its Stat; uses `txn`.
//! - `txn`, `acl`, `path`: leaves (they use only `corral-jute`).

pub mod acl;
mod apply;
pub mod assemble;
mod node;
mod nodes;
pub mod path;
pub mod snapshot;
pub mod tree;
pub mod txn;

pub use node::Node;
pub use tree::{DataTree, Event, EventKind, Session};
pub use txn::{CreateMode, OpResult, Txn, TxnOp, TxnResult};
