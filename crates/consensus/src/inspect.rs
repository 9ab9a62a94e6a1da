//! Read-only views of the files on disk, for `corral snapshot inspect` and
//! `corral log dump`, the counterparts of zkSnapShotToolkit and zkTxnLogToolkit.

use std::path::Path;

use corral_storage::{snapshot, wal};
use corral_tree::DataTree;
use openraft::EntryPayload;
use serde::Serialize;

use crate::record::decode_entry;
use crate::types::SnapshotMeta;

#[derive(Debug, Serialize)]
pub struct NodeView {
    pub path: String,
    pub data_length: i32,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    pub czxid: i64,
    pub mzxid: i64,
    pub ephemeral_owner: i64,
    pub num_children: i32,
}

#[derive(Debug, Serialize)]
pub struct SnapshotReport {
    pub file: String,
    pub last_zxid: u64,
    pub last_term: u64,
    pub node_count: usize,
    pub data_size: u64,
    pub sessions: usize,
    pub ephemerals: usize,
    pub members: Vec<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<NodeView>>,
}

/// Reads and checks a snapshot file; `dump` adds every node, sorted by path.
pub fn snapshot_report(file: &Path, dump: bool) -> Result<SnapshotReport, String> {
    let f = snapshot::read(file).map_err(|e| e.to_string())?;
    let meta: SnapshotMeta =
        postcard::from_bytes(&f.meta).map_err(|e| format!("{}: metadata: {e}", file.display()))?;
    let tree =
        DataTree::decode_snapshot(&f.tree).map_err(|e| format!("{}: {e}", file.display()))?;
    let nodes = dump.then(|| {
        let mut paths = tree.paths();
        paths.sort();
        paths
            .into_iter()
            .filter_map(|p| {
                let s = tree.node(&p)?.stat();
                Some(NodeView {
                    path: p,
                    data_length: s.data_length,
                    version: s.version,
                    cversion: s.cversion,
                    aversion: s.aversion,
                    czxid: s.czxid,
                    mzxid: s.mzxid,
                    ephemeral_owner: s.ephemeral_owner,
                    num_children: s.num_children,
                })
            })
            .collect()
    });
    Ok(SnapshotReport {
        file: file.display().to_string(),
        last_zxid: f.index,
        last_term: meta.last_log_id.map_or(0, |l| l.leader_id.term),
        node_count: tree.node_count(),
        data_size: tree.approximate_data_size(),
        sessions: tree.sessions().count(),
        ephemerals: tree.ephemeral_count(),
        members: meta.last_membership.membership().voter_ids().collect(),
        nodes,
    })
}

#[derive(Debug, Serialize)]
pub struct LogRecord {
    pub zxid: u64,
    pub term: u64,
    pub time: i64,
    pub session: String,
    pub op: String,
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct LogReport {
    pub records: Vec<LogRecord>,
    pub warnings: Vec<String>,
}

/// Every transaction in the log directory, in order, without changing any file.
pub fn log_report(dir: &Path) -> Result<LogReport, String> {
    let scanned = wal::scan(dir).map_err(|e| e.to_string())?;
    let mut records = Vec::with_capacity(scanned.entries.len());
    let mut warnings = scanned.warnings;
    for (index, bytes) in &scanned.entries {
        let entry = match decode_entry(bytes) {
            Ok(e) => e,
            Err(e) => {
                warnings.push(format!("entry {index} does not decode: {e}"));
                continue;
            }
        };
        let term = entry.log_id.leader_id.term;
        let (time, session, op, detail) = match &entry.payload {
            EntryPayload::Normal(txn) => {
                let (op, detail) = txn.op.describe();
                (
                    txn.time,
                    format!("0x{:x}", txn.session_id),
                    op.to_string(),
                    detail,
                )
            }
            EntryPayload::Blank => (
                0,
                "-".into(),
                "leader".into(),
                "blank entry of a new leader".into(),
            ),
            EntryPayload::Membership(m) => (0, "-".into(), "membership".into(), format!("{m}")),
        };
        records.push(LogRecord {
            zxid: *index,
            term,
            time,
            session,
            op,
            detail,
        });
    }
    Ok(LogReport { records, warnings })
}
