//! Applying a logged transaction to the model as ZooKeeper replays its log at
//! start (`FileTxnSnapLog.processTransaction`, `DataTree.processTxn`). Snapshots are
//! fuzzy, so a transaction may already be in the tree; ZooKeeper's answer then
//! stands: NodeExists and NoNode are ignored, a create still sets the ACL of the
//! node it finds, a plain create that finds its node still raises the parent's
//! cversion and pzxid when its own are higher, and a delete raises the parent's
//! pzxid even when the child is gone.

use crate::model::{split, ZkNode, ZkTree};
use crate::records::{StatPersisted, TxnHeader};
use crate::txn::{op, Create, Owner, ZkTxn, CONTAINER_OWNER, TTL_MASK};

/// Why an operation did nothing; replay ignores it as ZooKeeper does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failed {
    NoNode,
    NodeExists,
}

/// Applies one logged transaction.
pub fn apply(tree: &mut ZkTree, header: &TxnHeader, txn: &ZkTxn) {
    match txn {
        ZkTxn::CreateSession { timeout } => {
            tree.sessions.insert(header.client_id, *timeout);
        }
        ZkTxn::CloseSession { paths } => {
            tree.sessions.remove(&header.client_id);
            kill_session(tree, header.client_id, header.zxid, paths.as_deref());
        }
        _ => apply_op(tree, header, header.txn_type, txn),
    }
    tree.last_zxid = tree.last_zxid.max(header.zxid);
}

/// One operation, alone or inside a multi (which passes each one's own type).
fn apply_op(tree: &mut ZkTree, header: &TxnHeader, txn_type: i32, txn: &ZkTxn) {
    let (zxid, time) = (header.zxid, header.time);
    let result = match txn {
        ZkTxn::Create(c) => create(tree, c, header.client_id, zxid, time),
        ZkTxn::Delete { path } => delete(tree, path, zxid),
        ZkTxn::SetData {
            path,
            data,
            version,
        } => match tree.nodes.get_mut(path.as_str()) {
            Some(n) => {
                n.data = data.clone();
                n.stat.mtime = time;
                n.stat.mzxid = zxid;
                n.stat.version = *version;
                Ok(())
            }
            None => Err(Failed::NoNode),
        },
        ZkTxn::SetAcl { path, acl, version } => {
            let acl = tree.intern(acl.clone());
            match tree.nodes.get_mut(path.as_str()) {
                Some(n) => {
                    n.stat.aversion = *version;
                    n.acl = acl;
                    Ok(())
                }
                None => Err(Failed::NoNode),
            }
        }
        ZkTxn::Multi(ops) => {
            for sub in ops {
                let sub_type = sub_type(sub);
                apply_op(tree, header, sub_type, sub);
            }
            Ok(())
        }
        ZkTxn::Check { .. }
        | ZkTxn::Error { .. }
        | ZkTxn::CreateSession { .. }
        | ZkTxn::CloseSession { .. } => Ok(()),
    };
    if let (Err(Failed::NodeExists), ZkTxn::Create(c)) = (result, txn) {
        if txn_type == op::CREATE {
            if let Some((parent, _)) = split(&c.path) {
                raise_parent(tree, parent, c.parent_cversion, zxid);
            }
        }
    }
}

/// The type a multi's operation was logged with (create and create2 share a body).
fn sub_type(txn: &ZkTxn) -> i32 {
    match txn {
        ZkTxn::Create(c) => c.op,
        ZkTxn::Delete { .. } => op::DELETE,
        ZkTxn::SetData { .. } => op::SET_DATA,
        ZkTxn::Check { .. } => op::CHECK,
        _ => op::ERROR,
    }
}

/// `DataTree.createNode`.
fn create(tree: &mut ZkTree, c: &Create, session: i64, zxid: i64, time: i64) -> Result<(), Failed> {
    let (parent_path, name) = split(&c.path).ok_or(Failed::NoNode)?;
    if !tree.nodes.contains_key(parent_path) {
        return Err(Failed::NoNode);
    }
    let acl = tree.intern(c.acl.clone());
    if let Some(existing) = tree.nodes.get_mut(c.path.as_str()) {
        existing.acl = acl;
        return Err(Failed::NodeExists);
    }
    let Some(parent) = tree.nodes.get_mut(parent_path) else {
        return Err(Failed::NoNode);
    };
    let cversion = match c.parent_cversion {
        -1 => parent.stat.cversion.wrapping_add(1),
        v => v,
    };
    if cversion > parent.stat.cversion {
        parent.stat.cversion = cversion;
        parent.stat.pzxid = zxid;
    }
    parent.children.insert(name.to_string());
    let owner = match c.owner {
        Owner::Persistent => 0,
        Owner::Ephemeral => session,
        Owner::Container => CONTAINER_OWNER,
        Owner::Ttl(ttl) => TTL_MASK | ttl,
    };
    let stat = StatPersisted {
        czxid: zxid,
        mzxid: zxid,
        ctime: time,
        mtime: time,
        version: 0,
        cversion: 0,
        aversion: 0,
        ephemeral_owner: owner,
        pzxid: zxid,
    };
    let node = ZkNode {
        data: c.data.clone(),
        acl,
        stat,
        children: Default::default(),
    };
    tree.insert(c.path.clone(), node);
    Ok(())
}

