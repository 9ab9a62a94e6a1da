//! ZooKeeper's snapshot, written (`FileSnap.serialize`): what `snapshot` reads,
//! byte for byte as ZooKeeper 3.9 writes it uncompressed. The file header, the
//! sessions, the ACL cache, the nodes in pre-order (the root as ""), the end marker
//! "/", a seal, the digest of the tree at its last zxid, a seal, the last processed
//! zxid (3.9's trailer; 3.8 stops reading before it), a seal. Each seal is the
//! Adler32 of every byte before it and the string "/".
//!
//! Also the rest of a data directory ZooKeeper starts from: `version-2/` with the
//! snapshot named after its zxid, and the epoch files a quorum member checks the
//! zxid against (`acceptedEpoch`, `currentEpoch`). No txn log: ZooKeeper starts
//! from a snapshot alone and writes its first log with its first transaction.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::BytesMut;
use corral_jute::records::Acl;
use corral_jute::Jute;

use crate::digest::{tree_digest, DIGEST_VERSION};
use crate::model::ZkTree;
use crate::records::FileHeader;
use crate::snapshot::SNAP_MAGIC;

/// A writer that keeps the Adler32 of everything through it, for the seals.
struct Sealing<W: Write> {
    out: W,
    sum: adler2::Adler32,
    scratch: BytesMut,
    written: u64,
}

impl<W: Write> Sealing<W> {
    fn put<T: Jute>(&mut self, value: &T) -> std::io::Result<()> {
        value.write(&mut self.scratch);
        if self.scratch.len() >= 1 << 16 {
            self.flush_scratch()?;
        }
        Ok(())
    }

    fn flush_scratch(&mut self) -> std::io::Result<()> {
        self.sum.write_slice(&self.scratch);
        self.out.write_all(&self.scratch)?;
        self.written += self.scratch.len() as u64;
        self.scratch.clear();
        Ok(())
    }

    /// `SnapStream.sealStream`.
    fn seal(&mut self) -> std::io::Result<()> {
        self.flush_scratch()?;
        let sum = i64::from(self.sum.checksum());
        self.put(&sum)?;
        self.put(&"/".to_string())?;
        self.flush_scratch()
    }
}

/// What a written snapshot holds, for the caller's summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub bytes: u64,
    pub digest: i64,
    pub acl_lists: usize,
}

/// How often encoding reports the nodes written so far.
const PROGRESS_EVERY: u64 = 8192;

