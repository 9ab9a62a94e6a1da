//! restore (the AdminServer's `restore`, ZooKeeper 3.9): the nodes and sessions of a
//! snapshot replace the tree's, as one logged transaction, so that every member of
//! an ensemble applies the same restore at the same zxid.
//!
//! What differs from ZooKeeper, which swaps its database on the one server asked:
//! the sessions this tree has are kept beside the snapshot's (a connected client
//! is not expired by a restore; its ephemerals go if the snapshot lacks them),
//! `/zookeeper/config` stays this ensemble's, and watches fire for what changed,
//! where ZooKeeper's new database simply has none.

use std::collections::BTreeSet;

use corral_jute::ErrorCode;

use super::context::Ctx;
use crate::path;
use crate::tree::{DataTree, Event, EventKind, Session, CONFIG};
use crate::txn::OpResult;

impl DataTree {
    /// Replaces the tree by `snapshot`, a tree encoded as `encode_snapshot` writes.
    pub(super) fn restore(&mut self, cx: &mut Ctx<'_>, snapshot: &[u8]) -> OpResult {
        let Ok(restored) = DataTree::decode_snapshot(snapshot) else {
            return OpResult::Error(ErrorCode::BadArguments);
        };
        if restored.nodes.get("/").is_none() {
            return OpResult::Error(ErrorCode::BadArguments);
        }
        let DataTree {
            nodes: incoming,
            sessions,
            ..
        } = restored;
        let gone: Vec<String> = self
            .nodes
            .keys()
            .filter(|p| p.as_str() != CONFIG && !incoming.contains_key(p.as_str()))
            .cloned()
            .collect();
        let mut events = Vec::new();
        for p in &gone {
            if self.nodes.remove(p).is_some() {
                events.push(event(p, EventKind::Deleted));
            }
        }
        for (p, mut node) in incoming.into_map() {
            if p == CONFIG {
                continue;
            }
            node.acl = self.acls.intern(node.acl.to_vec());
            if p == path::parent(CONFIG).unwrap_or("/") {
                // Its children are this tree's and the snapshot's, /zookeeper/config
                // always among them.
                node.children.insert(path::name(CONFIG).to_string());
            }
            match self.nodes.get(&p) {
                None => events.push(event(&p, EventKind::Created)),
                Some(old) => {
                    if (old.data.as_ref(), old.version, old.mzxid)
                        != (node.data.as_ref(), node.version, node.mzxid)
                    {
                        events.push(event(&p, EventKind::DataChanged));
                    }
                    if old.children != node.children {
                        events.push(event(&p, EventKind::ChildrenChanged));
                    }
                }
            }
            self.nodes.insert(p, node);
        }
        for (id, session) in sessions {
            self.sessions.entry(id).or_insert(Session {
                ephemerals: BTreeSet::new(),
                ..session
            });
        }
        self.retrack();
        self.recount_quotas(cx);
        // Counted afresh, as decoding a snapshot counts it.
        self.data_size = self
            .nodes
            .iter()
            .map(|(p, n)| (p.len() + n.data_len()) as u64)
            .sum();
        // A parent whose child came or went hears of it, as after a create or delete.
        let parents: BTreeSet<String> = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Created | EventKind::Deleted))
            .filter_map(|e| path::parent(&e.path).map(str::to_string))
            .filter(|p| self.nodes.contains_key(p.as_str()))
            .collect();
        for p in parents {
            if !events
                .iter()
                .any(|e| e.path == p && e.kind == EventKind::ChildrenChanged)
            {
                events.push(event(&p, EventKind::ChildrenChanged));
            }
        }
        cx.events.extend(events);
        OpResult::Done
    }

    /// Every session's ephemerals, the containers and the TTL nodes, found again
    /// from the nodes' owners.
    fn retrack(&mut self) {
        for session in self.sessions.values_mut() {
            session.ephemerals.clear();
        }
        self.containers.clear();
        self.ttls.clear();
        let owners: Vec<(String, i64)> = self
            .nodes
            .iter()
            .filter(|(_, n)| n.ephemeral_owner != 0)
            .map(|(p, n)| (p.clone(), n.ephemeral_owner))
            .collect();
        for (p, owner) in owners {
            self.track(&p, owner, true);
        }
    }
}

