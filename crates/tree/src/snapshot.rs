//! The tree's snapshot: every node with its Stat and ACL, and the session table,
//! LZ4-compressed as it is written. Children, ephemeral, container and TTL indexes
//! are rebuilt on load, so a snapshot cannot disagree with itself.
//!
//! A snapshot is taken without stopping writes. `begin_snapshot` notes the zxid and
//! copies the (small) session table; `snapshot_step` then encodes the nodes in path
//! order a chunk at a time, each chunk under the tree's read lock only. Meanwhile the
//! nodes' journal (`nodes::Journal`) keeps, for each node the walk has not reached
//! yet, its state before its first change: the walk writes that pre-image instead of
//! the live node, skips nodes created since, and `finish_snapshot` adds the ones
//! deleted since. The result is the tree exactly as it was at `begin_snapshot`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};
use std::ops::Bound;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use corral_jute::records::Acl;
use corral_jute::{Jute, JuteError, Reader};

use crate::node::Node;
use crate::nodes::Nodes;
use crate::path;
use crate::tree::{DataTree, Session};

const MAGIC: &[u8; 8] = b"CRLTREE3";

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a Corral tree snapshot (bad magic)")]
    BadMagic,
    #[error("snapshot does not decompress: {0}")]
    Compression(String),
    #[error("snapshot record malformed: {0}")]
    Malformed(#[from] JuteError),
    #[error("snapshot names node {0} whose parent is missing")]
    Orphan(String),
}

/// A snapshot being written.
pub struct SnapshotWriter {
    out: lz4_flex::frame::FrameEncoder<Vec<u8>>,
    /// Each distinct (interned) ACL list once, by address; nodes carry the index.
    acls: HashMap<usize, (u32, Arc<[Acl]>)>,
    scratch: BytesMut,
    from_journal: HashSet<String>,
    done: bool,
    failed: Option<std::io::Error>,
}

impl SnapshotWriter {
    fn put(&mut self, path: &str, n: &Node) {
        self.scratch.clear();
        let w = &mut self.scratch;
        let next = self.acls.len() as u32;
        let acl_index = self
            .acls
            .entry(Arc::as_ptr(&n.acl) as *const Acl as usize)
            .or_insert_with(|| (next, n.acl.clone()))
            .0;
        path.to_string().write(w);
        n.data.write(w);
        (acl_index as i32).write(w);
        for v in [n.czxid, n.mzxid, n.ctime, n.mtime] {
            v.write(w);
        }
        for v in [n.version, n.cversion, n.aversion] {
            v.write(w);
        }
        n.ephemeral_owner.write(w);
        n.pzxid.write(w);
        self.flush_scratch();
    }

    fn flush_scratch(&mut self) {
        if self.failed.is_none() {
            if let Err(e) = self.out.write_all(&self.scratch) {
                self.failed = Some(e);
            }
        }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }
}

impl DataTree {
    /// Starts a snapshot of the tree as it is now.
    pub fn begin_snapshot(&mut self) -> SnapshotWriter {
        self.nodes.start_journal();
        let mut w = SnapshotWriter {
            out: lz4_flex::frame::FrameEncoder::new(Vec::new()),
            acls: HashMap::new(),
            scratch: BytesMut::with_capacity(4096),
            from_journal: HashSet::new(),
            done: false,
            failed: None,
        };
        w.scratch.extend_from_slice(MAGIC);
        self.last_zxid().write(&mut w.scratch);
        self.extended_types.write(&mut w.scratch);
        (self.sessions.len() as i32).write(&mut w.scratch);
        for (id, s) in &self.sessions {
            id.write(&mut w.scratch);
            s.timeout.write(&mut w.scratch);
            s.passwd.write(&mut w.scratch);
        }
        w.flush_scratch();
        w
    }

    /// Writes up to `max` more nodes. Call under the read lock until `is_done`.
    pub fn snapshot_step(&self, w: &mut SnapshotWriter, max: usize) {
        // The walk ends on a step that writes fewer than `max`: at 0 it never would.
        assert!(max > 0, "a snapshot step of 0 nodes never ends the walk");
        let Some(journal) = self.nodes.journal() else {
            w.done = true;
            return;
        };
        let start = journal.walked_to();
        let range = match &start {
            Some(c) => (Bound::Excluded(c.as_str()), Bound::Unbounded),
            None => (Bound::Unbounded, Bound::Unbounded),
        };
        let mut last = None;
        let mut count = 0;
        for (p, node) in self.nodes.range::<str, _>(range).take(max) {
            match journal.preimage(p) {
                Some(Some(before)) => {
                    w.put(p, before);
                    w.from_journal.insert(p.clone());
                }
                Some(None) => {
                    w.from_journal.insert(p.clone());
                }
                None => w.put(p, node),
            }
            last = Some(p);
            count += 1;
        }
        if count < max {
            w.done = true;
        }
        if let Some(p) = last {
            journal.walk_past(p);
        }
    }

