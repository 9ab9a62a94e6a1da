//! The nodes by path, and the journal that keeps a running snapshot exact.
//!
//! A snapshot is written without stopping writes (see `snapshot`): it walks the
//! nodes in path order a chunk at a time, and changes land between the chunks. To
//! write the tree as it was when the snapshot began, it needs each node's state
//! before its first change since then, for every node the walk has not reached yet.
//! `Nodes` owns that record: the map is read through `Deref`, and the only ways to
//! change it are `get_mut`, `insert` and `remove`, each of which keeps the node's
//! pre-image first. No change can reach the map without passing the journal.
//!
//! Without a snapshot running the journal is absent and each mutator costs one
//! branch more than the bare map.

use std::collections::{BTreeMap, HashMap};
use std::ops::Deref;
use std::sync::{Mutex, MutexGuard};

use crate::node::Node;

/// Every node, keyed and ordered by path.
#[derive(Debug, Default)]
pub(crate) struct Nodes {
    map: BTreeMap<String, Node>,
    /// Present while a snapshot is being written.
    journal: Option<Journal>,
}

/// Pre-images of nodes changed while a snapshot is being written.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    /// A node's state before its first change (without children, which decode
    /// rebuilds), or `None` if it did not exist when the snapshot began.
    preimages: HashMap<String, Option<Node>>,
    /// The last path the walk has written; changes at or before it need no record.
    /// The walk advances it under the tree's read lock, hence the Mutex.
    cursor: Mutex<Option<String>>,
}

/// The read side: every `BTreeMap` read, none of its writes.
impl Deref for Nodes {
    type Target = BTreeMap<String, Node>;

    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

/// A copy of the tree is not writing a snapshot: it has no journal.
impl Clone for Nodes {
    fn clone(&self) -> Self {
        Nodes {
            map: self.map.clone(),
            journal: None,
        }
    }
}

/// Two sets of nodes are equal when their nodes are; a journal is bookkeeping.
impl PartialEq for Nodes {
    fn eq(&self, other: &Self) -> bool {
        self.map == other.map
    }
}

impl Eq for Nodes {}

impl From<BTreeMap<String, Node>> for Nodes {
    fn from(map: BTreeMap<String, Node>) -> Self {
        Nodes { map, journal: None }
    }
}

impl Nodes {
    /// The node at `path`, to change; its pre-image is kept first.
    pub(crate) fn get_mut(&mut self, path: &str) -> Option<&mut Node> {
        self.record(path);
        self.map.get_mut(path)
    }

    /// Puts `node` at `path`; what was there before (if anything) is kept first.
    pub(crate) fn insert(&mut self, path: String, node: Node) -> Option<Node> {
        self.record(&path);
        self.map.insert(path, node)
    }

    /// Takes the node at `path` out; it is kept first.
    pub(crate) fn remove(&mut self, path: &str) -> Option<Node> {
        self.record(path);
        self.map.remove(path)
    }

    fn record(&mut self, path: &str) {
        let Some(journal) = self.journal.as_mut() else {
            return;
        };
        if journal.preimages.contains_key(path) {
            return;
        }
        let passed = journal.cursor().as_deref().is_some_and(|c| path <= c);
        if passed {
            return;
        }
        let before = self.map.get(path).map(image);
        journal.preimages.insert(path.to_string(), before);
    }

    /// The nodes themselves, for a tree that is being taken apart (a restore's
    /// decoded snapshot, which no snapshot walk can be reading).
    pub(crate) fn into_map(self) -> BTreeMap<String, Node> {
        assert!(
            self.journal.is_none(),
            "nodes taken apart while a snapshot is written"
        );
        self.map
    }

    /// Starts journaling for a snapshot that begins now.
    pub(crate) fn start_journal(&mut self) {
        self.journal = Some(Journal::default());
    }

    /// The running snapshot's journal, if one is running.
    pub(crate) fn journal(&self) -> Option<&Journal> {
        self.journal.as_ref()
    }

    /// Ends journaling and hands over what it kept.
    pub(crate) fn take_journal(&mut self) -> Option<Journal> {
        self.journal.take()
    }
}

impl Journal {
    /// The cursor. A poisoned lock is taken as it is: the value is replaced whole by
    /// one assignment, so a panic elsewhere while it was held cannot have left it
    /// half-written.
    fn cursor(&self) -> MutexGuard<'_, Option<String>> {
        self.cursor.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The last path the walk has written.
    pub(crate) fn walked_to(&self) -> Option<String> {
        self.cursor().clone()
    }

    /// Notes that the walk has written every node up to and including `path`.
    pub(crate) fn walk_past(&self, path: &str) {
        *self.cursor() = Some(path.to_string());
    }

    /// What `path` was when the snapshot began, if it has changed since:
    /// `Some(None)` if it did not exist then.
    pub(crate) fn preimage(&self, path: &str) -> Option<Option<&Node>> {
        self.preimages.get(path).map(Option::as_ref)
    }

    /// Every pre-image kept, by path.
    pub(crate) fn into_preimages(self) -> impl Iterator<Item = (String, Option<Node>)> {
        self.preimages.into_iter()
    }
}

/// A node as a snapshot writes it: without its children, which decode rebuilds.
fn image(n: &Node) -> Node {
    Node {
        data: n.data.clone(),
        acl: n.acl.clone(),
        children: Default::default(),
        ..*n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(version: i32) -> Node {
        Node {
            version,
            ..Node::empty(Vec::new().into())
        }
    }

    fn nodes(paths: &[&str]) -> Nodes {
        let map: BTreeMap<String, Node> = paths.iter().map(|p| (p.to_string(), node(0))).collect();
        Nodes::from(map)
    }

    /// Each mutator keeps the state before the first change and only that; paths the
    /// walk has passed are not kept; without a journal nothing is.
    #[test]
    fn every_mutator_keeps_the_state_before_its_first_change() {
        let mut n = nodes(&["/a", "/b", "/c", "/d"]);
        if let Some(a) = n.get_mut("/a") {
            a.version = 9;
        }
        assert!(n.journal().is_none());
        n.start_journal();
        assert!(n.clone().journal().is_none(), "a copy is not a snapshot");
        if let Some(j) = n.journal() {
            j.walk_past("/a");
        }
        // Behind the cursor: no record.
        if let Some(a) = n.get_mut("/a") {
            a.version = 10;
        }
        // get_mut, twice: the first pre-image stays.
        for v in [1, 2] {
            if let Some(b) = n.get_mut("/b") {
                b.version = v;
            }
        }
        n.insert("/c".into(), node(5));
        n.remove("/d");
        n.insert("/e".into(), node(7));
        let j = n.take_journal();
        let kept: BTreeMap<String, Option<i32>> = j
            .into_iter()
            .flat_map(Journal::into_preimages)
            .map(|(p, before)| (p, before.map(|b| b.version)))
            .collect();
        let expected = [
            ("/b", Some(0)),
            ("/c", Some(0)),
            ("/d", Some(0)),
            ("/e", None),
        ];
        let expected: BTreeMap<String, Option<i32>> = expected
            .into_iter()
            .map(|(p, v)| (p.to_string(), v))
            .collect();
        assert_eq!(kept, expected);
    }
}
