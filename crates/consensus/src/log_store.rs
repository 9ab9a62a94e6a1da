//! The Raft log on disk: openraft's `RaftLogStorage` over `corral-storage`'s segment
//! log. The entries from the recovered snapshot on are also kept in memory, once,
//! for replication and apply; reads never see anything at or below the purge point.
//! The vote and the purge point live in a small atomically replaced file.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use corral_storage::flusher::{Flusher, SyncObserver};
use corral_storage::wal::Wal;
use corral_storage::{state_file, StorageError};
use openraft::storage::{IOFlushed, RaftLogStorage};
use openraft::{LogState, RaftLogReader};
use serde::{Deserialize, Serialize};

use crate::record::{decode_entry, encode_entry};
use crate::types::{Entry, LogId, TypeConfig, Vote};

/// What must survive a restart besides the entries.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct RaftState {
    vote: Option<Vote>,
    last_purged: Option<LogId>,
}

struct Inner {
    wal: Wal,
    entries: BTreeMap<u64, Entry>,
    state: RaftState,
    state_path: PathBuf,
    committed: Option<LogId>,
}

impl Inner {
    fn first_readable(&self) -> u64 {
        self.state.last_purged.map_or(0, |l| l.index + 1)
    }

    /// The index the next appended entry must have: one past the last entry, or
    /// past the purge point when no entry follows it. None for a log that has never
    /// held anything (openraft starts it at 0; openraft's conformance suite starts
    /// it elsewhere).
    fn next_index(&self) -> Option<u64> {
        let last = self.entries.keys().next_back().copied();
        let purged = self.state.last_purged.map(|l| l.index);
        last.max(purged).map(|i| i + 1)
    }

    fn save_state(&self) -> Result<(), io::Error> {
        let bytes = postcard::to_stdvec(&self.state)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        state_file::write(&self.state_path, &bytes).map_err(to_io)
    }
}

#[derive(Clone)]
pub struct DiskLogStore {
    inner: Arc<Mutex<Inner>>,
    /// Kept beside the lock, not in it: `srvr` reads them without waiting for an append.
    sizes: Arc<EntrySizes>,
}

/// What the log held when it was opened, for recovery.
pub struct Opened {
    pub store: DiskLogStore,
    pub committed: Option<LogId>,
    pub last_purged: Option<LogId>,
    /// The lowest index held in memory (from `keep_from` on), if any.
    pub first_index: Option<u64>,
    pub warnings: Vec<String>,
}

/// Last, smallest and largest entry written, for `srvr`'s proposal sizes.
pub(crate) struct EntrySizes {
    last: std::sync::atomic::AtomicU64,
    min: std::sync::atomic::AtomicU64,
    max: std::sync::atomic::AtomicU64,
}

