//! Small files replaced atomically: written to a temporary name, fsynced, renamed
//! over the old one, and the directory fsynced. A reader sees the old content or the
//! new, never a mix. The content is framed as one record, so damage is detected.

use std::io::Write;
use std::path::Path;

use crate::dir::sync_dir;
use crate::error::StorageError;
use crate::record::{self, Scan};

pub fn write(path: &Path, payload: &[u8]) -> Result<(), StorageError> {
    let tmp = path.with_extension("tmp");
    let mut buf = Vec::with_capacity(payload.len() + record::HEADER);
    record::encode(payload, &mut buf);
    let mut f = std::fs::File::create(&tmp).map_err(|e| StorageError::io(&tmp, e))?;
    f.write_all(&buf)
        .and_then(|_| f.sync_all())
        .map_err(|e| StorageError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| StorageError::io(path, e))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// The payload, or `None` if the file does not exist.
pub fn read(path: &Path) -> Result<Option<Vec<u8>>, StorageError> {
    let buf = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StorageError::io(path, e)),
    };
    match record::scan(&buf, 0) {
        Scan::Record { payload, .. } => Ok(Some(payload.to_vec())),
        Scan::End => Ok(None),
        Scan::Bad { offset, reason, .. } => Err(StorageError::Corrupt {
            file: path.to_path_buf(),
            offset: offset as u64,
            reason: reason.into(),
        }),
    }
}