/// Writes `tree` as a snapshot at its `last_zxid` to `out`; `progress` hears the
/// nodes written now and then.
pub fn write_snapshot<W: Write>(
    tree: &ZkTree,
    out: W,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<Written> {
    let mut w = Sealing {
        out,
        sum: adler2::Adler32::new(),
        scratch: BytesMut::with_capacity(1 << 17),
        written: 0,
    };
    w.put(&FileHeader {
        magic: SNAP_MAGIC,
        version: 2,
        dbid: -1,
    })?;
    w.put(&(tree.sessions.len() as i32))?;
    for (id, timeout) in &tree.sessions {
        w.put(id)?;
        w.put(timeout)?;
    }
    let ids = write_acl_cache(&mut w, tree)?;
    let mut count = 0u64;
    // A BTreeMap by path lists every parent before its children: a prefix sorts
    // before what extends it. ZooKeeper needs no more than that of the order.
    for (path, node) in &tree.nodes {
        let path = if path == "/" { "" } else { path.as_str() };
        w.put(&path.to_string())?;
        w.put(&node.data)?;
        let acl = ids.get(&acl_key(&node.acl)).copied().unwrap_or(-1);
        w.put(&acl)?;
        w.put(&node.stat)?;
        count += 1;
        if count.is_multiple_of(PROGRESS_EVERY) {
            progress(count);
        }
    }
    progress(count);
    w.put(&"/".to_string())?;
    w.seal()?;
    let digest = tree_digest(tree);
    w.put(&tree.last_zxid)?;
    w.put(&DIGEST_VERSION)?;
    w.put(&digest)?;
    w.seal()?;
    w.put(&tree.last_zxid)?;
    w.seal()?;
    w.out.flush()?;
    Ok(Written {
        bytes: w.written,
        digest,
        acl_lists: ids.len(),
    })
}

/// The identity of a shared ACL list: the model interns them, so equal lists are
/// one allocation.
fn acl_key(acl: &Arc<[Acl]>) -> usize {
    Arc::as_ptr(acl) as *const Acl as usize
}

/// `ReferenceCountedACLCache.serialize`: each distinct list under an id from 1,
/// in the order nodes first use them.
fn write_acl_cache<W: Write>(
    w: &mut Sealing<W>,
    tree: &ZkTree,
) -> std::io::Result<HashMap<usize, i64>> {
    let mut ids: HashMap<usize, i64> = HashMap::new();
    let mut lists: Vec<&Arc<[Acl]>> = Vec::new();
    for node in tree.nodes.values() {
        let next = ids.len() as i64 + 1;
        ids.entry(acl_key(&node.acl)).or_insert_with(|| {
            lists.push(&node.acl);
            next
        });
    }
    w.put(&(lists.len() as i32))?;
    for (i, list) in lists.into_iter().enumerate() {
        w.put(&(i as i64 + 1))?;
        w.put(&list.to_vec())?;
    }
    Ok(ids)
}

/// `Util.makeSnapshotName`.
pub fn snapshot_name(zxid: i64) -> String {
    format!("snapshot.{zxid:x}")
}

/// Writes `dir/version-2/` for `tree`: its snapshot and the epoch files. `dir` must
/// exist; the caller makes it fresh (and renames it into place). Returns the
/// snapshot's path and what it holds.
pub fn write_data_dir(
    dir: &Path,
    tree: &ZkTree,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<(PathBuf, Written)> {
    let v2 = dir.join("version-2");
    std::fs::create_dir_all(&v2)?;
    let snap = v2.join(snapshot_name(tree.last_zxid));
    let file = std::fs::File::create(&snap)?;
    let mut buffered = std::io::BufWriter::with_capacity(1 << 20, file);
    let written = write_snapshot(tree, &mut buffered, progress)?;
    let file = buffered.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    // QuorumPeer's epochs: the epoch of the last zxid, so a member that starts on
    // this directory finds them consistent (currentEpoch not behind the zxid, and
    // acceptedEpoch not behind currentEpoch). Written as Long.toString, no newline.
    let epoch = (tree.last_zxid >> 32).to_string();
    for name in ["acceptedEpoch", "currentEpoch"] {
        let path = v2.join(name);
        std::fs::write(&path, &epoch)?;
        std::fs::File::open(&path)?.sync_all()?;
    }
    std::fs::File::open(&v2)?.sync_all()?;
    Ok((snap, written))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ZkNode;
    use crate::records::StatPersisted;
    use bytes::Bytes;
    use corral_jute::records::Id;

    fn stat(zxid: i64, owner: i64) -> StatPersisted {
        StatPersisted {
            czxid: zxid,
            mzxid: zxid,
            ctime: 1000 + zxid,
            mtime: 1000 + zxid,
            version: 0,
            cversion: 1,
            aversion: 0,
            ephemeral_owner: owner,
            pzxid: zxid,
        }
    }

    fn acl(scheme: &str, id: &str) -> Vec<Acl> {
        vec![Acl {
            perms: 31,
            id: Id {
                scheme: scheme.into(),
                id: id.into(),
            },
        }]
    }

    fn tree() -> ZkTree {
        let mut t = ZkTree::default();
        let open = t.intern(acl("world", "anyone"));
        let ip = t.intern(acl("ip", "127.0.0.1"));
        let paths = [("/", 0, &open), ("/a", 0, &ip), ("/a-b", 0, &open)];
        for (i, (p, owner, acl)) in paths.into_iter().enumerate() {
            let node = ZkNode {
                data: Some(Bytes::from(format!("data of {p}"))),
                acl: (*acl).clone(),
                stat: stat(i as i64 + 1, owner),
                children: Default::default(),
            };
            t.insert(p.to_string(), node);
        }
        let eph = ZkNode {
            data: None,
            acl: open.clone(),
            stat: stat(9, 0x55),
            children: Default::default(),
        };
        t.insert("/a/e".into(), eph);
        for (parent, child) in [("/", "a"), ("/", "a-b"), ("/a", "e")] {
            if let Some(n) = t.nodes.get_mut(parent) {
                n.children.insert(child.into());
            }
        }
        t.sessions.insert(0x55, 30000);
        t.last_zxid = 0x1_0000_0009;
        t
    }

    /// What the writer writes, the reader reads back the same, seals, digest and
    /// trailer included.
    #[test]
    fn a_written_snapshot_reads_back_the_same() {
        let t = tree();
        let mut bytes = Vec::new();
        let written = write_snapshot(&t, &mut bytes, &mut |_| {}).map(|w| w.acl_lists);
        assert_eq!(written.ok(), Some(2));
        let back = crate::snapshot::decode(&bytes, &mut |_, _| {});
        let back = back.map_err(|e| e.reason);
        let back = back.as_ref().map(|s| (&s.tree.nodes, &s.tree.sessions));
        assert_eq!(back, Ok((&t.nodes, &t.sessions)));
        let snap = crate::snapshot::decode(&bytes, &mut |_, _| {}).map_err(|e| e.reason);
        let tail = snap.map(|s| (s.digest, s.last_processed_zxid));
        let want = (Some((t.last_zxid, 2, tree_digest(&t))), Some(t.last_zxid));
        assert_eq!(tail, Ok(want));
        // ZooKeeper's isValidSnapshot: the file ends with the string "/".
        assert_eq!(bytes[bytes.len() - 5..], [0, 0, 0, 1, b'/']);
    }
}
