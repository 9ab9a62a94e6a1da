//! The write-ahead log: numbered entries in segment files `log-<first index>.wal`,
//! each starting with a magic header, then framed records.
//!
//! Appends go to the newest segment and return once written; `sync` reports when
//! they are durable (see `flusher`). Truncation cuts the file where the first
//! dropped entry starts. Purging removes whole segments.
//!
//! The newest segment is zero-filled 8 MiB ahead of the records. An fdatasync
//! of an append that grows the file must also commit the new size through the file
//! system's journal; one that overwrites blocks already written needs no metadata,
//! and took half the time here (docs/benchmarks.md). Zeros after the last record
//! read as the end of the log.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::flusher::{Done, Flusher};
use crate::record::{self, Scan};
use crate::{sync_dir, StorageError};

const MAGIC: &[u8; 8] = b"CRLWAL01";
const ENTRY: u8 = 1;
const COMMITTED: u8 = 2;
/// A new segment starts once the current one passes this size.
pub const SEGMENT_BYTES: u64 = 64 << 20;
/// How far ahead of the records the newest segment is zero-filled.
const PREFILL_BYTES: u64 = 8 << 20;
static ZEROS: [u8; 64 << 10] = [0; 64 << 10];

struct Segment {
    first: u64,
    path: PathBuf,
    /// Index and byte offset of every entry record, for truncation.
    offsets: Vec<(u64, u64)>,
    /// Where the records end; zeros (or nothing) follow.
    end: u64,
}

impl Segment {
    fn last(&self) -> Option<u64> {
        self.offsets.last().map(|(i, _)| *i)
    }
}

/// The newest segment, open for writing.
struct Active {
    file: Arc<File>,
    /// Where the next record goes.
    len: u64,
    /// The file's length: zeros from `len` up to here.
    filled: u64,
}

pub struct Wal {
    dir: PathBuf,
    segments: Vec<Segment>,
    active: Option<Active>,
    flusher: Flusher,
    segment_bytes: u64,
}

/// What was on disk.
#[derive(Debug, Default)]
pub struct Recovered {
    pub entries: BTreeMap<u64, Vec<u8>>,
    pub committed: Option<Vec<u8>>,
    /// What recovery repaired or skipped, for the operator's log.
    pub warnings: Vec<String>,
}

fn segment_name(first: u64) -> String {
    format!("log-{first:020}.wal")
}

fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StorageError> {
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

impl Wal {
    /// Opens (creating if needed) the log in `dir` and reads it back.
    ///
    /// A damaged record at the very end of the newest segment is what a crash in the
    /// middle of a write leaves: it is cut off with a warning. Damage anywhere else is
    /// an error naming the file and offset, unless every entry of that segment is at
    /// or below `covered_upto` (already in a snapshot), in which case it is skipped.
    pub fn open(
        dir: &Path,
        covered_upto: u64,
        flusher: Flusher,
    ) -> Result<(Wal, Recovered), StorageError> {
        std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
        let files = list_segments(dir)?;
        let mut recovered = Recovered::default();
        let mut segments = Vec::new();
        for (i, (first, path)) in files.iter().enumerate() {
            let is_last = i + 1 == files.len();
            let covered = files
                .get(i + 1)
                .is_some_and(|(next, _)| next.saturating_sub(1) <= covered_upto);
            let mut seg = Segment {
                first: *first,
                path: path.clone(),
                offsets: Vec::new(),
                end: MAGIC.len() as u64,
            };
            read_segment(&mut seg, is_last, covered, &mut recovered)?;
            segments.push(seg);
        }
        let mut wal = Wal {
            dir: dir.to_path_buf(),
            segments,
            active: None,
            flusher,
            segment_bytes: SEGMENT_BYTES,
        };
        wal.reopen_active()?;
        Ok((wal, recovered))
    }

    /// Uses smaller segments (tests of purge and corruption).
    pub fn set_segment_bytes(&mut self, bytes: u64) {
        self.segment_bytes = bytes.max(1);
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn new_segment(&mut self, first: u64) -> Result<(), StorageError> {
        if let Some(Active { file, .. }) = &self.active {
            // The old segment is sealed: make it durable before moving on.
            file.sync_data()
                .map_err(|e| StorageError::io(&self.dir, e))?;
        }
        let path = self.dir.join(segment_name(first));
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)
            .map_err(|e| StorageError::io(&path, e))?;
        file.write_all(MAGIC)
            .map_err(|e| StorageError::io(&path, e))?;
        file.sync_all().map_err(|e| StorageError::io(&path, e))?;
        sync_dir(&self.dir)?;
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|e| StorageError::io(&path, e))?;
        let start = MAGIC.len() as u64;
        self.active = Some(Active {
            file: Arc::new(file),
            len: start,
            filled: start,
        });
        self.segments.push(Segment {
            first,
            path,
            offsets: Vec::new(),
            end: start,
        });
        Ok(())
    }

    /// Writes `buf` at the end of the records, zero-filling ahead first if it would
    /// reach past what is filled. Returns the offset it was written at.
    fn write_records(&mut self, buf: &[u8]) -> Result<u64, StorageError> {
        let segment_bytes = self.segment_bytes;
        let path = self
            .segments
            .last()
            .map(|s| s.path.clone())
            .unwrap_or_default();
        let Some(active) = self.active.as_mut() else {
            return Err(StorageError::io(
                &self.dir,
                std::io::Error::other("no active segment"),
            ));
        };
        let at = active.len;
        let end = at + buf.len() as u64;
        debug_assert!(active.filled >= at, "zero fill behind the records");
        if end > active.filled {
            // Past the segment's size it rolls over anyway: fill no further.
            let target = (end + PREFILL_BYTES).min(segment_bytes.max(end));
            // Never below `at`: what lies before it are records.
            let from = active.filled.max(at);
            match zero_fill(&active.file, from, target) {
                Ok(()) => active.filled = target,
                Err(e) => {
                    // Only speed is lost: a nearly full disk keeps its last
                    // megabytes for records, and appends grow the file as before.
                    tracing::debug!("cannot zero-fill {} ahead: {e}", path.display());
                    let _ = active.file.set_len(from);
                }
            }
        }
        active
            .file
            .write_all_at(buf, at)
            .map_err(|e| StorageError::io(&path, e))?;
        active.len = end;
        active.filled = active.filled.max(end);
        if let Some(seg) = self.segments.last_mut() {
            seg.end = end;
        }
        Ok(at)
    }

    /// Writes entries; they are durable once `sync` says so.
    pub fn append(&mut self, entries: &[(u64, Vec<u8>)]) -> Result<(), StorageError> {
        let Some((first, _)) = entries.first() else {
            return Ok(());
        };
        if self.flusher.is_poisoned() {
            return Err(StorageError::io(
                &self.dir,
                std::io::Error::other("log poisoned by a failed fsync"),
            ));
        }
        let full = self
            .active
            .as_ref()
            .is_none_or(|a| a.len >= self.segment_bytes);
        if full {
            self.new_segment(*first)?;
        }
        let mut buf = Vec::with_capacity(entries.iter().map(|(_, e)| e.len() + 17).sum());
        let mut offsets = Vec::with_capacity(entries.len());
        for (index, payload) in entries {
            offsets.push((*index, buf.len() as u64));
            record::encode_parts(&[&[ENTRY], &index.to_be_bytes(), payload], &mut buf);
        }
        let at = self.write_records(&buf)?;
        if let Some(seg) = self.segments.last_mut() {
            seg.offsets
                .extend(offsets.into_iter().map(|(i, off)| (i, at + off)));
        }
        Ok(())
    }

    /// Notes the commit point. It rides along with the next fsync; losing it only
    /// means recovery replays a little less before consensus catches up.
    pub fn append_committed(&mut self, payload: &[u8]) -> Result<(), StorageError> {
        if self.active.is_none() {
            return Ok(());
        }
        let mut body = Vec::with_capacity(payload.len() + 1);
        body.push(COMMITTED);
        body.extend_from_slice(payload);
        let mut buf = Vec::new();
        record::encode(&body, &mut buf);
        self.write_records(&buf).map(|_| ())
    }

    /// Calls `done` once everything appended so far is on disk.
    pub fn sync(&self, done: Done) {
        match &self.active {
            Some(Active { file, .. }) => self.flusher.sync(file.clone(), done),
            None => done(Ok(())),
        }
    }

    /// Drops every entry after `last` (all of them for `None`).
    pub fn truncate_after(&mut self, last: Option<u64>) -> Result<(), StorageError> {
        let from = last.map_or(0, |l| l + 1);
        while let Some(seg) = self.segments.last() {
            if seg.first >= from && self.segments.len() > 1 {
                let path = seg.path.clone();
                std::fs::remove_file(&path).map_err(|e| StorageError::io(&path, e))?;
                self.segments.pop();
                continue;
            }
            break;
        }
        let Some(seg) = self.segments.last_mut() else {
            return Ok(());
        };
        let Some(pos) = seg.offsets.iter().position(|(i, _)| *i >= from) else {
            self.reopen_active()?;
            return Ok(());
        };
        let cut = seg.offsets[pos].1;
        seg.offsets.truncate(pos);
        seg.end = cut;
        let path = seg.path.clone();
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|e| StorageError::io(&path, e))?;
        file.set_len(cut)
            .and_then(|_| file.sync_all())
            .map_err(|e| StorageError::io(&path, e))?;
        if seg.first >= from {
            // The whole (only) segment went: restart it at the next append.
            std::fs::remove_file(&path).map_err(|e| StorageError::io(&path, e))?;
            self.segments.pop();
            self.active = None;
            return sync_dir(&self.dir);
        }
        self.reopen_active()
    }

    fn reopen_active(&mut self) -> Result<(), StorageError> {
        let Some(seg) = self.segments.last() else {
            self.active = None;
            return Ok(());
        };
        let file = OpenOptions::new()
            .write(true)
            .open(&seg.path)
            .map_err(|e| StorageError::io(&seg.path, e))?;
        let filled = file
            .metadata()
            .map_err(|e| StorageError::io(&seg.path, e))?
            .len();
        self.active = Some(Active {
            file: Arc::new(file),
            len: seg.end,
            filled: filled.max(seg.end),
        });
        sync_dir(&self.dir)
    }

    /// Forgets segments whose entries are all at or below `upto` (the newest segment
    /// always stays) and returns their files for the caller to delete, outside any
    /// lock that appends wait on.
    pub fn detach_upto(&mut self, upto: u64) -> Vec<PathBuf> {
        let mut doomed = Vec::new();
        while self.segments.len() > 1 {
            let next_first = self.segments[1].first;
            if next_first.saturating_sub(1) > upto {
                break;
            }
            doomed.push(self.segments.remove(0).path);
        }
        doomed
    }

    /// Deletes segments whose entries are all at or below `upto`; the newest
    /// segment always stays. Returns how many files went.
    pub fn purge_upto(&mut self, upto: u64) -> Result<usize, StorageError> {
        let doomed = self.detach_upto(upto);
        remove_files(&self.dir, &doomed)?;
        Ok(doomed.len())
    }

    /// Segment files with their first index, oldest first.
    pub fn segment_files(&self) -> Vec<(u64, PathBuf)> {
        self.segments
            .iter()
            .map(|s| (s.first, s.path.clone()))
            .collect()
    }

    /// The highest entry index on disk.
    pub fn last_index(&self) -> Option<u64> {
        self.segments.iter().rev().find_map(|s| s.last())
    }

    /// Bytes used by all segments.
    pub fn size(&self) -> u64 {
        self.segments
            .iter()
            .filter_map(|s| std::fs::metadata(&s.path).ok())
            .map(|m| m.len())
            .sum()
    }
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

