//! Start-up: the newest valid snapshot, then the log after it.
//!
//! A corrupt snapshot is reported by file and offset. If an older snapshot and the
//! log entries after it are still on disk, recovery uses them and says so; if not,
//! the server refuses to start rather than serve a tree with a hole in it.

use std::path::Path;

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

pub fn recover(
    snap_dir: &Path,
    log_dir: &Path,
    extended_types: bool,
    fsync_observer: Option<corral_storage::flusher::SyncObserver>,
) -> Result<Recovered, ConsensusError> {
    let mut skipped = Vec::new();
    let mut chosen = None;
    let started = std::time::Instant::now();
    for (index, path) in snapshot::list(snap_dir) {
        match snapshot::read(&path) {
            Ok(file) => {
                chosen = Some((index, path, file));
                break;
            }
            Err(e) => {
                tracing::error!("Corrupt snapshot: {e}");
                skipped.push((e.to_string(), path));
            }
        }
    }
    let (mut tree, mut applied, mut membership, base) = match &chosen {
        Some((index, path, file)) => {
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
            (tree, meta.last_log_id, meta.last_membership, *index)
        }
        None => (
            DataTree::new(extended_types),
            None,
            StoredMembership::default(),
            0,
        ),
    };
    let Opened {
        store,
        committed,
        last_purged,
        first_index,
        warnings,
    } = DiskLogStore::open(
        log_dir,
        base,
        applied.map_or(0, |a| a.index + 1),
        fsync_observer,
    )
    .map_err(|e| err(e.to_string()))?;
    for w in warnings {
        tracing::warn!("{w}");
    }
    let needs_log = last_purged.is_some_and(|p| p.index > base);
    let start = applied.map_or(0, |a| a.index + 1);
    let gap = needs_log && first_index.is_none_or(|first| first > start);
    if gap {
        let why = skipped
            .first()
            .map(|(e, _)| e.clone())
            .unwrap_or_else(|| "no snapshot found".to_string());
        return Err(err(format!(
            "{why}; and no older snapshot plus the log covers the gap (the log on disk starts at {}, the snapshot used ends at {base})",
            first_index.map_or("nothing".to_string(), |f| f.to_string())
        )));
    }
    if !skipped.is_empty() {
        if let Some((_, path, _)) = &chosen {
            tracing::warn!(
                "Recovering from the older snapshot {} plus the log, because newer snapshots are corrupt",
                path.display()
            );
        }
        // Keep the damaged files for inspection, out of the way of later starts.
        for (_, path) in &skipped {
            let aside = path.with_extension("snap.corrupt");
            if let Err(e) = std::fs::rename(path, &aside) {
                tracing::warn!("cannot set aside {}: {e}", path.display());
            }
        }
    }
    if needs_log {
        // The log was purged up to a snapshot we could not use: serve the entries
        // after the one we did use again, so consensus sees no hole.
        store
            .rewind_purged(applied)
            .map_err(|e| err(e.to_string()))?;
    }
    // Purged entries were committed, so the replay reaches at least the purge point.
    let upto = committed
        .map_or(0, |c| c.index)
        .max(last_purged.map_or(0, |p| p.index));
    let replay_started = std::time::Instant::now();
    let mut replayed = 0u64;
    store.for_each(start, upto, |entry| {
        apply_entry(&mut tree, entry, &mut membership);
        applied = Some(entry.log_id);
        replayed += 1;
    });
    tracing::info!(
        "Replayed {replayed} log entries in {} ms ({} ms since recovery began); last applied zxid 0x{:x}",
        replay_started.elapsed().as_millis(),
        started.elapsed().as_millis(),
        applied.map_or(0, |a| a.index)
    );
    Ok(Recovered {
        tree,
        applied,
        membership,
        log: store,
    })
}
