//! The tree every part of a server reads, behind one lock.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use corral_tree::DataTree;

/// The tree every part of a server reads, behind one lock: the state machine writes
/// under it and calls the observer while still holding it, so a read that registers a
/// watch never misses an event.
#[derive(Clone)]
pub struct SharedTree(Arc<RwLock<DataTree>>);

impl SharedTree {
    pub fn new(tree: DataTree) -> Self {
        SharedTree(Arc::new(RwLock::new(tree)))
    }

    pub fn read(&self) -> RwLockReadGuard<'_, DataTree> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sets /zookeeper/config's data on this server (see `DataTree::set_config`).
    pub fn set_config(&self, data: Vec<u8>) {
        self.write().set_config(data.into());
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, DataTree> {
        self.0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
