//! `removewatches path`: stops the shell's watches on a path.

use std::fmt::Write as _;

use crate::watches::{WatchKind, Watches};

/// Dropping a watcher stops its events; zkCli's watcher is then told of each kind
/// removed, which the shell prints the same way.
pub fn run(watches: &Watches, path: &str) -> Result<String, String> {
    let removed = watches.remove(path);
    if removed.is_empty() {
        return Err(format!("No watcher exists for path: {path}\n"));
    }
    let mut out = String::new();
    for kind in removed {
        let name = match kind {
            WatchKind::Persistent => "PersistentWatchRemoved",
            WatchKind::Data => "DataWatchRemoved",
            WatchKind::Child => "ChildWatchRemoved",
        };
        let _ = write!(
            out,
            "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:{name} path:{path}\n"
        );
    }
    Ok(out)
}
