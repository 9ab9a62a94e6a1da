//! The neutral model a ZooKeeper data directory decodes into: nodes by path with
//! their persisted Stat and ACL, the session table, and the last zxid. It holds
//! what ZooKeeper's `DataTree` holds, in plain types, for any target to convert.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use corral_jute::records::Acl;

use crate::records::StatPersisted;
use crate::txn::{CONTAINER_OWNER, TTL_MASK};

/// One znode. `stat.cversion` is ZooKeeper's stored count (clients see twice it
/// less the children); `children` are names, not paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkNode {
    pub data: Option<Bytes>,
    pub acl: Arc<[Acl]>,
    pub stat: StatPersisted,
    pub children: BTreeSet<String>,
}

/// A whole ZooKeeper database as of `last_zxid`.
#[derive(Debug, Clone, Default)]
pub struct ZkTree {
    /// By path; the root is "/", as clients name it (snapshots call it "").
    pub nodes: BTreeMap<String, ZkNode>,
    /// Session id to timeout in milliseconds.
    pub sessions: BTreeMap<i64, i32>,
    pub last_zxid: i64,
    acls: HashMap<Vec<Acl>, Arc<[Acl]>>,
    /// The ephemeral nodes by owning session, kept by `insert` and `remove`.
    owners: HashMap<i64, BTreeSet<String>>,
}

/// Whether an `ephemeralOwner` is a session (not 0, a container or a TTL).
pub fn is_session_owner(owner: i64) -> bool {
    owner != 0 && owner != CONTAINER_OWNER && owner & TTL_MASK != TTL_MASK
}

/// The parent's path and the child's name, as `DataTree` splits them at the last
/// slash; the root's children have the root "/" as parent.
pub fn split(path: &str) -> Option<(&str, &str)> {
    let at = path.rfind('/')?;
    let parent = if at == 0 { "/" } else { &path[..at] };
    Some((parent, &path[at + 1..]))
}

impl ZkTree {
    /// One shared copy of each distinct ACL list, as ZooKeeper's ACL cache keeps.
    pub fn intern(&mut self, acl: Vec<Acl>) -> Arc<[Acl]> {
        if let Some(shared) = self.acls.get(&acl) {
            return shared.clone();
        }
        let shared: Arc<[Acl]> = acl.clone().into();
        self.acls.insert(acl, shared.clone());
        shared
    }

    /// Distinct ACL lists in use.
    pub fn acl_count(&self) -> usize {
        let mut seen: BTreeSet<usize> = BTreeSet::new();
        for n in self.nodes.values() {
            seen.insert(Arc::as_ptr(&n.acl) as *const Acl as usize);
        }
        seen.len()
    }

    /// Bytes of node data.
    pub fn data_bytes(&self) -> u64 {
        self.nodes
            .values()
            .map(|n| n.data.as_ref().map_or(0, |d| d.len() as u64))
            .sum()
    }

    /// Puts a node at `path` (its parent's child list is the caller's).
    pub fn insert(&mut self, path: String, node: ZkNode) {
        let owner = node.stat.ephemeral_owner;
        if is_session_owner(owner) {
            self.owners.entry(owner).or_default().insert(path.clone());
        }
        if let Some(old) = self.nodes.insert(path.clone(), node) {
            self.forget_owner(&path, old.stat.ephemeral_owner);
            if is_session_owner(owner) {
                self.owners.entry(owner).or_default().insert(path);
            }
        }
    }

    /// Takes the node at `path` out.
    pub fn remove(&mut self, path: &str) -> Option<ZkNode> {
        let node = self.nodes.remove(path)?;
        self.forget_owner(path, node.stat.ephemeral_owner);
        Some(node)
    }

    fn forget_owner(&mut self, path: &str, owner: i64) {
        if let Some(set) = self.owners.get_mut(&owner) {
            set.remove(path);
            if set.is_empty() {
                self.owners.remove(&owner);
            }
        }
    }

    /// The ephemeral nodes of one session.
    pub fn ephemerals_of(&self, session: i64) -> Vec<String> {
        self.owners
            .get(&session)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The sessions that own ephemeral nodes.
    pub fn owners(&self) -> Vec<i64> {
        self.owners.keys().copied().collect()
    }
}
