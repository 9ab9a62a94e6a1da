//! A stopped server's tree, for `corral export`: recovered exactly as a start
//! recovers it (`recovery`: the newest valid snapshot, then the committed log after
//! it), so the export holds what the server would serve. Like a start, this may cut
//! a torn last log record and set corrupt snapshots aside.

use std::path::Path;

use corral_tree::acl::AuthSchemes;
use corral_tree::DataTree;

use crate::error::ConsensusError;
use crate::recovery::recover;

/// The tree and the index of the last log entry applied to it.
pub struct Stopped {
    pub tree: DataTree,
    pub applied_index: u64,
}

/// Recovers the tree in `snap_dir` and `log_dir` (a data directory's `snapshots/`
/// and `log/`), judging ACLs by `schemes` as the server did. Extended types are on:
/// the log holds only what was accepted.
pub fn recover_stopped(
    snap_dir: &Path,
    log_dir: &Path,
    schemes: AuthSchemes,
) -> Result<Stopped, ConsensusError> {
    let recovered = recover(snap_dir, log_dir, true, schemes, None)?;
    Ok(Stopped {
        applied_index: recovered.applied.map_or(0, |a| a.index),
        tree: recovered.tree,
    })
}
