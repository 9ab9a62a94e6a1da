//! The data tree: nodes by path, sessions and their ephemerals, and the reads.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use corral_jute::records::{Acl, Stat};

use crate::acl;
use crate::path;

/// One znode. `num_children` and `data_length` are derived when a Stat is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub data: Option<Bytes>,
    /// Shared: nodes with the same ACL point at one list, as in ZooKeeper's ACL cache.
    pub acl: Arc<[Acl]>,
    pub czxid: i64,
    pub mzxid: i64,
    pub ctime: i64,
    pub mtime: i64,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    pub ephemeral_owner: i64,
    pub pzxid: i64,
    pub children: BTreeSet<String>,
}

impl Node {
    pub(crate) fn empty(acl: Arc<[Acl]>) -> Node {
        Node {
            data: Some(Bytes::new()),
            acl,
            czxid: 0,
            mzxid: 0,
            ctime: 0,
            mtime: 0,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: 0,
            pzxid: 0,
            children: BTreeSet::new(),
        }
    }

    /// ZooKeeper shows clients 0 as the owner of container and TTL nodes; the
    /// markers stay internal.
    pub fn client_owner(&self) -> i64 {
        let o = self.ephemeral_owner;
        if o == crate::txn::CONTAINER_OWNER || o & crate::txn::TTL_MASK == crate::txn::TTL_MASK {
            0
        } else {
            o
        }
    }

    /// `cversion` counts child creations, which is what sequential names use.
    /// Clients see changes to the child list, creates and deletes, which ZooKeeper
    /// derives as twice the creates less the children still present.
    pub fn client_cversion(&self) -> i32 {
        self.cversion
            .wrapping_mul(2)
            .wrapping_sub(self.children.len() as i32)
    }

    pub fn data_len(&self) -> usize {
        self.data.as_ref().map_or(0, |d| d.len())
    }

    pub fn stat(&self) -> Stat {
        Stat {
            czxid: self.czxid,
            mzxid: self.mzxid,
            ctime: self.ctime,
            mtime: self.mtime,
            version: self.version,
            cversion: self.client_cversion(),
            aversion: self.aversion,
            ephemeral_owner: self.client_owner(),
            data_length: self.data_len() as i32,
            num_children: self.children.len() as i32,
            pzxid: self.pzxid,
        }
    }
}

/// A session as every replica knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub timeout: i32,
    pub passwd: Bytes,
    pub ephemerals: BTreeSet<String>,
}

/// What a change did to a path, for the watch manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Deleted,
    DataChanged,
    ChildrenChanged,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub path: String,
    pub kind: EventKind,
}

/// The replicated state: ZooKeeper's `DataTree` plus its session table.
#[derive(Debug, Clone)]
pub struct DataTree {
    /// Ordered by path, so a snapshot can walk it a chunk at a time.
    pub(crate) nodes: BTreeMap<String, Node>,
    pub(crate) sessions: BTreeMap<i64, Session>,
    pub(crate) containers: BTreeSet<String>,
    pub(crate) ttls: BTreeSet<String>,
    pub(crate) last_zxid: i64,
    pub(crate) extended_types: bool,
    pub(crate) data_size: u64,
    pub(crate) acls: AclCache,
    /// Present while a snapshot is being written (see `snapshot`).
    pub(crate) journal: Option<crate::snapshot::Journal>,
}

/// One shared copy of each distinct ACL list. Trees hold few distinct lists and
/// millions of nodes, so a node keeps a pointer, not a list.
#[derive(Debug, Clone, Default)]
pub(crate) struct AclCache {
    lists: HashMap<Vec<Acl>, Arc<[Acl]>>,
}

impl AclCache {
    pub(crate) fn intern(&mut self, acl: Vec<Acl>) -> Arc<[Acl]> {
        if let Some(shared) = self.lists.get(&acl) {
            return shared.clone();
        }
        let shared: Arc<[Acl]> = acl.clone().into();
        self.lists.insert(acl, shared.clone());
        shared
    }
}

