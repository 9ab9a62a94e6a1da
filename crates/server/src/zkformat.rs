//! Corral's tree in ZooKeeper's model (`corral-zkdata`) and back: `to_zookeeper` for
//! what writes ZooKeeper's snapshot format (`corral export`, the AdminServer's
//! `snapshot` command), `from_zookeeper` for what reads it (`corral import`, the
//! `restore` command). Field for field: Corral keeps ZooKeeper's persisted cversion
//! and its owner markers for containers and TTL nodes, so nothing is translated,
//! only copied.

use bytes::Bytes;
use corral_tree::snapshot::SnapshotError;
use corral_tree::{DataTree, Node};
use corral_zkdata::model::is_session_owner;
use corral_zkdata::password::session_password;
use corral_zkdata::records::StatPersisted;
use corral_zkdata::{ZkNode, ZkTree};

/// Nodes by kind, for a summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct Kinds {
    pub ephemeral: usize,
    pub containers: usize,
    pub ttl: usize,
}

/// `tree` as ZooKeeper would hold it at `last_zxid`; `progress` hears the nodes
/// converted now and then.
pub fn to_zookeeper(
    tree: &DataTree,
    last_zxid: i64,
    progress: &mut dyn FnMut(u64),
) -> (ZkTree, Kinds) {
    let mut paths = tree.paths();
    paths.sort_unstable();
    let mut zk = ZkTree::default();
    let mut kinds = Kinds::default();
    for (i, path) in paths.into_iter().enumerate() {
        let Some(n) = tree.node(&path) else { continue };
        count(&mut kinds, n.ephemeral_owner, n.client_owner());
        let node = ZkNode {
            data: n.data.clone(),
            acl: zk.intern(n.acl.to_vec()),
            stat: StatPersisted {
                czxid: n.czxid,
                mzxid: n.mzxid,
                ctime: n.ctime,
                mtime: n.mtime,
                version: n.version,
                cversion: n.cversion,
                aversion: n.aversion,
                ephemeral_owner: n.ephemeral_owner,
                pzxid: n.pzxid,
            },
            children: n.children.clone(),
        };
        zk.insert(path, node);
        if i % 4096 == 0 {
            progress(i as u64);
        }
    }
    zk.sessions = tree.sessions().map(|(id, s)| (id, s.timeout)).collect();
    zk.last_zxid = last_zxid;
    (zk, kinds)
}

/// ZooKeeper's tree as Corral's, each session with the password ZooKeeper gave it
/// (so its clients can resume it); `progress` hears the nodes converted now and
/// then. TTL nodes turn extended types on, as they need them.
pub fn from_zookeeper(
    zk: ZkTree,
    extended_types: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<(DataTree, Kinds), SnapshotError> {
    let mut kinds = Kinds::default();
    let last_zxid = zk.last_zxid;
    let sessions = zk
        .sessions
        .iter()
        .map(|(&id, &timeout)| (id, timeout, Bytes::copy_from_slice(&session_password(id))))
        .collect();
    let mut nodes = Vec::with_capacity(zk.nodes.len());
    for (i, (path, n)) in zk.nodes.into_iter().enumerate() {
        let owner = n.stat.ephemeral_owner;
        count(
            &mut kinds,
            owner,
            if is_session_owner(owner) { owner } else { 0 },
        );
        nodes.push((path, node(n)));
        if i % 4096 == 0 {
            progress(i as u64);
        }
    }
    let extended = extended_types || kinds.ttl > 0;
    let tree = DataTree::assemble(extended, last_zxid, sessions, nodes)?;
    Ok((tree, kinds))
}

fn node(n: ZkNode) -> Node {
    let s = n.stat;
    Node {
        data: n.data,
        acl: n.acl,
        czxid: s.czxid,
        mzxid: s.mzxid,
        ctime: s.ctime,
        mtime: s.mtime,
        version: s.version,
        cversion: s.cversion,
        aversion: s.aversion,
        ephemeral_owner: s.ephemeral_owner,
        pzxid: s.pzxid,
        children: Default::default(),
    }
}

fn count(k: &mut Kinds, owner: i64, client_owner: i64) {
    if owner == 0 {
        return;
    }
    if client_owner != 0 {
        k.ephemeral += 1;
    } else if owner == corral_tree::txn::CONTAINER_OWNER {
        k.containers += 1;
    } else {
        k.ttl += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use corral_jute::records::{Acl, Id};
    use corral_tree::{DataTree, Node};

    use super::*;

    fn node(czxid: i64, owner: i64, acl: &Arc<[Acl]>) -> Node {
        Node {
            data: Some(Bytes::from(format!("made at {czxid}"))),
            acl: acl.clone(),
            czxid,
            mzxid: czxid + 1,
            ctime: 1000 + czxid,
            mtime: 2000 + czxid,
            version: 1,
            cversion: 3,
            aversion: 2,
            ephemeral_owner: owner,
            pzxid: czxid + 2,
            children: Default::default(),
        }
    }

    /// Every field reaches ZooKeeper's model unchanged, owner markers included, and
    /// the snapshot written from it reads back as the same nodes and sessions.
    #[test]
    fn the_tree_reaches_zookeeper_s_model_field_for_field() {
        let acl: Arc<[Acl]> = vec![Acl {
            perms: 1,
            id: Id {
                scheme: "ip".into(),
                id: "10.0.0.0/8".into(),
            },
        }]
        .into();
        let ttl_owner = corral_tree::txn::TTL_MASK | 5000;
        let nodes = vec![
            ("/".to_string(), node(0, 0, &acl)),
            (
                "/box".to_string(),
                node(4, corral_tree::txn::CONTAINER_OWNER, &acl),
            ),
            ("/eph".to_string(), node(5, 0x77, &acl)),
            ("/ttl".to_string(), node(6, ttl_owner, &acl)),
        ];
        let sessions = vec![(0x77, 9000, Bytes::from_static(b"pw"))];
        let tree = DataTree::assemble(true, 9, sessions, nodes).map_err(|e| e.to_string());
        let Ok(tree) = tree else { panic!("{tree:?}") };
        let (zk, kinds) = to_zookeeper(&tree, 9, &mut |_| {});
        assert_eq!((kinds.ephemeral, kinds.containers, kinds.ttl), (1, 1, 1));
        let ttl = zk
            .nodes
            .get("/ttl")
            .map(|n| (n.stat.ephemeral_owner, n.stat.cversion));
        assert_eq!(ttl, Some((ttl_owner, 3)));
        let root = zk.nodes.get("/").map(|n| n.children.len());
        assert_eq!(root, Some(3));
        let mut bytes = Vec::new();
        let written = corral_zkdata::write::write_snapshot(&zk, &mut bytes, &mut |_| {});
        assert!(written.is_ok());
        let back = corral_zkdata::snapshot::decode(&bytes, &mut |_, _| {}).map_err(|e| e.reason);
        let back = back.map(|s| (s.tree.nodes, s.tree.sessions));
        assert_eq!(back, Ok((zk.nodes.clone(), zk.sessions.clone())));
    }
}
