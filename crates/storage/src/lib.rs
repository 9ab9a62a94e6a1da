//! Everything Corral keeps on disk, and how it comes back after a crash.
//!
//! This crate owns the formats and nothing above them: the write-ahead log of
//! segment files with length- and CRC-framed records (`record`, `wal`), the group
//! commit that makes one fsync cover every append waiting on it (`flusher`), small
//! atomically replaced state files (`state_file`), and checksummed snapshot files
//! (`snapshot`); the tree arrives already compressed. Records are opaque bytes here; the consensus layer
//! decides what they mean.

pub mod flusher;
pub mod record;
pub mod snapshot;
pub mod state_file;
pub mod wal;

use std::path::PathBuf;

/// A storage failure, naming the file and the byte offset where it applies.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{file}: {source}")]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file} at offset {offset}: {reason}")]
    Corrupt {
        file: PathBuf,
        offset: u64,
        reason: String,
    },
}

impl StorageError {
    pub fn io(file: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StorageError::Io {
            file: file.into(),
            source,
        }
    }
}

/// fsyncs a directory, so a rename or a new file in it survives a crash.
pub fn sync_dir(dir: &std::path::Path) -> Result<(), StorageError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io(dir, e))
}
