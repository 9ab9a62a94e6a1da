//! The newest segment, open for writing: records go at the end of its records, and
//! the file is zero-filled ahead of them so that most appends overwrite blocks that
//! already exist instead of growing the file (see the `wal` doc for why).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use crate::error::StorageError;

/// How far ahead of the records the newest segment is zero-filled.
pub(super) const PREFILL_BYTES: u64 = 8 << 20;
static ZEROS: [u8; 64 << 10] = [0; 64 << 10];

pub(super) struct Active {
    pub(super) file: Arc<File>,
    /// Where the next record goes.
    pub(super) len: u64,
    /// The file's length: zeros from `len` up to here.
    pub(super) filled: u64,
}

impl Active {
    /// Writes `buf` at the end of the records, zero-filling ahead first if it would
    /// reach past what is filled, but not past `segment_bytes` (the segment rolls
    /// over there anyway). Returns the offset it was written at.
    pub(super) fn write_records(
        &mut self,
        buf: &[u8],
        segment_bytes: u64,
        path: &Path,
    ) -> Result<u64, StorageError> {
        let at = self.len;
        let end = at + buf.len() as u64;
        assert!(
            self.filled >= at,
            "{}: zero fill ends at {} behind the records' end {at}",
            path.display(),
            self.filled
        );
        if end > self.filled {
            let target = (end + PREFILL_BYTES).min(segment_bytes.max(end));
            // Never below `at`: what lies before it are records.
            let from = self.filled.max(at);
            match zero_fill(&self.file, from, target) {
                Ok(()) => self.filled = target,
                Err(e) => {
                    // Only speed is lost: a nearly full disk keeps its last
                    // megabytes for records, and appends grow the file as before.
                    tracing::debug!("cannot zero-fill {} ahead: {e}", path.display());
                    let _ = self.file.set_len(from);
                }
            }
        }
        self.file
            .write_all_at(buf, at)
            .map_err(|e| StorageError::io(path, e))?;
        self.len = end;
        self.filled = self.filled.max(end);
        Ok(at)
    }
}

fn zero_fill(file: &File, from: u64, to: u64) -> std::io::Result<()> {
    let mut pos = from;
    while pos < to {
        let n = (to - pos).min(ZEROS.len() as u64) as usize;
        file.write_all_at(&ZEROS[..n], pos)?;
        pos += n as u64;
    }
    Ok(())
}
