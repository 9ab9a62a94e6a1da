//! What one transaction carries while it applies: its zxid, the undo log that makes a
//! multi atomic, and the watch events it has produced; and the roll-back that plays
//! the undo log backwards.

use std::sync::Arc;

use bytes::Bytes;
use corral_jute::records::Acl;
use corral_jute::ErrorCode;

use crate::node::Node;
use crate::path;
use crate::tree::{DataTree, Event};
use crate::txn::{OpResult, Txn};

pub(super) type OpOutcome = Result<OpResult, ErrorCode>;

/// How to take back one change.
pub(super) enum Undo {
    Created {
        path: String,
        parent_before: (i32, i64),
    },
    Deleted {
        path: String,
        node: Node,
        parent_before: (i32, i64),
    },
    DataSet {
        path: String,
        data: Option<Bytes>,
        stat: (i64, i64, i32),
    },
    AclSet {
        path: String,
        acl: Arc<[Acl]>,
        aversion: i32,
    },
}

/// The context one transaction runs in.
pub(super) struct Ctx<'a> {
    pub(super) zxid: i64,
    pub(super) txn: &'a Txn,
    pub(super) undo: Vec<Undo>,
    pub(super) events: Vec<Event>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(zxid: i64, txn: &'a Txn) -> Self {
        Ctx {
            zxid,
            txn,
            undo: Vec::new(),
            events: Vec::new(),
        }
    }
}

impl DataTree {
    /// Takes back every change `cx` made, newest first, and drops its events.
    pub(super) fn roll_back(&mut self, cx: &mut Ctx<'_>) {
        while let Some(undo) = cx.undo.pop() {
            self.undo_one(undo);
        }
        cx.events.clear();
    }

    fn undo_one(&mut self, undo: Undo) {
        match undo {
            Undo::Created {
                path,
                parent_before: (cversion, pzxid),
            } => {
                if let Some(node) = self.nodes.remove(&path) {
                    self.data_size = self
                        .data_size
                        .saturating_sub((path.len() + node.data_len()) as u64);
                    self.track(&path, node.ephemeral_owner, false);
                }
                if let Some(parent) = path::parent(&path).and_then(|p| self.nodes.get_mut(p)) {
                    parent.children.remove(path::name(&path));
                    parent.cversion = cversion;
                    parent.pzxid = pzxid;
                }
            }
            Undo::Deleted {
                path,
                node,
                parent_before: (cversion, pzxid),
            } => {
                if let Some(parent) = path::parent(&path).and_then(|p| self.nodes.get_mut(p)) {
                    parent.children.insert(path::name(&path).to_string());
                    parent.cversion = cversion;
                    parent.pzxid = pzxid;
                }
                self.data_size += (path.len() + node.data_len()) as u64;
                self.track(&path, node.ephemeral_owner, true);
                self.nodes.insert(path, node);
            }
            Undo::DataSet { path, data, stat } => {
                if let Some(node) = self.nodes.get_mut(&path) {
                    self.data_size = (self.data_size + data.as_ref().map_or(0, |d| d.len()) as u64)
                        .saturating_sub(node.data_len() as u64);
                    node.data = data;
                    (node.mzxid, node.mtime, node.version) = stat;
                }
            }
            Undo::AclSet {
                path,
                acl,
                aversion,
            } => {
                if let Some(node) = self.nodes.get_mut(&path) {
                    node.acl = acl;
                    node.aversion = aversion;
                }
            }
        }
    }
}
