//! A tree put together from nodes made elsewhere: an imported ZooKeeper database.
//! The same checks as a snapshot's decode (every node's parent exists), the same
//! rebuilt indexes (children, ephemerals, containers, TTLs), the ACL lists shared.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::node::Node;
use crate::nodes::Nodes;
use crate::snapshot::{link_children, SnapshotError};
use crate::tree::{DataTree, Session};

/// A session to carry over: id, timeout in ms and password.
pub type SessionParts = (i64, i32, Bytes);

impl DataTree {
    /// A tree of `nodes` (their `children` are rebuilt from the paths) and
    /// `sessions`, as of `last_zxid`. The root must be among the nodes, as "/".
    pub fn assemble(
        extended_types: bool,
        last_zxid: i64,
        sessions: Vec<SessionParts>,
        nodes: Vec<(String, Node)>,
    ) -> Result<DataTree, SnapshotError> {
        let mut tree = DataTree::new(extended_types);
        tree.last_zxid = (last_zxid != 0).then_some(last_zxid);
        for (id, timeout, passwd) in sessions {
            let session = Session {
                timeout,
                passwd,
                ephemerals: Default::default(),
            };
            tree.sessions.insert(id, session);
        }
        let mut nodes: Vec<(String, Node)> = nodes
            .into_iter()
            .map(|(p, mut n)| {
                n.acl = tree.acls.intern(n.acl.to_vec());
                n.children.clear();
                (p, n)
            })
            .collect();
        nodes.sort_by(|a, b| a.0.cmp(&b.0));
        if nodes.first().is_none_or(|(p, _)| p != "/") {
            return Err(SnapshotError::Orphan("/".into()));
        }
        link_children(&mut nodes)?;
        tree.data_size = nodes
            .iter()
            .map(|(p, n)| (p.len() + n.data_len()) as u64)
            .sum();
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
