//! A ZooKeeper data directory read as ZooKeeper restores it (`FileTxnSnapLog`):
//! the newest snapshot that decodes (older ones when newer are corrupt, which the
//! result reports), then every logged transaction after it, in zxid order.
//!
//! Stricter than ZooKeeper where it would go on with a hole: zxids must follow one
//! another within an epoch (a new epoch may start anywhere), so a missing log file
//! is an error naming where the hole is, as are a bad checksum and an unknown type.

use std::path::{Path, PathBuf};

use crate::compress::{decompress, Compression};
use crate::digest::{tree_digest, DIGEST_VERSION};
use crate::error::{hex, ZkDataError};
use crate::model::ZkTree;
use crate::replay;
use crate::snapshot::{self, Snapshot};
use crate::txnlog::{LogEnd, LogReader};

/// Where ZooKeeper keeps its files: `dataDir`, and `dataLogDir` if apart.
#[derive(Debug, Clone)]
pub struct Dirs {
    pub data: PathBuf,
    pub log: Option<PathBuf>,
}

/// What is being read, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nodes of the snapshot decoded so far, and its bytes.
    Snapshot { nodes: u64, bytes: u64, total: u64 },
    /// Log bytes read so far, of all the logs to read.
    Logs { bytes: u64, total: u64 },
}

/// A restored database and how it was found.
#[derive(Debug)]
pub struct Loaded {
    pub tree: ZkTree,
    pub snapshot: PathBuf,
    pub snapshot_zxid: i64,
    /// Newer snapshots that did not decode, each with why.
    pub skipped: Vec<(PathBuf, String)>,
    pub logs: Vec<PathBuf>,
    pub txns: u64,
    /// Things an operator may want to know that did not stop the read.
    pub notes: Vec<String>,
    pub digest: Option<(i64, i32, i64)>,
    pub last_processed_zxid: Option<i64>,
    /// The snapshot's digest compared with the tree's when the replay reached its
    /// zxid, as ZooKeeper compares them (`DataTree.compareSnapshotDigests`).
    pub digest_check: Option<DigestCheck>,
}

/// A snapshot digest compared: at which zxid, and whether the tree matched it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestCheck {
    pub zxid: i64,
    pub stored: i64,
    pub computed: i64,
}

impl DigestCheck {
    pub fn matches(&self) -> bool {
        self.stored == self.computed
    }
}

/// `dir/version-2`, or `dir` itself when it is the version-2 folder.
fn version_dir(dir: &Path) -> Result<PathBuf, ZkDataError> {
    let inner = dir.join("version-2");
    if inner.is_dir() {
        return Ok(inner);
    }
    if dir.file_name().is_some_and(|n| n == "version-2") && dir.is_dir() {
        return Ok(dir.to_path_buf());
    }
    Err(ZkDataError::NoDataDir {
        dir: dir.to_path_buf(),
    })
}

