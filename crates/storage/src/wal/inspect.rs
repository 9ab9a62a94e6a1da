//! Reading the log without changing anything, for inspection tools and for tests
//! that damage a segment's tail where a real torn write would land.

use std::path::Path;

use super::entry::{self, LogRecord};
use super::recovery::Recovered;
use super::segment::{has_magic, list_segments, MAGIC};
use crate::error::StorageError;
use crate::record::{self, Scan};

/// Reads every segment in `dir`. Damage is reported in `warnings` (and reading that
/// segment stops there) rather than repaired.
pub fn scan(dir: &Path) -> Result<Recovered, StorageError> {
    let mut out = Recovered::default();
    for (first, path) in list_segments(dir)? {
        let buf = std::fs::read(&path).map_err(|e| StorageError::io(&path, e))?;
        scan_segment(&buf, &format!("{}", path.display()), first, &mut out);
    }
    Ok(out)
}

/// Reads the bytes of one segment (`name`, whose first index is `first`) into `out`,
/// as `scan` does each file.
pub fn scan_segment(buf: &[u8], name: &str, first: u64, out: &mut Recovered) {
    if !has_magic(buf) {
        out.warnings
            .push(format!("{name}: not a Corral log segment (bad magic)"));
        return;
    }
    let mut offset = MAGIC.len();
    loop {
        match record::scan(buf, offset) {
            Scan::End => break,
            Scan::Record { payload, next } => {
                match entry::decode(payload) {
                    Some(LogRecord::Entry { index, payload }) => {
                        out.entries.insert(index, payload.to_vec());
                    }
                    Some(LogRecord::Committed(c)) => out.committed = Some(c.to_vec()),
                    None => out
                        .warnings
                        .push(format!("{name}: unknown record at offset {offset}")),
                }
                assert!(next > offset, "a record that takes no bytes");
                offset = next;
            }
            Scan::Bad {
                offset: at, reason, ..
            } => {
                out.warnings.push(format!(
                    "{name} (first index {first}): {reason} at offset {at}"
                ));
                break;
            }
        }
    }
}

/// Where the intact records of a segment file end (the zero fill after them, if
/// any, starts there).
pub fn records_end(path: &Path) -> Result<u64, StorageError> {
    let buf = std::fs::read(path).map_err(|e| StorageError::io(path, e))?;
    let mut offset = MAGIC.len().min(buf.len());
    while let Scan::Record { next, .. } = record::scan(&buf, offset) {
        offset = next;
    }
    Ok(offset as u64)
}
