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

pub mod acl;
mod apply;
pub mod path;
pub mod snapshot;

pub mod tree;
pub mod txn;

pub use tree::{DataTree, Event, EventKind, Node, Session};
pub use txn::{CreateMode, OpResult, Txn, TxnOp, TxnResult};