/// Files named `prefix.<hex zxid>[.suffix]`, by zxid (`Util.getZxidFromName`).
fn list(dir: &Path, prefix: &str) -> Result<Vec<(i64, PathBuf)>, ZkDataError> {
    let read = std::fs::read_dir(dir).map_err(|e| ZkDataError::io(dir, e))?;
    let mut out = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| ZkDataError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let mut parts = name.split('.');
        if parts.next() != Some(prefix) {
            continue;
        }
        if let Some(zxid) = parts.next().and_then(|z| u64::from_str_radix(z, 16).ok()) {
            out.push((zxid as i64, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

fn read(file: &Path) -> Result<Vec<u8>, ZkDataError> {
    std::fs::read(file).map_err(|e| ZkDataError::io(file, e))
}

/// Restores the database in `dirs`; `progress` hears how far it is.
pub fn load(dirs: &Dirs, progress: &mut dyn FnMut(Phase)) -> Result<Loaded, ZkDataError> {
    let snap_dir = version_dir(&dirs.data)?;
    let log_dir = match &dirs.log {
        Some(d) => version_dir(d)?,
        None => snap_dir.clone(),
    };
    let snapshots = list(&snap_dir, "snapshot")?;
    if snapshots.is_empty() {
        return Err(ZkDataError::NoSnapshot { dir: snap_dir });
    }
    let mut skipped = Vec::new();
    for (zxid, path) in snapshots.iter().rev() {
        match read_snapshot(path, progress) {
            Ok(snap) => {
                let logs = list(&log_dir, "log")?;
                return replay_logs(snap, (*zxid, path.clone()), skipped, &logs, progress);
            }
            Err(e) => skipped.push((path.clone(), e.to_string())),
        }
    }
    Err(ZkDataError::NoValidSnapshot {
        tried: skipped
            .into_iter()
            .map(|(p, e)| format!("{}: {e}", p.display()))
            .collect(),
    })
}

fn read_snapshot(path: &Path, progress: &mut dyn FnMut(Phase)) -> Result<Snapshot, ZkDataError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let how = Compression::of_name(name.as_deref().unwrap_or(""));
    let corrupt = |offset: u64, reason: String| ZkDataError::CorruptSnapshot {
        file: path.to_path_buf(),
        offset,
        reason,
    };
    let bytes = decompress(read(path)?, how).map_err(|e| corrupt(0, e))?;
    let total = bytes.len() as u64;
    let mut report = |nodes, bytes| {
        progress(Phase::Snapshot {
            nodes,
            bytes,
            total,
        })
    };
    snapshot::decode(&bytes, &mut report).map_err(|e| corrupt(e.offset, e.reason))
}

/// The log files a replay from `start` reads: the last one that begins before it
/// and every one after (`FileTxnLog.getLogFiles`).
fn logs_from(logs: &[(i64, PathBuf)], start: i64) -> &[(i64, PathBuf)] {
    let first = logs.iter().rposition(|(z, _)| *z < start).unwrap_or(0);
    &logs[first..]
}

/// Whether `next` may follow `prev`: the next counter in the same epoch, or any
/// zxid of a later epoch.
fn follows(prev: i64, next: i64) -> bool {
    next == prev + 1 || (next >> 32) > (prev >> 32)
}

fn replay_logs(
    snap: Snapshot,
    (snapshot_zxid, snapshot_path): (i64, PathBuf),
    skipped: Vec<(PathBuf, String)>,
    logs: &[(i64, PathBuf)],
    progress: &mut dyn FnMut(Phase),
) -> Result<Loaded, ZkDataError> {
    let mut loaded = Loaded {
        tree: snap.tree,
        snapshot: snapshot_path,
        snapshot_zxid,
        skipped,
        logs: Vec::new(),
        txns: 0,
        notes: Vec::new(),
        digest: snap.digest,
        last_processed_zxid: snap.last_processed_zxid,
        digest_check: None,
    };
    loaded.tree.last_zxid = snapshot_zxid;
    check_digest(&mut loaded, snapshot_zxid);
    let start = snapshot_zxid + 1;
    let files = logs_from(logs, start);
    if let Some((first, file)) = files.first() {
        if *first > start && !follows(snapshot_zxid, *first) {
            return Err(ZkDataError::LogsMissing {
                file: file.clone(),
                snapshot: snapshot_zxid,
                first: *first,
            });
        }
    }
    let total: u64 = files
        .iter()
        .filter_map(|(_, p)| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let mut done = 0u64;
    let mut prev = snapshot_zxid;
    for (_, path) in files {
        let bytes = read(path)?;
        replay_file(&mut loaded, path, &bytes, &mut prev)?;
        loaded.logs.push(path.clone());
        done += bytes.len() as u64;
        progress(Phase::Logs { bytes: done, total });
    }
    replay::refresh_quota_stats(&mut loaded.tree);
    replay::drop_dead_sessions(&mut loaded.tree);
    Ok(loaded)
}

/// Compares the snapshot's digest with the tree's once the tree is at its zxid.
/// ZooKeeper skips a digest of another version, one older than the snapshot (a new
/// leader's snapshot at epoch+0), and one at zxid 0, which it reads as "the digest
/// value is empty" (an ensemble member's first snapshot.0 stores 0); so does this.
fn check_digest(loaded: &mut Loaded, at: i64) {
    let Some((zxid, version, stored)) = loaded.digest else {
        return;
    };
    if version != DIGEST_VERSION || zxid <= 0 || zxid != at || zxid < loaded.snapshot_zxid {
        return;
    }
    if loaded.digest_check.is_some() {
        return;
    }
    let check = DigestCheck {
        zxid,
        stored,
        computed: tree_digest(&loaded.tree),
    };
    if !check.matches() {
        loaded.notes.push(format!(
            "the snapshot's digest at zxid {} is {:x}, the replayed tree's {:x}: ZooKeeper would log \"Digests are not matching\"",
            hex(zxid),
            stored,
            check.computed
        ));
    }
    loaded.digest_check = Some(check);
}

/// Applies the records of one log after `prev`, the zxid last applied.
fn replay_file(
    loaded: &mut Loaded,
    path: &Path,
    bytes: &[u8],
    prev: &mut i64,
) -> Result<(), ZkDataError> {
    let mut log = LogReader::open(path, bytes)?;
    while let Some(record) = log.next_record() {
        let (offset, entry) = record?;
        let zxid = entry.header.zxid;
        if zxid <= loaded.snapshot_zxid {
            // Already in the snapshot: the log file began before it.
            continue;
        }
        if !follows(*prev, zxid) {
            return Err(ZkDataError::Gap {
                file: path.to_path_buf(),
                offset,
                after: *prev,
                found: zxid,
            });
        }
        replay::apply(&mut loaded.tree, &entry.header, &entry.txn);
        loaded.txns += 1;
        *prev = zxid;
        check_digest(loaded, zxid);
    }
    if let Some(LogEnd::Partial { offset }) = log.end() {
        loaded.notes.push(format!(
            "{}: the record at byte {offset} (after zxid {}) was never finished; ZooKeeper ignores it too",
            path.display(),
            hex(*prev)
        ));
    }
    Ok(())
}