    /// Adds the nodes deleted while the walk ran and ends the snapshot.
    pub fn finish_snapshot(&mut self, mut w: SnapshotWriter) -> std::io::Result<Bytes> {
        if let Some(journal) = self.nodes.take_journal() {
            for (p, before) in journal.into_preimages() {
                if let Some(before) = before {
                    if !w.from_journal.contains(&p) && !self.nodes.contains_key(&p) {
                        w.put(&p, &before);
                    }
                }
            }
        }
        w.scratch.clear();
        String::new().write(&mut w.scratch);
        let mut table: Vec<_> = w.acls.values().collect();
        table.sort_by_key(|(i, _)| *i);
        (table.len() as i32).write(&mut w.scratch);
        for (_, acl) in table {
            acl.to_vec().write(&mut w.scratch);
        }
        w.flush_scratch();
        if let Some(e) = w.failed {
            return Err(e);
        }
        w.out
            .finish()
            .map(Bytes::from)
            .map_err(std::io::Error::other)
    }

    /// The whole snapshot at once, for tests and small trees.
    pub fn encode_snapshot(&mut self) -> Bytes {
        let mut w = self.begin_snapshot();
        while !w.is_done() {
            self.snapshot_step(&mut w, usize::MAX);
        }
        self.finish_snapshot(w).unwrap_or_default()
    }

    pub fn decode_snapshot(compressed: &[u8]) -> Result<DataTree, SnapshotError> {
        let mut buf = Vec::with_capacity(compressed.len() * 3);
        lz4_flex::frame::FrameDecoder::new(compressed)
            .read_to_end(&mut buf)
            .map_err(|e| SnapshotError::Compression(e.to_string()))?;
        DataTree::decode_uncompressed(&buf)
    }

    /// A snapshot's body once lz4 is off it (the fuzz target's entry: lz4 is not ours).
    pub fn decode_uncompressed(buf: &[u8]) -> Result<DataTree, SnapshotError> {
        let mut r = Reader::new(buf);
        let mut tree = read_header(&mut r)?;
        let placeholder = tree.acls.intern(Vec::new());
        let nodes = read_nodes(&mut r, &placeholder)?;
        let table: Vec<Vec<Acl>> = Vec::read(&mut r)?;
        let table: Vec<_> = table.into_iter().map(|a| tree.acls.intern(a)).collect();
        let mut nodes: Vec<(String, Node)> = nodes
            .into_iter()
            .map(|(p, mut node, acl_index)| {
                node.acl = table
                    .get(acl_index as usize)
                    .cloned()
                    .ok_or(JuteError::Unknown {
                        what: "ACL index",
                        value: acl_index,
                    })?;
                Ok((p, node))
            })
            .collect::<Result<_, JuteError>>()?;
        // Written in path order but for nodes deleted during the walk: nearly sorted.
        nodes.sort_by(|a, b| a.0.cmp(&b.0));
        link_children(&mut nodes)?;
        for (p, node) in &nodes {
            tree.data_size += (p.len() + node.data_len()) as u64;
        }
        let owners: Vec<(String, i64)> = nodes
            .iter()
            .filter(|(_, n)| n.ephemeral_owner != 0)
            .map(|(p, n)| (p.clone(), n.ephemeral_owner))
            .collect();
        tree.nodes = Nodes::from(nodes.into_iter().collect::<BTreeMap<_, _>>());
        for (p, owner) in owners {
            tree.track(&p, owner, true);
        }
        Ok(tree)
    }
}

/// The magic, the last zxid, the tree's settings and the session table: an empty
/// tree with its sessions.
fn read_header(r: &mut Reader<'_>) -> Result<DataTree, SnapshotError> {
    if r.take(MAGIC.len())? != MAGIC {
        return Err(SnapshotError::BadMagic);
    }
    let last_zxid = i64::read(r)?;
    let mut tree = DataTree::new(bool::read(r)?);
    // A snapshot of a tree that had applied nothing says 0; the next zxid may
    // then be 0 too (openraft's first entry has index 0).
    tree.last_zxid = (last_zxid != 0).then_some(last_zxid);
    // Not a reservation: each session read must find its bytes first.
    let sessions = i32::read(r)?;
    for _ in 0..sessions {
        let id = i64::read(r)?;
        let session = Session {
            timeout: i32::read(r)?,
            passwd: Bytes::read(r)?,
            ephemerals: Default::default(),
        };
        tree.sessions.insert(id, session);
    }
    Ok(tree)
}

