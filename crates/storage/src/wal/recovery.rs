//! Reading the segments back when the log opens. A damaged record at the very end of
//! the newest segment is what a crash in the middle of a write leaves: it is cut off
//! with a warning. Damage anywhere else is an error naming the file and offset,
//! unless the whole segment is already in a snapshot, in which case it is skipped.

use std::collections::BTreeMap;
use std::fs::OpenOptions;

use super::entry::{self, LogRecord};
use super::segment::{has_magic, Segment, MAGIC};
use crate::error::StorageError;
use crate::record::{self, Scan};

/// What was on disk.
#[derive(Debug, Default)]
pub struct Recovered {
    pub entries: BTreeMap<u64, Vec<u8>>,
    pub committed: Option<Vec<u8>>,
    /// What recovery repaired or skipped, for the operator's log.
    pub warnings: Vec<String>,
}

/// Where reading a segment stands in the log.
#[derive(Clone, Copy)]
pub(super) struct Place {
    /// The newest segment: a torn tail there is a crash's, and is cut off.
    pub(super) is_last: bool,
    /// Every entry of it is in a snapshot: damage there costs nothing.
    pub(super) covered: bool,
}

/// Reads one segment into `out`, noting in `seg` where its entries and records are.
pub(super) fn read_segment(
    seg: &mut Segment,
    place: Place,
    out: &mut Recovered,
) -> Result<(), StorageError> {
    let buf = std::fs::read(&seg.path).map_err(|e| StorageError::io(&seg.path, e))?;
    if !has_magic(&buf) {
        if place.is_last && buf.len() < MAGIC.len() {
            out.warnings.push(format!(
                "{}: segment header torn at offset 0; rewritten empty",
                seg.path.display()
            ));
            std::fs::write(&seg.path, MAGIC).map_err(|e| StorageError::io(&seg.path, e))?;
            return Ok(());
        }
        return Err(corrupt(seg, 0, "not a Corral log segment (bad magic)"));
    }
    let mut offset = MAGIC.len();
    loop {
        seg.end = offset as u64;
        match record::scan(&buf, offset) {
            Scan::End => return Ok(()),
            Scan::Record { payload, next } => {
                match entry::decode(payload) {
                    Some(LogRecord::Entry { index, payload }) => {
                        keep_entry(seg, out, index, payload, offset as u64)
                    }
                    Some(LogRecord::Committed(c)) => out.committed = Some(c.to_vec()),
                    None => return Err(corrupt(seg, offset, "unknown record type")),
                }
                offset = next;
            }
            Scan::Bad {
                offset: at,
                reaches_end,
                reason,
            } => return damaged(seg, place, out, (at, reaches_end, reason), buf.len()),
        }
    }
}

fn corrupt(seg: &Segment, offset: usize, reason: &str) -> StorageError {
    StorageError::Corrupt {
        file: seg.path.clone(),
        offset: offset as u64,
        reason: reason.to_string(),
    }
}

fn keep_entry(seg: &mut Segment, out: &mut Recovered, index: u64, payload: &[u8], at: u64) {
    // A later entry with the same or lower index replaces the tail from there on, as
    // a truncation would have.
    if out
        .entries
        .last_key_value()
        .is_some_and(|(last, _)| *last >= index)
    {
        out.entries.split_off(&index);
        seg.offsets.retain(|(i, _)| *i < index);
    }
    out.entries.insert(index, payload.to_vec());
    seg.offsets.push((index, at));
}

/// A record that does not check out at `at`: cut off if it is a crash's torn tail,
/// skipped if a snapshot covers the segment, refused otherwise.
fn damaged(
    seg: &Segment,
    place: Place,
    out: &mut Recovered,
    (at, reaches_end, reason): (usize, bool, &str),
    file_len: usize,
) -> Result<(), StorageError> {
    if place.is_last && reaches_end {
        out.warnings.push(format!(
            "{}: torn record at offset {at} ({reason}); cut off {} bytes",
            seg.path.display(),
            file_len - at
        ));
        let file = OpenOptions::new()
            .write(true)
            .open(&seg.path)
            .map_err(|e| StorageError::io(&seg.path, e))?;
        file.set_len(at as u64)
            .and_then(|_| file.sync_all())
            .map_err(|e| StorageError::io(&seg.path, e))?;
        return Ok(());
    }
    if place.covered {
        out.warnings.push(format!(
            "{}: {reason} at offset {at}; every entry of this segment is in a snapshot, so it is skipped",
            seg.path.display()
        ));
        return Ok(());
    }
    Err(corrupt(seg, at, reason))
}