/// Reads every segment in `dir` without changing anything: for inspection tools.
/// Damage is reported in `warnings` (and reading that segment stops there) rather
/// than repaired.
pub fn scan(dir: &Path) -> Result<Recovered, StorageError> {
    let mut out = Recovered::default();
    for (first, path) in list_segments(dir)? {
        let buf = std::fs::read(&path).map_err(|e| StorageError::io(&path, e))?;
        if buf.len() < MAGIC.len() || &buf[..MAGIC.len()] != MAGIC {
            out.warnings.push(format!(
                "{}: not a Corral log segment (bad magic)",
                path.display()
            ));
            continue;
        }
        let mut offset = MAGIC.len();
        loop {
            match record::scan(&buf, offset) {
                Scan::End => break,
                Scan::Record { payload, next } => {
                    match payload.split_first() {
                        Some((&ENTRY, rest)) if rest.len() >= 8 => {
                            let mut idx = [0u8; 8];
                            idx.copy_from_slice(&rest[..8]);
                            out.entries
                                .insert(u64::from_be_bytes(idx), rest[8..].to_vec());
                        }
                        Some((&COMMITTED, rest)) => out.committed = Some(rest.to_vec()),
                        _ => out.warnings.push(format!(
                            "{}: unknown record at offset {offset}",
                            path.display()
                        )),
                    }
                    offset = next;
                }
                Scan::Bad {
                    offset: at, reason, ..
                } => {
                    out.warnings.push(format!(
                        "{} (first index {first}): {reason} at offset {at}",
                        path.display()
                    ));
                    break;
                }
            }
        }
    }
    Ok(out)
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

/// Where the intact records of a segment file end (the zero fill after them, if
/// any, starts there): for tools and tests that damage or inspect the tail.
pub fn records_end(path: &Path) -> Result<u64, StorageError> {
    let buf = std::fs::read(path).map_err(|e| StorageError::io(path, e))?;
    let mut offset = MAGIC.len().min(buf.len());
    while let Scan::Record { next, .. } = record::scan(&buf, offset) {
        offset = next;
    }
    Ok(offset as u64)
}

fn read_segment(
    seg: &mut Segment,
    is_last: bool,
    covered: bool,
    out: &mut Recovered,
) -> Result<(), StorageError> {
    let buf = std::fs::read(&seg.path).map_err(|e| StorageError::io(&seg.path, e))?;
    let corrupt = |offset: usize, reason: &str| StorageError::Corrupt {
        file: seg.path.clone(),
        offset: offset as u64,
        reason: reason.to_string(),
    };
    if buf.len() < MAGIC.len() || &buf[..MAGIC.len()] != MAGIC {
        if is_last && buf.len() < MAGIC.len() {
            out.warnings.push(format!(
                "{}: segment header torn at offset 0; rewritten empty",
                seg.path.display()
            ));
            std::fs::write(&seg.path, MAGIC).map_err(|e| StorageError::io(&seg.path, e))?;
            return Ok(());
        }
        return Err(corrupt(0, "not a Corral log segment (bad magic)"));
    }
    let mut offset = MAGIC.len();
    loop {
        seg.end = offset as u64;
        match record::scan(&buf, offset) {
            Scan::End => return Ok(()),
            Scan::Record { payload, next } => {
                match payload.split_first() {
                    Some((&ENTRY, rest)) if rest.len() >= 8 => {
                        let mut idx = [0u8; 8];
                        idx.copy_from_slice(&rest[..8]);
                        let index = u64::from_be_bytes(idx);
                        // A later entry with the same or lower index replaces the
                        // tail from there on, as a truncation would have.
                        if out
                            .entries
                            .last_key_value()
                            .is_some_and(|(last, _)| *last >= index)
                        {
                            out.entries.split_off(&index);
                            seg.offsets.retain(|(i, _)| *i < index);
                        }
                        out.entries.insert(index, rest[8..].to_vec());
                        seg.offsets.push((index, offset as u64));
                    }
                    Some((&COMMITTED, rest)) => out.committed = Some(rest.to_vec()),
                    _ => return Err(corrupt(offset, "unknown record type")),
                }
                offset = next;
            }
            Scan::Bad {
                offset: at,
                reaches_end,
                reason,
            } => {
                if is_last && reaches_end {
                    out.warnings.push(format!(
                        "{}: torn record at offset {at} ({reason}); cut off {} bytes",
                        seg.path.display(),
                        buf.len() - at
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
                if covered {
                    out.warnings.push(format!(
                        "{}: {reason} at offset {at}; every entry of this segment is in a snapshot, so it is skipped",
                        seg.path.display()
                    ));
                    return Ok(());
                }
                return Err(corrupt(at, reason));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("corral-wal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn synced(wal: &Wal) {
        let (tx, rx) = std::sync::mpsc::channel();
        wal.sync(Box::new(move |r| {
            let _ = tx.send(r.is_ok());
        }));
        assert_eq!(rx.recv().ok(), Some(true));
    }

    fn entries(range: std::ops::RangeInclusive<u64>) -> Vec<(u64, Vec<u8>)> {
        range
            .map(|i| (i, format!("entry {i}").into_bytes()))
            .collect()
    }

    #[test]
    fn append_reopen_truncate_purge() -> Result<(), StorageError> {
        let dir = tmp("basic");
        let flusher = Flusher::start(None);
        let (mut wal, rec) = Wal::open(&dir, 0, flusher.clone())?;
        assert!(rec.entries.is_empty());
        wal.set_segment_bytes(200);
        for chunk in entries(1..=30).chunks(3) {
            wal.append(chunk)?;
        }
        wal.append_committed(b"c25")?;
        synced(&wal);
        assert!(wal.segment_files().len() > 3);
        wal.truncate_after(Some(20))?;
        wal.append(&entries(21..=22))?;
        synced(&wal);
        drop(wal);

        let (mut wal, rec) = Wal::open(&dir, 0, flusher.clone())?;
        assert_eq!(
            rec.entries.keys().copied().collect::<Vec<_>>(),
            (1..=22).collect::<Vec<_>>()
        );
        assert_eq!(
            rec.entries.get(&21).map(|v| v.as_slice()),
            Some(&b"entry 21"[..])
        );
        let before = wal.segment_files().len();
        assert!(wal.purge_upto(10)? > 0);
        assert!(wal.segment_files().len() < before);
        assert!(
            wal.segment_files()[0].0 <= 11,
            "purge removed entries it should keep"
        );
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn newest_segment_is_zero_filled_ahead_and_reopens_at_its_records() -> Result<(), StorageError>
    {
        let dir = tmp("prefill");
        let flusher = Flusher::start(None);
        let (mut wal, _) = Wal::open(&dir, 0, flusher.clone())?;
        wal.append(&entries(1..=5))?;
        synced(&wal);
        let path = wal.segment_files()[0].1.clone();
        let end = records_end(&path)?;
        let len = std::fs::metadata(&path)
            .map_err(|e| StorageError::io(&path, e))?
            .len();
        assert!(
            len >= end + PREFILL_BYTES,
            "file {len} bytes, records end at {end}"
        );
        drop(wal);
        for round in 0..2u64 {
            let (mut wal, rec) = Wal::open(&dir, 0, flusher.clone())?;
            assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
            let last = 5 + round * 5;
            assert_eq!(rec.entries.keys().last().copied(), Some(last));
            wal.append(&entries(last + 1..=last + 5))?;
            synced(&wal);
        }
        let (_, rec) = Wal::open(&dir, 0, flusher)?;
        assert_eq!(
            rec.entries.keys().copied().collect::<Vec<_>>(),
            (1..=15).collect::<Vec<_>>()
        );
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn torn_tail_is_cut_and_mid_file_damage_refused() -> Result<(), StorageError> {
        let dir = tmp("torn");
        let flusher = Flusher::start(None);
        let (mut wal, _) = Wal::open(&dir, 0, flusher.clone())?;
        wal.set_segment_bytes(150);
        for chunk in entries(1..=12).chunks(2) {
            wal.append(chunk)?;
        }
        synced(&wal);
        let files = wal.segment_files();
        drop(wal);

        // A crash mid-write: the last record's final bytes never reached the disk,
        // so the zero fill shows through where they belong.
        let last = &files.last().expect("segments").1;
        let end = records_end(last)?;
        let f = OpenOptions::new()
            .write(true)
            .open(last)
            .map_err(|e| StorageError::io(last, e))?;
        f.write_all_at(&[0, 0, 0], end - 3)
            .map_err(|e| StorageError::io(last, e))?;
        let (mut wal, rec) = Wal::open(&dir, 0, flusher.clone())?;
        assert_eq!(rec.warnings.len(), 1, "{:?}", rec.warnings);
        assert!(rec.warnings[0].contains("torn record at offset"));
        assert_eq!(rec.entries.keys().last().copied(), Some(11));
        // Appending goes on where the cut was, and reads back.
        wal.append(&entries(12..=12))?;
        synced(&wal);
        drop(wal);
        let (_, rec) = Wal::open(&dir, 0, flusher.clone())?;
        assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
        assert_eq!(rec.entries.keys().last().copied(), Some(12));
        // A file cut short (no zero fill, as before the fill existed) is torn too.
        let end = records_end(last)?;
        f.set_len(end - 3).map_err(|e| StorageError::io(last, e))?;
        let (_, rec) = Wal::open(&dir, 0, flusher.clone())?;
        assert_eq!(rec.warnings.len(), 1, "{:?}", rec.warnings);
        assert_eq!(rec.entries.keys().last().copied(), Some(11));

        // A flipped byte inside a sealed segment.
        let first = &files[0].1;
        let mut bytes = std::fs::read(first).map_err(|e| StorageError::io(first, e))?;
        bytes[MAGIC.len() + record::HEADER + 2] ^= 0x01;
        std::fs::write(first, &bytes).map_err(|e| StorageError::io(first, e))?;
        match Wal::open(&dir, 0, flusher.clone()) {
            Err(StorageError::Corrupt { file, offset, .. }) => {
                assert_eq!(&file, first);
                assert_eq!(offset, MAGIC.len() as u64);
            }
            other => panic!(
                "damage was not refused: {:?}",
                other.map(|(_, r)| r.warnings)
            ),
        }
        // Covered by a snapshot, the same damage is skipped with a warning.
        let (_, rec) = Wal::open(&dir, files[1].0, flusher)?;
        assert!(rec.warnings.iter().any(|w| w.contains("skipped")));
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
