//! The tree every part of a server reads, behind one lock.
//!
//! A panic while the tree is being changed leaves it half-applied (a node created
//! and its parent's child count not yet raised, the observer's watches not fired),
//! and the state machine has not recorded the entry. Serving reads from that tree
//! would serve wrong data, and applying on top of it would make it diverge from
//! every other server's. So the writer's guard stops the process as the panic
//! unwinds through it, before any reader gets the lock, and a poisoned lock (which
//! only a panicking writer leaves) stops it too.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use corral_tree::DataTree;

use crate::fatal;

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
        self.0.read().unwrap_or_else(|_| half_applied())
    }

    /// Sets /zookeeper/config's data on this server (see `DataTree::set_config`).
    pub fn set_config(&self, data: Vec<u8>) {
        self.write().set_config(data.into());
    }

    pub(crate) fn write(&self) -> TreeWriter<'_> {
        TreeWriter(self.0.write().unwrap_or_else(|_| half_applied()))
    }
}

#[cold]
fn half_applied() -> ! {
    fatal::stop(format_args!(
        "the tree's lock is poisoned: the state machine panicked halfway through a change, and the tree may be half-applied"
    ))
}

/// The tree, held for a change. Dropped while a panic unwinds, it stops the process:
/// the change may be half done.
pub(crate) struct TreeWriter<'a>(RwLockWriteGuard<'a, DataTree>);

impl Deref for TreeWriter<'_> {
    type Target = DataTree;

    fn deref(&self) -> &DataTree {
        &self.0
    }
}

impl DerefMut for TreeWriter<'_> {
    fn deref_mut(&mut self) -> &mut DataTree {
        &mut self.0
    }
}

impl Drop for TreeWriter<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            fatal::stop(format_args!(
                "the state machine panicked while changing the tree, which may be half-applied"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Set in the child process that the test runs itself in.
    const CHILD: &str = "CORRAL_SHARED_TREE_CHILD";
    const NAME: &str = "shared_tree::tests::a_writer_that_panics_stops_the_process_before_any_read";

    /// The child's part: a writer panics halfway through a change, then a read.
    fn panic_then_read() {
        let tree = SharedTree::new(DataTree::new(false));
        let writer = tree.clone();
        let _ = std::thread::spawn(move || {
            let _change = writer.write();
            panic!("a change fails halfway");
        })
        .join();
        let nodes = tree.read().node_count();
        println!("READ SERVED: {nodes} nodes");
    }

    #[test]
    fn a_writer_that_panics_stops_the_process_before_any_read() {
        if std::env::var_os(CHILD).is_some() {
            panic_then_read();
            return;
        }
        let exe = std::env::current_exe().expect("the test binary");
        let out = std::process::Command::new(exe)
            .args([NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .expect("run the test binary again");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stdout.contains("READ SERVED"),
            "a read was served from a half-applied tree:\n{stdout}"
        );
        assert!(!out.status.success(), "the process ended well: {stderr}");
        assert!(
            stderr.contains("FATAL: the state machine panicked"),
            "the process did not say why it stopped:\n{stderr}"
        );
    }
}
