//! Directories: a rename, a new file or a deletion in one is only durable once the
//! directory itself is fsynced.

use std::path::Path;

use crate::error::StorageError;

/// fsyncs a directory, so a rename or a new file in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io(dir, e))
}
