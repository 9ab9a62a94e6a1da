//! The tree's snapshot encoding: every node with its Stat and ACL, and the session
//! table. Children, ephemeral, container and TTL indexes are rebuilt on load, so a
//! snapshot cannot disagree with itself.

use bytes::{Bytes, BytesMut};
use corral_jute::records::Acl;
use corral_jute::{Jute, JuteError, Reader};

use crate::path;
use crate::tree::{DataTree, Node, Session};

const MAGIC: &[u8; 8] = b"CRLTREE1";

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a Corral tree snapshot (bad magic)")]
    BadMagic,
    #[error("snapshot record malformed: {0}")]
    Malformed(#[from] JuteError),
    #[error("snapshot names node {0} whose parent is missing")]
    Orphan(String),
}

impl DataTree {
    /// Encodes the whole tree. Nodes go out sorted by path so that equal trees give
    /// equal bytes and parents come before their children.
    pub fn encode_snapshot(&self) -> Bytes {
        let mut w = BytesMut::with_capacity(64 + self.data_size as usize * 2);
        w.extend_from_slice(MAGIC);
        self.last_zxid.write(&mut w);
        self.extended_types.write(&mut w);
        let mut paths: Vec<&String> = self.nodes.keys().collect();
        paths.sort();
        (paths.len() as i32).write(&mut w);
        for p in paths {
            let n = &self.nodes[p];
            p.write(&mut w);
            n.data.write(&mut w);
            n.acl.to_vec().write(&mut w);
            for v in [n.czxid, n.mzxid, n.ctime, n.mtime] {
                v.write(&mut w);
            }
            for v in [n.version, n.cversion, n.aversion] {
                v.write(&mut w);
            }
            n.ephemeral_owner.write(&mut w);
            n.pzxid.write(&mut w);
        }
        (self.sessions.len() as i32).write(&mut w);
        for (id, s) in &self.sessions {
            id.write(&mut w);
            s.timeout.write(&mut w);
            s.passwd.write(&mut w);
        }
        w.freeze()
    }

    pub fn decode_snapshot(buf: &[u8]) -> Result<DataTree, SnapshotError> {
        let mut r = Reader::new(buf);
        if r.take(MAGIC.len())? != MAGIC {
            return Err(SnapshotError::BadMagic);
        }
        let last_zxid = i64::read(&mut r)?;
        let mut tree = DataTree::new(bool::read(&mut r)?);
        tree.nodes.clear();
        tree.last_zxid = last_zxid;
        let count = i32::read(&mut r)?;
        let mut nodes = Vec::with_capacity(count.clamp(0, 1 << 20) as usize);
        for _ in 0..count {
            let p = String::read(&mut r)?;
            let node = Node {
                data: Option::<Bytes>::read(&mut r)?,
                acl: tree.acls.intern(Vec::<Acl>::read(&mut r)?),
                czxid: i64::read(&mut r)?,
                mzxid: i64::read(&mut r)?,
                ctime: i64::read(&mut r)?,
                mtime: i64::read(&mut r)?,
                version: i32::read(&mut r)?,
                cversion: i32::read(&mut r)?,
                aversion: i32::read(&mut r)?,
                ephemeral_owner: i64::read(&mut r)?,
                pzxid: i64::read(&mut r)?,
                children: Default::default(),
            };
            nodes.push((p, node));
        }
        let sessions = i32::read(&mut r)?;
        for _ in 0..sessions {
            let id = i64::read(&mut r)?;
            let session = Session {
                timeout: i32::read(&mut r)?,
                passwd: Bytes::read(&mut r)?,
                ephemerals: Default::default(),
            };
            tree.sessions.insert(id, session);
        }
        for (p, node) in nodes {
            if let Some(parent) = path::parent(&p) {
                let parent = tree
                    .nodes
                    .get_mut(parent)
                    .ok_or_else(|| SnapshotError::Orphan(p.clone()))?;
                parent.children.insert(path::name(&p).to_string());
            }
            tree.data_size += (p.len() + node.data_len()) as u64;
            tree.track_owner(&p, node.ephemeral_owner);
            tree.nodes.insert(p, node);
        }
        Ok(tree)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::txn::{CreateOp, Txn, TxnOp};

    #[test]
    fn round_trip_keeps_everything() {
        let mut t = DataTree::new(true);
        let txn = |op| Txn {
            session_id: 9,
            time: 5,
            identity: vec![],
            op,
        };
        t.apply(
            1,
            &txn(TxnOp::CreateSession {
                timeout: 4000,
                passwd: Bytes::from_static(b"pw"),
            }),
        );
        for (i, (p, flags)) in [("/a", 0), ("/a/b", 1), ("/c", 4)].into_iter().enumerate() {
            let op = CreateOp {
                opcode: if flags == 4 { 19 } else { 1 },
                path: p.into(),
                data: None,
                acl: crate::acl::open(),
                flags,
                ttl: -1,
            };
            t.apply(2 + i as i64, &txn(TxnOp::Create(op)));
        }
        let bytes = t.encode_snapshot();
        let back = DataTree::decode_snapshot(&bytes).map_err(|e| e.to_string());
        let back = back
            .as_ref()
            .map(|b| (b.nodes.clone(), b.sessions.clone(), b.containers.clone()));
        assert_eq!(
            back,
            Ok((t.nodes.clone(), t.sessions.clone(), t.containers.clone()))
        );
        assert!(DataTree::decode_snapshot(&bytes[..bytes.len() - 3]).is_err());
        assert!(matches!(
            DataTree::decode_snapshot(b"garbage!garbage!"),
            Err(SnapshotError::BadMagic)
        ));
    }
}
