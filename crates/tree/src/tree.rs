//! The data tree: nodes by path, sessions and their ephemerals, and the reads.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use corral_jute::records::Acl;

use crate::acl;
use crate::node::Node;
use crate::nodes::Nodes;
use crate::path;
use crate::txn::{CONTAINER_OWNER, TTL_MASK};

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
    /// Ordered by path, so a snapshot can walk it a chunk at a time; every change
    /// to them passes the snapshot's journal (see `nodes`).
    pub(crate) nodes: Nodes,
    pub(crate) sessions: BTreeMap<i64, Session>,
    pub(crate) containers: BTreeSet<String>,
    pub(crate) ttls: BTreeSet<String>,
    /// The zxid of the last transaction applied; `None` before the first. Zxids
    /// strictly increase (see `apply`).
    pub(crate) last_zxid: Option<i64>,
    pub(crate) extended_types: bool,
    /// Which extra ACL schemes are valid (see `acl::AuthSchemes`).
    pub(crate) auth_schemes: acl::AuthSchemes,
    pub(crate) data_size: u64,
    pub(crate) acls: AclCache,
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
            nodes: Nodes::from(nodes),
            sessions: BTreeMap::new(),
            containers: BTreeSet::new(),
            ttls: BTreeSet::new(),
            last_zxid: None,
            extended_types,
            auth_schemes: acl::AuthSchemes::default(),
            data_size: 0,
            acls,
        }
    }

    /// Sets which extra ACL schemes are valid; before any transaction is applied.
    pub fn set_auth_schemes(&mut self, schemes: acl::AuthSchemes) {
        self.auth_schemes = schemes;
    }

    /// A node by path. The empty path is the root, as ZooKeeper aliases it.
    pub fn node(&self, path: &str) -> Option<&Node> {
        self.nodes.get(if path.is_empty() { "/" } else { path })
    }

    /// Every node's path, in no particular order.
    pub fn paths(&self) -> Vec<String> {
        self.nodes.keys().cloned().collect()
    }

    /// The zxid of the last transaction applied, 0 before the first.
    pub fn last_zxid(&self) -> i64 {
        self.last_zxid.unwrap_or(0)
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

    /// Keeps the ephemeral, container and TTL indexes in step with the nodes: `add`
    /// when a node with this owner appears at `path`, not when it goes.
    pub(crate) fn track(&mut self, path: &str, owner: i64, add: bool) {
        let set = if owner == CONTAINER_OWNER {
            &mut self.containers
        } else if owner & TTL_MASK == TTL_MASK {
            &mut self.ttls
        } else if owner != 0 {
            match self.sessions.get_mut(&owner) {
                Some(s) => &mut s.ephemerals,
                None => return,
            }
        } else {
            return;
        };
        if add {
            set.insert(path.to_string());
        } else {
            set.remove(path);
        }
    }
}
