//! One znode: its data, ACL and the fields its Stat is built from.

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use corral_jute::records::{Acl, Stat};

use crate::txn::{CONTAINER_OWNER, TTL_MASK};

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
        if o == CONTAINER_OWNER || o & TTL_MASK == TTL_MASK {
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
