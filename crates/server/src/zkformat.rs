//! Corral's tree in ZooKeeper's model (`corral-zkdata`), for what writes ZooKeeper's
//! snapshot format: `corral export` and the AdminServer's `snapshot` command. Field
//! for field: Corral keeps ZooKeeper's persisted cversion and its owner markers for
//! containers and TTL nodes, so nothing is translated, only copied.

use corral_tree::DataTree;
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