/// The nodes, up to the empty path that ends them, each with the index of its ACL
/// in the table that follows (`placeholder` holds its place until then).
fn read_nodes(
    r: &mut Reader<'_>,
    placeholder: &Arc<[Acl]>,
) -> Result<Vec<(String, Node, i32)>, SnapshotError> {
    let mut nodes = Vec::new();
    loop {
        let p = String::read(r)?;
        if p.is_empty() {
            return Ok(nodes);
        }
        let data = Option::<Bytes>::read(r)?;
        let acl_index = i32::read(r)?;
        let node = Node {
            data,
            acl: placeholder.clone(),
            czxid: i64::read(r)?,
            mzxid: i64::read(r)?,
            ctime: i64::read(r)?,
            mtime: i64::read(r)?,
            version: i32::read(r)?,
            cversion: i32::read(r)?,
            aversion: i32::read(r)?,
            ephemeral_owner: i64::read(r)?,
            pzxid: i64::read(r)?,
            children: Default::default(),
        };
        nodes.push((p, node, acl_index));
    }
}

/// Fills each node's children from the paths of the (sorted) nodes; a node whose
/// parent is missing makes the snapshot unusable.
pub(crate) fn link_children(nodes: &mut [(String, Node)]) -> Result<(), SnapshotError> {
    let links = {
        let at: HashMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, (p, _))| (p.as_str(), i))
            .collect();
        let mut links = Vec::with_capacity(nodes.len());
        for (i, (p, _)) in nodes.iter().enumerate() {
            let Some(parent) = path::parent(p) else {
                continue;
            };
            match at.get(parent) {
                Some(&pi) => links.push((pi, i)),
                None => return Err(SnapshotError::Orphan(p.clone())),
            }
        }
        links
    };
    for (pi, ci) in links {
        let name = path::name(&nodes[ci].0).to_string();
        nodes[pi].1.children.insert(name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::txn::{CreateOp, Txn, TxnOp};

    fn txn(op: TxnOp) -> Txn {
        Txn {
            session_id: 9,
            time: 5,
            identity: vec![],
            op,
        }
    }

    fn create(path: &str, flags: i32) -> TxnOp {
        TxnOp::Create(CreateOp {
            opcode: if flags == 4 { 19 } else { 1 },
            path: path.into(),
            data: None,
            acl: crate::acl::open(),
            flags,
            ttl: -1,
        })
    }

    fn sample() -> DataTree {
        let mut t = DataTree::new(true);
        t.apply(
            1,
            &txn(TxnOp::CreateSession {
                timeout: 4000,
                passwd: Bytes::from_static(b"pw"),
            }),
        );
        for (i, (p, flags)) in [("/a", 0), ("/a/b", 1), ("/c", 4)].into_iter().enumerate() {
            t.apply(2 + i as i64, &txn(create(p, flags)));
        }
        t
    }

    #[test]
    fn round_trip_keeps_everything() {
        let mut t = sample();
        let bytes = t.encode_snapshot();
        let back = DataTree::decode_snapshot(&bytes).map_err(|e| e.to_string());
        let back = back
            .as_ref()
            .map(|b| (b.nodes.clone(), b.sessions.clone(), b.containers.clone()));
        assert_eq!(
            back,
            Ok((t.nodes.clone(), t.sessions.clone(), t.containers.clone()))
        );
        assert!(DataTree::decode_snapshot(&bytes[..bytes.len() / 2]).is_err());

        assert!(DataTree::decode_snapshot(b"garbage!garbage!").is_err());
    }

    #[test]
    fn changes_during_the_walk_do_not_leak_in() {
        let mut t = sample();
        for i in 0..50 {
            t.apply(10 + i, &txn(create(&format!("/n{i:02}"), 0)));
        }
        let expected = t.clone();
        let mut w = t.begin_snapshot();
        t.snapshot_step(&mut w, 20);
        // Behind the cursor, ahead of it, deleted, created, changed.
        let set = |p: &str| TxnOp::SetData {
            path: p.into(),
            data: Some(Bytes::from_static(b"new")),
            version: -1,
        };
        t.apply(100, &txn(set("/a")));
        t.apply(101, &txn(set("/n40")));
        t.apply(
            102,
            &txn(TxnOp::Delete {
                path: "/n45".into(),
                version: -1,
            }),
        );
        t.apply(103, &txn(create("/n99", 0)));
        t.apply(104, &txn(create("/n00/x", 0)));
        while !w.is_done() {
            t.snapshot_step(&mut w, 7);
        }
        let bytes = t.finish_snapshot(w).map_err(|e| e.to_string());
        let back = bytes.and_then(|b| DataTree::decode_snapshot(&b).map_err(|e| e.to_string()));
        assert_eq!(back.map(|b| b.nodes), Ok(expected.nodes));
        assert!(t.nodes.journal().is_none());
    }
}
