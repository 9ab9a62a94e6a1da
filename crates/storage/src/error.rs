//! The one error type of the crate: which file, and for damage, where in it.

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