impl Default for EntrySizes {
    fn default() -> Self {
        EntrySizes {
            last: std::sync::atomic::AtomicU64::new(0),
            min: std::sync::atomic::AtomicU64::new(u64::MAX),
            max: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl EntrySizes {
    fn record(&self, bytes: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.last.store(bytes, Relaxed);
        self.min.fetch_min(bytes, Relaxed);
        self.max.fetch_max(bytes, Relaxed);
    }

    pub(crate) fn get(&self) -> (u64, u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let min = self.min.load(Relaxed);
        let min = if min == u64::MAX { 0 } else { min };
        (self.last.load(Relaxed), min, self.max.load(Relaxed))
    }
}

fn to_io(e: StorageError) -> io::Error {
    io::Error::other(e.to_string())
}

impl DiskLogStore {
    /// The sizes of the entries this store wrote, shared with the handle for `srvr`.
    pub(crate) fn entry_sizes(&self) -> Arc<EntrySizes> {
        self.sizes.clone()
    }

    /// Opens the log in `dir`, keeping in memory the entries from `keep_from` on
    /// (those after the snapshot recovery starts from). `covered_upto` is the newest
    /// valid snapshot's index: damage in segments wholly below it is skipped.
    pub fn open(
        dir: &Path,
        covered_upto: u64,
        keep_from: u64,
        fsync_observer: Option<SyncObserver>,
    ) -> Result<Opened, StorageError> {
        let flusher = Flusher::start(fsync_observer);
        let (wal, recovered) = Wal::open(dir, covered_upto, flusher)?;
        let state_path = dir.join("raft-state");
        let state: RaftState = match state_file::read(&state_path)? {
            Some(bytes) => postcard::from_bytes(&bytes).map_err(|e| StorageError::Corrupt {
                file: state_path.clone(),
                offset: 0,
                reason: format!("cannot decode raft state: {e}"),
            })?,
            None => RaftState::default(),
        };
        // openraft may read anything after its purge point, which can lag behind
        // the newest snapshot.
        let keep_from = keep_from.min(state.last_purged.map_or(0, |l| l.index + 1));
        let mut entries = BTreeMap::new();
        for (index, bytes) in recovered.entries.range(keep_from..) {
            let entry = decode_entry(bytes).map_err(|e| StorageError::Corrupt {
                file: dir.to_path_buf(),
                offset: 0,
                reason: format!("entry {index}: {e}"),
            })?;
            entries.insert(*index, entry);
        }
        let committed = recovered
            .committed
            .as_deref()
            .and_then(|b| postcard::from_bytes::<Option<LogId>>(b).ok())
            .flatten();
        let first_index = entries.keys().next().copied();
        let last_purged = state.last_purged;
        let store = DiskLogStore {
            sizes: Arc::default(),
            inner: Arc::new(Mutex::new(Inner {
                wal,
                entries,
                state,
                state_path,
                committed,
            })),
        };
        Ok(Opened {
            store,
            committed,
            last_purged,
            first_index,
            warnings: recovered.warnings,
        })
    }

    /// The log's state. A poisoned lock means a panic while the log was being
    /// changed: the entries in memory, the segment files and the vote may no longer
    /// agree, and a log that may have a hole or a stray entry must not be served.
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|_| {
            crate::fatal::stop(format_args!(
                "the Raft log's lock is poisoned: a panic while the log was being changed may have left it inconsistent"
            ))
        })
    }

    /// Visits the entries in `from..=to` in order, for recovery's replay, and returns
    /// the index after the last one visited. They must be contiguous from `from` on:
    /// a hole is an error, and nothing after it is visited.
    pub fn for_each(&self, from: u64, to: u64, mut f: impl FnMut(&Entry)) -> Result<u64, String> {
        let mut next = from;
        if from > to {
            return Ok(next);
        }
        for (index, e) in self.lock().entries.range(from..=to) {
            if *index != next || e.log_id.index != next {
                return Err(format!(
                    "the log has a hole: entry {next} is missing, the next one on disk is {index}"
                ));
            }
            f(e);
            next += 1;
        }
        Ok(next)
    }

    /// The index of the last entry, or of the purge point when no entry follows it.
    pub fn last_index(&self) -> Option<u64> {
        self.lock().next_index().map(|n| n - 1)
    }

    /// Starts the log after `snapshot`, which the whole log is behind (one `corral
    /// import` wrote): purged and committed up to it, both made durable, as after a
    /// snapshot taken here.
    pub fn start_after(&self, snapshot: LogId) -> Result<(), io::Error> {
        let mut inner = self.lock();
        inner.state.last_purged = Some(snapshot);
        inner.save_state()?;
        inner.committed = Some(snapshot);
        let bytes = postcard::to_stdvec(&Some(snapshot))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        inner.wal.append_committed(&bytes).map_err(to_io)
    }

    /// Moves the purge point back to `to` (recovery fell back to an older snapshot);
    /// the entries after it must be in memory.
    pub fn rewind_purged(&self, to: Option<LogId>) -> Result<(), io::Error> {
        let mut inner = self.lock();
        inner.state.last_purged = to;
        inner.save_state()
    }

    /// Removes log segments wholly at or below `upto` (autopurge, behind snapshots).
    /// The purge point is made durable first, so a restart never looks for entries
    /// in a deleted segment; the files are deleted without holding the log's lock.
    pub fn purge_segments(&self, upto: u64) -> Result<usize, StorageError> {
        let (dir, doomed) = {
            let mut inner = self.lock();
            inner
                .save_state()
                .map_err(|e| StorageError::io(inner.state_path.clone(), e))?;
            // Never past the purge point just written: a restart reads from there on.
            let Some(persisted) = inner.state.last_purged.map(|l| l.index) else {
                return Ok(0);
            };
            let dir = inner.wal.dir().to_path_buf();
            (dir, inner.wal.detach_upto(upto.min(persisted)))
        };

        corral_storage::wal::remove_files(&dir, &doomed)?;
        Ok(doomed.len())
    }

    /// Bytes of log on disk, for `dirs` and metrics.
    pub fn disk_size(&self) -> u64 {
        self.lock().wal.size()
    }

    pub fn set_segment_bytes(&self, bytes: u64) {
        self.lock().wal.set_segment_bytes(bytes);
    }
}

impl RaftLogReader<TypeConfig> for DiskLogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, io::Error> {
        let inner = self.lock();
        let first = inner.first_readable();
        let start = match range.start_bound() {
            Bound::Included(s) => (*s).max(first),
            Bound::Excluded(s) => (s + 1).max(first),
            Bound::Unbounded => first,
        };
        let end = range.end_bound().cloned();
        let empty = match end {
            Bound::Included(e) => start > e,
            Bound::Excluded(e) => start >= e,
            Bound::Unbounded => false,
        };
        if empty {
            return Ok(Vec::new());
        }
        Ok(inner
            .entries
            .range((Bound::Included(start), end))
            .map(|(_, e)| e.clone())
            .collect())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, io::Error> {
        Ok(self.lock().state.vote)
    }
}

impl RaftLogStorage<TypeConfig> for DiskLogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, io::Error> {
        let inner = self.lock();
        let last = inner
            .entries
            .range(inner.first_readable()..)
            .next_back()
            .map(|(_, e)| e.log_id);
        Ok(LogState {
            last_purged_log_id: inner.state.last_purged,
            last_log_id: last.or(inner.state.last_purged),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), io::Error> {
        let mut inner = self.lock();
        inner.state.vote = Some(*vote);
        inner.save_state()
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), io::Error> {
        let mut inner = self.lock();
        inner.committed = committed;
        let bytes = postcard::to_stdvec(&committed)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        inner.wal.append_committed(&bytes).map_err(to_io)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, io::Error> {
        Ok(self.lock().committed)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: IOFlushed<TypeConfig>,
    ) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = Entry> + Send,
        I::IntoIter: Send,
    {
        let mut inner = self.lock();
        let mut encoded = Vec::new();
        let mut kept = Vec::new();
        let mut expected = inner.next_index();
        for e in entries {
            let index = e.log_id.index;
            // openraft truncates before it appends anything out of line: an entry
            // that does not follow the last one is a broken invariant, and a log
            // with a hole or a repeat must not be written.
            if expected.is_some_and(|want| index != want) {
                crate::fatal::stop(format_args!(
                    "log entries must be contiguous: entry {index} appended where {expected:?} was due"
                ));
            }
            expected = Some(index + 1);
            let bytes =
                encode_entry(&e).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            self.sizes.record(bytes.len() as u64);
            encoded.push((e.log_id.index, bytes));
            kept.push(e);
        }
        if let Err(e) = inner.wal.append(&encoded) {
            tracing::error!("cannot write the transaction log: {e}; refusing writes");
            return Err(to_io(e));
        }
        for e in kept {
            inner.entries.insert(e.log_id.index, e);
        }
        inner
            .wal
            .sync(Box::new(move |result| callback.io_completed(result)));
        Ok(())
    }

    async fn truncate_after(&mut self, last: Option<LogId>) -> Result<(), io::Error> {
        let mut inner = self.lock();
        inner
            .wal
            .truncate_after(last.map(|l| l.index))
            .map_err(to_io)?;
        let from = last.map_or(0, |l| l.index + 1);
        inner.entries.split_off(&from);
        Ok(())
    }

    /// Forgets entries up to `log_id`. Their segment files stay until autopurge, so
    /// that an older snapshot plus the log can still rebuild the tree. The purge
    /// point is usually written to disk only when autopurge deletes segments: a stale
    /// one after a crash just means a few entries that are still on disk are served
    /// again. Not so when the purge point is an entry this log never had (a snapshot
    /// from the leader, past the end of a lagging follower's log): the entries after
    /// it leave a gap behind them, and a stale purge point on disk would have the
    /// restart read into the gap. That purge point is written before the call returns,
    /// so before any entry after it is appended.
    async fn purge(&mut self, log_id: LogId) -> Result<(), io::Error> {
        let purged = {
            let mut inner = self.lock();
            let leaves_gap = !inner.entries.contains_key(&log_id.index);
            inner.state.last_purged = Some(log_id);
            if leaves_gap {
                inner.save_state()?;
            }
            let keep = inner.entries.split_off(&(log_id.index + 1));
            std::mem::replace(&mut inner.entries, keep)
        };
        // A snapshot's worth of entries takes a while to free; appends should not
        // wait for that, so it happens on a thread of its own.
        std::thread::spawn(move || drop(purged));
        Ok(())
    }
}
