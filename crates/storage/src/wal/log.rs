//! `Wal`: the log as a whole. It opens the segments (reading them back through
//! `recovery`), appends entries and the commit point to the newest, truncates the
//! tail and detaches whole segments once a snapshot covers them.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::active::Active;
use super::entry::{self, ENTRY_OVERHEAD};
use super::recovery::{read_segment, Place, Recovered};
use super::segment::{create_segment, list_segments, remove_files, Segment, SEGMENT_BYTES};
use crate::dir::sync_dir;
use crate::error::StorageError;
use crate::flusher::{Done, Flusher};

pub struct Wal {
    dir: PathBuf,
    segments: Vec<Segment>,
    active: Option<Active>,
    flusher: Flusher,
    segment_bytes: u64,
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
            let place = Place {
                is_last: i + 1 == files.len(),
                covered: files
                    .get(i + 1)
                    .is_some_and(|(next, _)| next.saturating_sub(1) <= covered_upto),
            };
            let mut seg = Segment::empty(*first, path.clone());
            read_segment(&mut seg, place, &mut recovered)?;
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
        let (path, file) = create_segment(&self.dir, first)?;
        let seg = Segment::empty(first, path);
        self.active = Some(Active {
            file: Arc::new(file),
            len: seg.end,
            filled: seg.end,
        });
        self.segments.push(seg);
        Ok(())
    }

    /// Writes `buf` at the end of the newest segment's records. Returns the offset it
    /// was written at.
    fn write_records(&mut self, buf: &[u8]) -> Result<u64, StorageError> {
        let (Some(active), Some(seg)) = (self.active.as_mut(), self.segments.last_mut()) else {
            return Err(StorageError::io(
                &self.dir,
                std::io::Error::other("no active segment"),
            ));
        };
        let at = active.write_records(buf, self.segment_bytes, &seg.path)?;
        seg.end = active.len;
        Ok(at)
    }

    /// Writes entries; they are durable once `sync` says so.
    ///
    /// # Panics
    /// If the indexes are not consecutive, or do not come after the last entry on
    /// disk (truncate first to replace entries). A segment is named by its first
    /// index and truncation cuts at the first index past the point, so out-of-order
    /// entries would be lost or replayed in the wrong place; that is a bug above.
    pub fn append(&mut self, entries: &[(u64, Vec<u8>)]) -> Result<(), StorageError> {
        let Some((first, _)) = entries.first() else {
            return Ok(());
        };
        self.assert_follows(entries);
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
        let size = entries.iter().map(|(_, e)| e.len() + ENTRY_OVERHEAD).sum();
        let mut buf = Vec::with_capacity(size);
        let mut offsets = Vec::with_capacity(entries.len());
        for (index, payload) in entries {
            offsets.push((*index, buf.len() as u64));
            entry::encode_entry(*index, payload, &mut buf);
        }
        let at = self.write_records(&buf)?;
        if let Some(seg) = self.segments.last_mut() {
            seg.offsets
                .extend(offsets.into_iter().map(|(i, off)| (i, at + off)));
        }
        Ok(())
    }

    fn assert_follows(&self, entries: &[(u64, Vec<u8>)]) {
        let last = self.segments.last().and_then(Segment::last);
        let mut expected = None;
        for (index, _) in entries {
            if let Some(e) = expected {
                assert!(
                    *index == e,
                    "log append of index {index} where {e} comes next: entries in one append are consecutive"
                );
            } else if let Some(last) = last {
                assert!(
                    *index > last,
                    "log append of index {index} after index {last}: truncate before replacing entries"
                );
            }
            expected = Some(index + 1);
        }
    }

    /// Notes the commit point. It rides along with the next fsync; losing it only
    /// means recovery replays a little less before consensus catches up.
    pub fn append_committed(&mut self, payload: &[u8]) -> Result<(), StorageError> {
        if self.active.is_none() {
            return Ok(());
        }
        let mut buf = Vec::new();
        entry::encode_committed(payload, &mut buf);
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

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;
    use std::os::unix::fs::FileExt;

    use super::*;
    use crate::record;
    use crate::wal::active::PREFILL_BYTES;
    use crate::wal::inspect::records_end;
    use crate::wal::segment::MAGIC;

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
    #[should_panic(expected = "log append of index 5 after index 6")]
    fn an_append_behind_the_last_entry_is_refused() {
        let dir = tmp("behind");
        let (mut wal, _) = Wal::open(&dir, 0, Flusher::start(None)).unwrap();
        wal.append(&entries(1..=6)).unwrap();
        let _ = wal.append(&entries(5..=5));
    }

    #[test]
    #[should_panic(expected = "log append of index 4 where 3 comes next")]
    fn a_gap_inside_one_append_is_refused() {
        let dir = tmp("gap");
        let (mut wal, _) = Wal::open(&dir, 0, Flusher::start(None)).unwrap();
        let _ = wal.append(&[(2, vec![1]), (4, vec![2])]);
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
