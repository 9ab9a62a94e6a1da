//! A snapshot made outside the log, for `corral import`: the tree as of a zxid that
//! no entry of this log produced. Its log id is that zxid (the log index is the
//! zxid), so the next entry, and every client's next zxid, comes after it; the
//! membership is the voters given, as a first start would have set it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use corral_storage::snapshot;
use openraft::impls::BasicNode;
use openraft::vote::RaftLeaderIdExt;
use openraft::Membership;

use crate::error::ConsensusError;
use crate::types::{LogId, SnapshotMeta, StoredMembership, TypeConfig};

/// Writes `tree` (an encoded, compressed tree) as the snapshot at index
/// `last_zxid` in `snap_dir`, with `voters` (id to host:quorumPort, as the server's
/// `Members` has them; empty for a standalone server) as its membership. Returns
/// the file and its size.
pub fn write_imported_snapshot(
    snap_dir: &Path,
    last_zxid: u64,
    tree: &[u8],
    voters: BTreeMap<u64, String>,
) -> Result<(PathBuf, u64), ConsensusError> {
    // Term 1: above the term-0 entry a first start's initialize() writes on a member
    // with an empty directory (its leader id is (0, its own id), which would compare
    // above (0, 0)), so an imported member never grants its vote to an empty one,
    // and an empty one takes this snapshot from the leader. The first election moves
    // to term 2.
    let leader = <TypeConfig as openraft::RaftTypeConfig>::LeaderId::new_committed(1, 0);
    let log_id = LogId::new(leader, last_zxid);
    let ids = voters.keys().copied().collect();
    let nodes: BTreeMap<u64, BasicNode> = voters
        .into_iter()
        .map(|(id, addr)| (id, BasicNode::new(addr)))
        .collect();
    let membership: Membership<u64, BasicNode> = Membership::new(vec![ids], nodes)
        .map_err(|e| ConsensusError::Storage(format!("imported membership: {e}")))?;
    let meta = SnapshotMeta {
        last_log_id: Some(log_id),
        last_membership: StoredMembership::new(Some(log_id), membership),
    };
    let meta = postcard::to_stdvec(&meta)
        .map_err(|e| ConsensusError::Storage(format!("snapshot metadata: {e}")))?;
    snapshot::write(snap_dir, last_zxid, &meta, tree)
        .map_err(|e| ConsensusError::Storage(e.to_string()))
}
