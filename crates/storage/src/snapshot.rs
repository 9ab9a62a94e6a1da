//! Snapshot files: `snapshot-<last index>.snap` in the snapshot directory.
//!
//! Layout: magic, format version, last index, the consensus metadata and the tree
//! (both opaque bytes; the tree arrives compressed), then a CRC32C of everything
//! before it and a closing magic. Written to a temporary name, fsynced, renamed, directory fsynced: a crash
//! leaves the old set of snapshots or the new one, never a half file under a real name.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::dir::sync_dir;
use crate::error::StorageError;

const MAGIC: &[u8; 8] = b"CRLSNAP1";
const END: &[u8; 8] = b"CRLSNEND";
const VERSION: u32 = 1;
/// Bytes written between syncs of a snapshot file.
const SYNC_EVERY: usize = 1 << 20;

/// A snapshot read back from disk.
#[derive(Debug)]
pub struct SnapshotFile {
    pub index: u64,
    pub meta: Vec<u8>,
    pub tree: Vec<u8>,
}

fn name(index: u64) -> String {
    format!("snapshot-{index:020}.snap")
}

/// Writes a snapshot and returns its path and size on disk.
pub fn write(
    dir: &Path,
    index: u64,
    meta: &[u8],
    tree: &[u8],
) -> Result<(PathBuf, u64), StorageError> {
    let Ok(meta_len) = u32::try_from(meta.len()) else {
        // The consensus metadata is a few hundred bytes; 4 GiB of it is a bug.
        panic!(
            "snapshot metadata of {} bytes does not fit its u32 length",
            meta.len()
        );
    };
    std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
    let mut buf = Vec::with_capacity(tree.len() / 2 + meta.len() + 64);
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&VERSION.to_be_bytes());
    buf.extend_from_slice(&index.to_be_bytes());
    buf.extend_from_slice(&meta_len.to_be_bytes());
    buf.extend_from_slice(meta);
    buf.extend_from_slice(&(tree.len() as u64).to_be_bytes());
    buf.extend_from_slice(tree);
    let crc = crc32c::crc32c(&buf);
    buf.extend_from_slice(&crc.to_be_bytes());
    buf.extend_from_slice(END);

    let path = dir.join(name(index));
    let tmp = dir.join(format!("{}.tmp", name(index)));
    let mut f = std::fs::File::create(&tmp).map_err(|e| StorageError::io(&tmp, e))?;
    // Synced a piece at a time: one large flush at the end would hold the disk for
    // long enough to stall the transaction log's fsyncs behind it.
    for piece in buf.chunks(SYNC_EVERY) {
        f.write_all(piece)
            .and_then(|_| f.sync_data())
            .map_err(|e| StorageError::io(&tmp, e))?;
    }
    f.sync_all().map_err(|e| StorageError::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| StorageError::io(&path, e))?;
    sync_dir(dir)?;
    Ok((path, buf.len() as u64))
}

/// Reads and verifies a snapshot file.
pub fn read(path: &Path) -> Result<SnapshotFile, StorageError> {
    let buf = std::fs::read(path).map_err(|e| StorageError::io(path, e))?;
    parse(path, &buf)
}

/// Verifies the bytes of the snapshot file at `path` and splits them up.
pub fn parse(path: &Path, buf: &[u8]) -> Result<SnapshotFile, StorageError> {
    let corrupt = |offset: usize, reason: &str| StorageError::Corrupt {
        file: path.to_path_buf(),
        offset: offset as u64,
        reason: reason.to_string(),
    };
    let fixed = MAGIC.len() + 4 + 8 + 4;
    if buf.len() < fixed + 8 + 4 + END.len() || &buf[..MAGIC.len()] != MAGIC {
        return Err(corrupt(0, "not a Corral snapshot (bad magic or too short)"));
    }
    let body_end = buf.len() - END.len() - 4;
    if &buf[buf.len() - END.len()..] != END {
        return Err(corrupt(
            buf.len() - END.len(),
            "snapshot is truncated (no end marker)",
        ));
    }
    let stored = u32::from_be_bytes([
        buf[body_end],
        buf[body_end + 1],
        buf[body_end + 2],
        buf[body_end + 3],
    ]);
    if crc32c::crc32c(&buf[..body_end]) != stored {
        return Err(corrupt(body_end, "snapshot checksum mismatch"));
    }
    let be32 = |at: usize| u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
    let be64 = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&buf[at..at + 8]);
        u64::from_be_bytes(b)
    };
    if be32(MAGIC.len()) != VERSION {
        return Err(corrupt(MAGIC.len(), "unknown snapshot format version"));
    }
    let index = be64(MAGIC.len() + 4);
    let meta_len = be32(MAGIC.len() + 12) as usize;
    let meta_end = fixed + meta_len;
    if meta_end + 8 > body_end {
        return Err(corrupt(fixed, "metadata runs past the end"));
    }
    let meta = buf[fixed..meta_end].to_vec();
    // Compared with what the file holds, never added to: a length from the file
    // may be anything.
    let tree_start = meta_end + 8;
    if be64(meta_end) != (body_end - tree_start) as u64 {
        return Err(corrupt(meta_end, "tree length does not match the file"));
    }
    let tree = buf[tree_start..body_end].to_vec();
    Ok(SnapshotFile { index, meta, tree })
}