/// `DataTree.deleteNode`: the parent's pzxid moves even if the child is gone.
fn delete(tree: &mut ZkTree, path: &str, zxid: i64) -> Result<(), Failed> {
    let (parent_path, name) = split(path).ok_or(Failed::NoNode)?;
    let parent = tree.nodes.get_mut(parent_path).ok_or(Failed::NoNode)?;
    parent.children.remove(name);
    if zxid > parent.stat.pzxid {
        parent.stat.pzxid = zxid;
    }
    tree.remove(path).map(drop).ok_or(Failed::NoNode)
}

/// `DataTree.setCversionPzxid`.
fn raise_parent(tree: &mut ZkTree, path: &str, cversion: i32, zxid: i64) {
    if let Some(n) = tree.nodes.get_mut(path) {
        let cversion = match cversion {
            -1 => n.stat.cversion.wrapping_add(1),
            v => v,
        };
        if cversion > n.stat.cversion {
            n.stat.cversion = cversion;
            n.stat.pzxid = zxid;
        }
    }
}

/// `DataTree.killSession`: the paths the closeSession names, then any other
/// ephemeral of the session.
fn kill_session(tree: &mut ZkTree, session: i64, zxid: i64, listed: Option<&[String]>) {
    for p in listed.unwrap_or_default() {
        let _ = delete(tree, p, zxid);
    }
    let owned = tree.ephemerals_of(session);
    for p in owned {
        let _ = delete(tree, &p, zxid);
    }
}

/// What ZooKeeper does once the log is replayed (`ZooKeeperServer.loadData`):
/// ephemerals whose session is not in the table are deleted, at the last zxid.
pub fn drop_dead_sessions(tree: &mut ZkTree) {
    let dead: Vec<i64> = tree
        .owners()
        .into_iter()
        .filter(|s| !tree.sessions.contains_key(s))
        .collect();
    let zxid = tree.last_zxid;
    for s in dead {
        kill_session(tree, s, zxid, None);
    }
}

const QUOTA_ROOT: &str = "/zookeeper/quota";
const LIMITS: &str = "zookeeper_limits";
const STATS: &str = "zookeeper_stats";

/// What ZooKeeper does when it loads a tree (`DataTree.setupQuota`): each quota's
/// stats node gets the count and bytes of the subtree it covers, recounted. A
/// quota is a leaf named zookeeper_limits under /zookeeper/quota.
pub fn refresh_quota_stats(tree: &mut ZkTree) {
    let quotas: Vec<String> = tree
        .nodes
        .range::<str, _>((
            std::ops::Bound::Included(QUOTA_ROOT),
            std::ops::Bound::Unbounded,
        ))
        .take_while(|(p, _)| p.starts_with(QUOTA_ROOT))
        .filter(|(p, n)| n.children.is_empty() && p.ends_with(&format!("/{LIMITS}")))
        .filter_map(|(p, _)| {
            let end = p.find(&format!("/{LIMITS}"))?;
            Some(p[QUOTA_ROOT.len()..end].to_string())
        })
        .collect();
    for real in quotas {
        let (count, bytes) = subtree_size(tree, if real.is_empty() { "/" } else { &real });
        let stats = format!("{QUOTA_ROOT}{real}/{STATS}");
        if let Some(n) = tree.nodes.get_mut(&stats) {
            n.data = Some(format!("count={count},bytes={bytes}").into_bytes().into());
        }
    }
}

/// The nodes in the subtree at `path` (itself included) and their data bytes.
fn subtree_size(tree: &ZkTree, path: &str) -> (i64, i64) {
    let (mut count, mut bytes) = (0i64, 0i64);
    let mut stack = vec![path.to_string()];
    while let Some(p) = stack.pop() {
        let Some(n) = tree.nodes.get(&p) else {
            continue;
        };
        count += 1;
        bytes += n.data.as_ref().map_or(0, |d| d.len() as i64);
        for c in &n.children {
            stack.push(if p == "/" {
                format!("/{c}")
            } else {
                format!("{p}/{c}")
            });
        }
    }
    (count, bytes)
}
