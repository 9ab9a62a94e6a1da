//! Start-up: the newest valid snapshot, then the log after it.
//!
//! A corrupt snapshot is reported by file and offset. If an older snapshot and the
//! log entries after it are still on disk, recovery uses them and says so; if not,
//! the server refuses to start rather than serve a tree with a hole in it.

use std::path::{Path, PathBuf};

use corral_storage::snapshot;
use corral_tree::DataTree;

use crate::error::ConsensusError;
use crate::log_store::{DiskLogStore, Opened};
use crate::state_machine::apply_entry;
use crate::types::{LogId, SnapshotMeta, StoredMembership};

pub struct Recovered {
    pub tree: DataTree,
    pub applied: Option<LogId>,
    pub membership: StoredMembership,
    pub log: DiskLogStore,
}

fn err(msg: impl Into<String>) -> ConsensusError {
    ConsensusError::Storage(msg.into())
}

/// The snapshot recovery starts from, and the newer ones it skipped as corrupt.
struct Base {
    tree: DataTree,
    applied: Option<LogId>,
    membership: StoredMembership,
    /// The snapshot's index, 0 without one.
    index: u64,
    path: Option<PathBuf>,
    /// Why each skipped snapshot was, and its file.
    skipped: Vec<(String, PathBuf)>,
}

pub fn recover(
    snap_dir: &Path,
    log_dir: &Path,
    extended_types: bool,
    auth_schemes: corral_tree::acl::AuthSchemes,
    fsync_observer: Option<corral_storage::flusher::SyncObserver>,
) -> Result<Recovered, ConsensusError> {
    let started = std::time::Instant::now();
    let mut base = newest_snapshot(snap_dir, extended_types)?;
    // Before the replay: an entry must be judged by the rules it was first applied by.
    base.tree.set_auth_schemes(auth_schemes);
    let Opened {
        store,
        committed,
        last_purged,
        first_index,
        warnings,
    } = DiskLogStore::open(
        log_dir,
        base.index,
        base.applied.map_or(0, |a| a.index + 1),
        fsync_observer,
    )
    .map_err(|e| err(e.to_string()))?;
    for w in warnings {
        tracing::warn!("{w}");
    }
    let needs_log = last_purged.is_some_and(|p| p.index > base.index);
    let start = base.applied.map_or(0, |a| a.index + 1);
    let gap = needs_log && first_index.is_none_or(|first| first > start);
    if gap {
        let why = base
            .skipped
            .first()
            .map(|(e, _)| e.clone())
            .unwrap_or_else(|| "no snapshot found".to_string());
        return Err(err(format!(
            "{why}; and no older snapshot plus the log covers the gap (the log on disk starts at {}, the snapshot used ends at {})",
            first_index.map_or("nothing".to_string(), |f| f.to_string()),
            base.index
        )));
    }
    set_aside(&base);
    if needs_log {
        // The log was purged up to a snapshot we could not use: serve the entries
        // after the one we did use again, so consensus sees no hole.
        store
            .rewind_purged(base.applied)
            .map_err(|e| err(e.to_string()))?;
    }
    if let Some(applied) = base.applied {
        // A snapshot the whole log is behind: one `corral import` wrote, with no log
        // yet. What it holds is committed, so the log is purged and committed up to
        // it, as after a snapshot taken here; otherwise this member would tell
        // openraft its log is empty, grant its vote to an empty member and take its
        // appends.
        if store.last_index().is_none_or(|last| last < applied.index) {
            store.start_after(applied).map_err(|e| err(e.to_string()))?;
        }
    }
    // Purged entries were committed, so the replay reaches at least the purge point.
    let committed = committed.map(|c| c.index).max(last_purged.map(|p| p.index));
    replay(base, store, log_dir, committed, started)
}

/// The newest snapshot that reads and decodes; an empty tree without one.
fn newest_snapshot(snap_dir: &Path, extended_types: bool) -> Result<Base, ConsensusError> {
    let started = std::time::Instant::now();
    let mut skipped = Vec::new();
    for (index, path) in snapshot::list(snap_dir) {
        let file = match snapshot::read(&path) {
            Ok(file) => file,
            Err(e) => {
                tracing::error!("Corrupt snapshot: {e}");
                skipped.push((e.to_string(), path));
                continue;
            }
        };
        let read_ms = started.elapsed().as_millis();
        let tree = DataTree::decode_snapshot(&file.tree)
            .map_err(|e| err(format!("{}: tree does not decode: {e}", path.display())))?;
        let meta: SnapshotMeta = postcard::from_bytes(&file.meta)
            .map_err(|e| err(format!("{}: metadata does not decode: {e}", path.display())))?;
        tracing::info!(
            "Loaded snapshot {} (last zxid 0x{index:x}, {} nodes) in {} ms ({read_ms} ms reading and checking, the rest decoding)",
            path.display(),
            tree.node_count(),
            started.elapsed().as_millis()
        );
        return Ok(Base {
            tree,
            applied: meta.last_log_id,
            membership: meta.last_membership,
            index,
            path: Some(path),
            skipped,
        });
    }
    Ok(Base {
        tree: DataTree::new(extended_types),
        applied: None,
        membership: StoredMembership::default(),
        index: 0,
        path: None,
        skipped,
    })
}