/// Snapshot files in `dir`, newest first.
pub fn list(dir: &Path) -> Vec<(u64, PathBuf)> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(u64, PathBuf)> = read
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let index = name
                .strip_prefix("snapshot-")?
                .strip_suffix(".snap")?
                .parse()
                .ok()?;
            Some((index, e.path()))
        })
        .collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.0));
    out
}

/// Keeps the newest `keep` snapshots and deletes the rest. Returns the index of the
/// oldest snapshot kept. Temporaries are left alone: one may be a snapshot another
/// thread is writing right now (a follower installing the leader's while it takes its
/// own), and deleting it fails that write.
pub fn retain(dir: &Path, keep: usize) -> Result<Option<u64>, StorageError> {
    let all = list(dir);
    for (_, path) in all.iter().skip(keep.max(1)) {
        std::fs::remove_file(path).map_err(|e| StorageError::io(path, e))?;
    }
    Ok(all.iter().take(keep.max(1)).next_back().map(|(i, _)| *i))
}

/// Deletes the temporaries a crash left behind. Only at start, before anything
/// writes a snapshot.
pub fn remove_temporaries(dir: &Path) {
    if let Ok(read) = std::fs::read_dir(dir) {
        for e in read.filter_map(|e| e.ok()) {
            if e.file_name().to_string_lossy().ends_with(".snap.tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Campaign seed 67: a follower's autopurge (after its own snapshot) deleted the
    /// temporary of the leader's snapshot it was installing; the rename failed and
    /// openraft stopped for good, so the server never caught up again.
    #[test]
    fn campaign_seed_67_purge_leaves_a_snapshot_being_written_alone() {
        let dir = std::env::temp_dir().join(format!("corral-snap-seed67-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for i in [10, 20, 30, 40] {
            write(&dir, i, b"meta", b"tree").unwrap();
        }
        let in_progress = dir.join(format!("{}.tmp", name(50)));
        std::fs::write(&in_progress, b"half a snapshot").unwrap();
        assert_eq!(retain(&dir, 3).unwrap(), Some(20));
        assert!(
            in_progress.exists(),
            "retain deleted a snapshot being written"
        );
        remove_temporaries(&dir);
        assert!(
            !in_progress.exists(),
            "a crash's temporary stays after start"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn write_read_damage_retain() -> Result<(), StorageError> {
        let dir = std::env::temp_dir().join(format!("corral-snap-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let tree: Vec<u8> = (0..10_000u32)
            .flat_map(|i| (i % 251).to_be_bytes())
            .collect();
        for index in [10, 20, 30, 40] {
            write(&dir, index, b"meta", &tree)?;
        }
        let newest = &list(&dir)[0];
        assert_eq!(newest.0, 40);
        let back = read(&newest.1)?;
        assert_eq!(
            (back.index, back.meta.as_slice(), back.tree == tree),
            (40, &b"meta"[..], true)
        );

        let mut bytes = std::fs::read(&newest.1).map_err(|e| StorageError::io(&newest.1, e))?;
        bytes[40] ^= 0xff;
        std::fs::write(&newest.1, &bytes).map_err(|e| StorageError::io(&newest.1, e))?;
        assert!(matches!(read(&newest.1), Err(StorageError::Corrupt { .. })));
        std::fs::write(&newest.1, &bytes[..bytes.len() - 1])
            .map_err(|e| StorageError::io(&newest.1, e))?;
        assert!(matches!(read(&newest.1), Err(StorageError::Corrupt { .. })));

        assert_eq!(retain(&dir, 3)?, Some(20));
        assert_eq!(
            list(&dir).iter().map(|s| s.0).collect::<Vec<_>>(),
            vec![40, 30, 20]
        );
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    /// A tree length near 2^64 in a file whose checksum matches (made by hand, or
    /// by a bug) overflowed the bounds check: a panic in debug builds, a wrapped
    /// sum in release. It is damage like any other.
    #[test]
    fn a_huge_tree_length_is_damage_not_a_panic() {
        let dir = std::env::temp_dir().join(format!("corral-snap-huge-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut buf = Vec::new();
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&VERSION.to_be_bytes());
        buf.extend_from_slice(&7u64.to_be_bytes());
        buf.extend_from_slice(&4u32.to_be_bytes());
        buf.extend_from_slice(b"meta");
        buf.extend_from_slice(&u64::MAX.to_be_bytes());
        buf.extend_from_slice(b"tree");
        let crc = crc32c::crc32c(&buf);
        buf.extend_from_slice(&crc.to_be_bytes());
        buf.extend_from_slice(END);
        let path = dir.join(name(7));
        std::fs::write(&path, &buf).unwrap();
        let read = std::panic::catch_unwind(|| read(&path).map(|f| f.tree.len()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            matches!(read, Ok(Err(StorageError::Corrupt { .. }))),
            "read gave {read:?}"
        );
    }
}