fn event(path: &str, kind: EventKind) -> Event {
    Event {
        path: path.to_string(),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::super::tests::{create_with, txn};
    use super::*;
    use crate::txn::TxnOp;

    fn session() -> TxnOp {
        TxnOp::CreateSession {
            timeout: 30000,
            passwd: Bytes::from_static(b"pw"),
        }
    }

    /// A tree with session `id`, an ephemeral of it at `eph`, and `paths` holding
    /// `data`, each applied from `zxid` on.
    fn tree(id: i64, eph: &str, paths: &[&str], data: &'static [u8], zxid: i64) -> DataTree {
        let mut t = DataTree::new(true);
        t.apply(zxid, &txn(id, session()));
        t.apply(zxid + 1, &txn(id, create_with(eph, b"e", 1)));
        for (i, p) in paths.iter().enumerate() {
            t.apply(zxid + 2 + i as i64, &txn(id, create_with(p, data, 0)));
        }
        t
    }

    #[test]
    fn a_restore_replaces_the_nodes_keeps_the_sessions_and_fires_what_changed() {
        let mut t = tree(7, "/e", &["/a", "/b"], b"old", 1);
        t.set_config(Bytes::from_static(b"server.1=here"));
        let mut backup = tree(9, "/s", &["/a", "/c"], b"new", 100);
        let snapshot = backup.encode_snapshot();
        let (r, events) = t.apply(10, &txn(0, TxnOp::Restore { snapshot }));
        assert_eq!(r.result, OpResult::Done);
        let mut paths = t.paths();
        paths.sort();
        assert_eq!(
            paths,
            [
                "/",
                "/a",
                "/c",
                "/s",
                "/zookeeper",
                "/zookeeper/config",
                "/zookeeper/quota"
            ]
        );
        assert_eq!(
            t.node("/a").and_then(|n| n.data.clone()),
            Some(Bytes::from_static(b"new"))
        );
        assert_eq!(
            t.node("/a").map(|n| n.mzxid),
            backup.node("/a").map(|n| n.mzxid)
        );
        assert_eq!(
            t.node(CONFIG).and_then(|n| n.data.clone()),
            Some(Bytes::from_static(b"server.1=here")),
            "the ensemble's own config stays"
        );
        assert!(t
            .node("/zookeeper")
            .is_some_and(|n| n.children.contains("config")));
        // Both sessions, each with the ephemerals the restored nodes give it.
        assert!(t.session(7).is_some_and(|s| s.ephemerals.is_empty()));
        assert!(t.session(9).is_some_and(|s| s.ephemerals.contains("/s")));
        assert_eq!(t.ephemeral_count(), 1);
        let expect = [
            ("/b", EventKind::Deleted),
            ("/e", EventKind::Deleted),
            ("/a", EventKind::DataChanged),
            ("/c", EventKind::Created),
            ("/s", EventKind::Created),
            ("/", EventKind::ChildrenChanged),
        ];
        for (path, kind) in expect {
            assert!(
                events.iter().any(|e| e.path == path && e.kind == kind),
                "no {kind:?} for {path} in {events:?}"
            );
        }
        let size: u64 = t
            .nodes
            .iter()
            .map(|(p, n)| (p.len() + n.data_len()) as u64)
            .sum();
        assert_eq!(t.approximate_data_size(), size);
        // The next write continues from the restore's zxid.
        let (r, _) = t.apply(11, &txn(9, create_with("/d", b"d", 0)));
        assert_eq!(r.zxid, 11);
        assert!(t.node("/d").is_some());
    }

    #[test]
    fn a_snapshot_that_does_not_decode_changes_nothing() {
        let mut t = tree(7, "/e", &["/a"], b"old", 1);
        let before = t.nodes.clone();
        let bad = Bytes::from_static(b"not a snapshot");
        let (r, events) = t.apply(10, &txn(0, TxnOp::Restore { snapshot: bad }));
        assert_eq!(r.result, OpResult::Error(ErrorCode::BadArguments));
        assert!(events.is_empty());
        assert!(t.nodes == before);
    }

    #[test]
    fn a_snapshot_being_written_keeps_the_tree_from_before_the_restore() {
        let mut t = tree(7, "/e", &["/a", "/b", "/m", "/z"], b"old", 1);
        let before = t.nodes.clone();
        let mut w = t.begin_snapshot();
        t.snapshot_step(&mut w, 2);
        let snapshot = tree(9, "/s", &["/a", "/y"], b"new", 100).encode_snapshot();
        t.apply(10, &txn(0, TxnOp::Restore { snapshot }));
        while !w.is_done() {
            t.snapshot_step(&mut w, 2);
        }
        let written = t.finish_snapshot(w).expect("snapshot");
        let back = DataTree::decode_snapshot(&written).expect("decode");
        assert!(back.nodes == before, "the snapshot mixed the restore in");
    }
}
