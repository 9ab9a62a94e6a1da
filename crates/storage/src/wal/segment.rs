//! Segment files: `log-<first index>.wal` in the log's directory, each starting with
//! an 8-byte magic header; creating, listing and deleting them.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::dir::sync_dir;
use crate::error::StorageError;

pub(super) const MAGIC: &[u8; 8] = b"CRLWAL01";
/// A new segment starts once the current one passes this size.
pub const SEGMENT_BYTES: u64 = 64 << 20;

/// What the log knows of one segment file.
pub(super) struct Segment {
    pub(super) first: u64,
    pub(super) path: PathBuf,
    /// Index and byte offset of every entry record, for truncation.
    pub(super) offsets: Vec<(u64, u64)>,
    /// Where the records end; zeros (or nothing) follow.
    pub(super) end: u64,
}

impl Segment {
    /// A segment with no records yet.
    pub(super) fn empty(first: u64, path: PathBuf) -> Segment {
        Segment {
            first,
            path,
            offsets: Vec::new(),
            end: MAGIC.len() as u64,
        }
    }

    pub(super) fn last(&self) -> Option<u64> {
        self.offsets.last().map(|(i, _)| *i)
    }
}

/// Whether `buf` starts with a segment header.
pub(super) fn has_magic(buf: &[u8]) -> bool {
    buf.len() >= MAGIC.len() && &buf[..MAGIC.len()] == MAGIC
}

fn segment_name(first: u64) -> String {
    format!("log-{first:020}.wal")
}

/// The segment files in `dir` with their first index, oldest first.
pub(super) fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StorageError> {
    let mut out = Vec::new();
    let read = std::fs::read_dir(dir).map_err(|e| StorageError::io(dir, e))?;
    for entry in read {
        let entry = entry.map_err(|e| StorageError::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(first) = name
            .strip_prefix("log-")
            .and_then(|n| n.strip_suffix(".wal"))
            .and_then(|n| n.parse::<u64>().ok())
        {
            out.push((first, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Creates the segment whose first entry is `first`, its header durable and the
/// directory entry too, and opens it for writing.
pub(super) fn create_segment(dir: &Path, first: u64) -> Result<(PathBuf, File), StorageError> {
    let path = dir.join(segment_name(first));
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .map_err(|e| StorageError::io(&path, e))?;
    file.write_all(MAGIC)
        .map_err(|e| StorageError::io(&path, e))?;
    file.sync_all().map_err(|e| StorageError::io(&path, e))?;
    sync_dir(dir)?;
    let file = OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| StorageError::io(&path, e))?;
    Ok((path, file))
}

/// Deletes detached segment files and makes the deletion durable.
pub fn remove_files(dir: &Path, files: &[PathBuf]) -> Result<(), StorageError> {
    for f in files {
        std::fs::remove_file(f).map_err(|e| StorageError::io(f, e))?;
    }
    if !files.is_empty() {
        sync_dir(dir)?;
    }
    Ok(())
}
