//! Applying a transaction: the write rules of ZooKeeper's `PrepRequestProcessor`, in
//! its order of checks so that the first error is the one ZooKeeper would give.
//!
//! Every mutation records how to undo itself, which makes a multi atomic: when one of
//! its operations fails, the earlier ones are rolled back and no event escapes.
//!
//! - `transaction`: `DataTree::apply`, the entry point: the zxid rule, sessions,
//!   multi, and the dispatch of one operation to the modules below.
//! - `create`, `remove` (delete, deleteContainer, closeSession), `change` (setData,
//!   setACL, check): one file per kind of operation.
//! - `restore`: the AdminServer's restore, a snapshot's tree in place of this one.
//! - `quota`: the stats of the quotas a change falls under, as ZooKeeper keeps them.
//! - `checks`: the lookups and ACL and path preconditions the operations share.
//! - `context`: the state one transaction carries (zxid, undo log, events) and the
//!   roll-back of a failed multi.
//!
//! `transaction` uses the operation modules; they use `quota`, `checks` and
//! `context`; none of them uses `transaction`.

mod change;
mod checks;
mod context;
mod create;
mod quota;
mod remove;
mod restore;
mod transaction;

#[cfg(test)]
mod tests;
