//! Deliberate bugs, compiled in only with the `test-faults` feature (the workspace's
//! tests and the fault campaign turn it on; a release build of the server has none).
//! Each shows that a checker or a regression test catches a broken guarantee; one is
//! switched on by `corral.testFault` in zoo.cfg.

use std::sync::{Arc, OnceLock};

use corral_tree::{Txn, TxnOp};

/// A deliberate bug, switched on by `corral.testFault`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `sync` answers at once instead of waiting for what the leader committed, so
    /// a lagging or cut-off server serves stale reads after a sync.
    StaleSync,
    /// Applying a create of this path panics after the tree took the node and before
    /// the state machine recorded the entry: a half-applied state machine.
    PanicApplying(String),
}

impl Fault {
    /// The fault a `corral.testFault` value names: `stale-sync`, or
    /// `panic-applying:PATH`.
    pub fn parse(value: &str) -> Option<Fault> {
        match value.split_once(':') {
            None if value == "stale-sync" => Some(Fault::StaleSync),
            Some(("panic-applying", path)) if path.starts_with('/') => {
                Some(Fault::PanicApplying(path.to_string()))
            }
            _ => None,
        }
    }
}

/// The fault a node runs with, shared by its handle and its state machine; set once,
/// after start.
#[derive(Clone, Default)]
pub(crate) struct FaultSwitch(Arc<OnceLock<Fault>>);

impl FaultSwitch {
    pub(crate) fn set(&self, fault: Fault) {
        tracing::warn!("TEST FAULT {fault:?} is on: this server breaks a guarantee on purpose");
        if self.0.set(fault).is_err() {
            tracing::warn!("a test fault was already on; the first one stays");
        }
    }

    pub(crate) fn stale_sync(&self) -> bool {
        self.0.get() == Some(&Fault::StaleSync)
    }

    /// Called with the tree's write lock held, right after `txn` changed the tree.
    pub(crate) fn applied(&self, txn: &Txn) {
        if let (Some(Fault::PanicApplying(path)), TxnOp::Create(create)) = (self.0.get(), &txn.op) {
            if create.path == *path {
                panic!("TEST FAULT: panicking halfway through applying the create of {path}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zoo_cfg_values_name_the_faults() {
        assert_eq!(Fault::parse("stale-sync"), Some(Fault::StaleSync));
        assert_eq!(
            Fault::parse("panic-applying:/a/b"),
            Some(Fault::PanicApplying("/a/b".into()))
        );
        assert_eq!(Fault::parse("panic-applying:a"), None);
        assert_eq!(Fault::parse("stale-sync:x"), None);
        assert_eq!(Fault::parse("everything"), None);
    }
}