pub const ZOOKEEPER: &str = "/zookeeper";
pub const QUOTA: &str = "/zookeeper/quota";
pub const CONFIG: &str = "/zookeeper/config";

impl DataTree {
    /// A fresh tree with ZooKeeper's system nodes. `extended_types` is
    /// `zookeeper.extendedTypesEnabled` and must be the same on every server.
    pub fn new(extended_types: bool) -> DataTree {
        let mut nodes = BTreeMap::new();
        let mut acls = AclCache::default();
        let open = acls.intern(acl::open());
        let mut root = Node::empty(open.clone());
        root.children.insert("zookeeper".into());
        let mut zk = Node::empty(open.clone());
        zk.children.insert("quota".into());
        zk.children.insert("config".into());
        let mut config = Node::empty(acls.intern(acl::read_only()));
        // ZooKeeper sets this node's ACL with version -1, which lands in aversion.
        config.aversion = -1;
        nodes.insert("/".to_string(), root);
        nodes.insert(ZOOKEEPER.to_string(), zk);
        nodes.insert(QUOTA.to_string(), Node::empty(open));
        nodes.insert(CONFIG.to_string(), config);
        DataTree {
            nodes,
            sessions: BTreeMap::new(),
            containers: BTreeSet::new(),
            ttls: BTreeSet::new(),
            last_zxid: 0,
            extended_types,
            data_size: 0,
            acls,
            journal: None,
        }
    }

    /// A node by path. The empty path is the root, as ZooKeeper aliases it.
    pub fn node(&self, path: &str) -> Option<&Node> {
        self.nodes.get(if path.is_empty() { "/" } else { path })
    }

    /// Every node's path, in no particular order.
    pub fn paths(&self) -> Vec<String> {
        self.nodes.keys().cloned().collect()
    }

    pub fn last_zxid(&self) -> i64 {
        self.last_zxid
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Bytes of paths and data, ZooKeeper's `approximateDataSize`.
    pub fn approximate_data_size(&self) -> u64 {
        self.data_size
    }

    pub fn session(&self, id: i64) -> Option<&Session> {
        self.sessions.get(&id)
    }

    pub fn sessions(&self) -> impl Iterator<Item = (i64, &Session)> {
        self.sessions.iter().map(|(id, s)| (*id, s))
    }

    /// Sets /zookeeper/config's data: the membership, written by each server from
    /// its own configuration as ZooKeeper does, not through the log.
    pub fn set_config(&mut self, data: Bytes) {
        self.remember(CONFIG);
        if let Some(node) = self.nodes.get_mut(CONFIG) {
            let old = node.data_len();
            node.data = Some(data);
            // ZooKeeper writes this node with setData(version -1), which its Stat keeps.
            node.version = -1;
            self.data_size = (self.data_size + node.data_len() as u64).saturating_sub(old as u64);
        }
    }

    pub fn ephemeral_count(&self) -> usize {
        self.sessions.values().map(|s| s.ephemerals.len()).sum()
    }

    /// Containers and TTL nodes, for the reaper to look at.
    pub fn containers(&self) -> impl Iterator<Item = &String> {
        self.containers.iter()
    }

    pub fn ttls(&self) -> impl Iterator<Item = &String> {
        self.ttls.iter()
    }

    /// A session's ephemerals under `prefix` (getEphemerals).
    pub fn ephemerals_under(&self, session_id: i64, prefix: &str) -> Vec<String> {
        let Some(s) = self.sessions.get(&session_id) else {
            return Vec::new();
        };
        s.ephemerals
            .iter()
            .filter(|p| {
                let prefix = prefix.trim();
                prefix.is_empty() || prefix == "/" || p.starts_with(prefix)
            })
            .cloned()
            .collect()
    }

    /// The number of nodes below `path`, not counting it (getAllChildrenNumber).
    pub fn descendant_count(&self, path: &str) -> usize {
        let mut count = 0;
        let mut stack = vec![path.to_string()];
        while let Some(p) = stack.pop() {
            if let Some(n) = self.nodes.get(&p) {
                for c in &n.children {
                    count += 1;
                    stack.push(path::join(&p, c));
                }
            }
        }
        count
    }
}