/// Keeps the corrupt snapshots recovery skipped for inspection, out of the way of
/// later starts.
fn set_aside(base: &Base) {
    if base.skipped.is_empty() {
        return;
    }
    if let Some(path) = &base.path {
        tracing::warn!(
            "Recovering from the older snapshot {} plus the log, because newer snapshots are corrupt",
            path.display()
        );
    }
    for (_, path) in &base.skipped {
        let aside = path.with_extension("snap.corrupt");
        if let Err(e) = std::fs::rename(path, &aside) {
            tracing::warn!("cannot set aside {}: {e}", path.display());
        }
    }
}

/// Applies the log after the snapshot, up to what was `committed`. The entries must
/// follow one another with no hole, and reach every committed one.
fn replay(
    base: Base,
    log: DiskLogStore,
    log_dir: &Path,
    committed: Option<u64>,
    recovery_started: std::time::Instant,
) -> Result<Recovered, ConsensusError> {
    let Base {
        mut tree,
        mut applied,
        mut membership,
        ..
    } = base;
    let start = applied.map_or(0, |a| a.index + 1);
    let upto = committed.unwrap_or(0);
    let started = std::time::Instant::now();
    let mut replayed = 0u64;
    let next = log
        .for_each(start, upto, |entry| {
            apply_entry(&mut tree, entry, &mut membership);
            applied = Some(entry.log_id);
            replayed += 1;
        })
        .map_err(|hole| err(format!("{}: {hole}", log_dir.display())))?;
    // A committed entry missing from the log is a lost write: refuse to serve without it.
    if committed.is_some_and(|c| c >= start && next <= c) {
        return Err(err(format!(
            "{}: entry {next} is missing from the log, but entries up to {upto} were committed",
            log_dir.display()
        )));
    }
    tracing::info!(
        "Replayed {replayed} log entries in {} ms ({} ms since recovery began); last applied zxid 0x{:x}",
        started.elapsed().as_millis(),
        recovery_started.elapsed().as_millis(),
        applied.map_or(0, |a| a.index)
    );
    Ok(Recovered {
        tree,
        applied,
        membership,
        log,
    })
}

#[cfg(test)]
mod tests {
    use openraft::storage::{RaftLogStorage, RaftLogStorageExt};
    use openraft::testing::{blank_ent, log_id};

    use super::*;
    use crate::types::TypeConfig as C;

    fn dirs(name: &str) -> (PathBuf, PathBuf) {
        let root =
            std::env::temp_dir().join(format!("corral-recovery-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        (root.join("snapshots"), root.join("log"))
    }

    /// Writes `indexes` as blank entries of term 1, purging to `purge` first if any,
    /// and records `committed`.
    async fn write_log(
        dir: &Path,
        before: std::ops::RangeInclusive<u64>,
        purge: Option<u64>,
        after: std::ops::RangeInclusive<u64>,
        committed: u64,
    ) {
        let mut log = DiskLogStore::open(dir, 0, 0, None)
            .expect("open the log")
            .store;
        log.blocking_append(before.map(|i| blank_ent::<C>(1, 1, i)).collect::<Vec<_>>())
            .await
            .expect("append");
        if let Some(p) = purge {
            log.purge(log_id::<C>(1, 1, p)).await.expect("purge");
        }
        log.blocking_append(after.map(|i| blank_ent::<C>(1, 1, i)).collect::<Vec<_>>())
            .await
            .expect("append");
        log.save_committed(Some(log_id::<C>(1, 1, committed)))
            .await
            .expect("commit");
    }

    /// A log that jumps from 10 to 21 (a snapshot to 20 was installed and is gone):
    /// replaying it onto an empty tree would skip ten transactions.
    #[tokio::test]
    async fn a_hole_in_the_log_refuses_the_start() {
        let (snaps, log) = dirs("hole");
        write_log(&log, 0..=10, Some(20), 21..=25, 25).await;
        let refused = recover(&snaps, &log, false, Default::default(), None).map(|r| r.applied);
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("entry 11 is missing")),
            "{refused:?}"
        );
        let _ = std::fs::remove_dir_all(log.parent().unwrap_or(&log));
    }

    #[tokio::test]
    async fn a_committed_entry_missing_from_the_log_refuses_the_start() {
        let (snaps, log) = dirs("tail");
        write_log(&log, 0..=5, None, 6..=6, 8).await;
        let refused = recover(&snaps, &log, false, Default::default(), None).map(|r| r.applied);
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("entry 7 is missing")),
            "{refused:?}"
        );
        let _ = std::fs::remove_dir_all(log.parent().unwrap_or(&log));
    }

    #[tokio::test]
    async fn a_whole_log_replays() {
        let (snaps, log) = dirs("whole");
        write_log(&log, 0..=5, None, 6..=9, 9).await;
        let recovered = recover(&snaps, &log, false, Default::default(), None).map(|r| r.applied);
        assert_eq!(recovered.ok().flatten(), Some(log_id::<C>(1, 1, 9)));
        let _ = std::fs::remove_dir_all(log.parent().unwrap_or(&log));
    }
}
