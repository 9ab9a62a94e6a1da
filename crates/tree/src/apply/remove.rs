//! delete, deleteContainer (the reaper's `Reap`) and closeSession: the node (or the
//! session's ephemerals) unlinked from its parent.

use corral_jute::records::perms;
use corral_jute::ErrorCode;

use super::context::{Ctx, OpOutcome, Undo};
use crate::path;
use crate::tree::{DataTree, Event, EventKind};
use crate::txn::{OpResult, CONTAINER_OWNER, TTL_MASK};

impl DataTree {
    pub(super) fn delete(&mut self, cx: &mut Ctx<'_>, path: &str, version: i32) -> OpOutcome {
        let parent_path = Self::parent_for_delete(path)?;
        let parent = self.lookup(parent_path)?;
        Self::require(&parent.acl, &cx.txn.identity, perms::DELETE)?;
        let node = self.lookup(path)?;
        if version != -1 && version != node.version {
            return Err(ErrorCode::BadVersion);
        }
        if !node.children.is_empty() {
            return Err(ErrorCode::NotEmpty);
        }
        self.unlink_node(cx, parent_path.to_string(), path);
        Ok(OpResult::Deleted)
    }

    /// deleteContainer: removes an empty container or TTL node, whoever asks.
    pub(super) fn reap(&mut self, cx: &mut Ctx<'_>, path: &str) -> OpOutcome {
        let parent_path = Self::parent_for_delete(path)?;
        let node = self.lookup(path)?;
        if !node.children.is_empty() {
            return Err(ErrorCode::NotEmpty);
        }
        let owner = node.ephemeral_owner;
        if owner != CONTAINER_OWNER && owner & TTL_MASK != TTL_MASK {
            return Err(ErrorCode::BadVersion);
        }
        self.lookup(parent_path)?;
        self.unlink_node(cx, parent_path.to_string(), path);
        Ok(OpResult::Deleted)
    }

    pub(super) fn close_session(&mut self, cx: &mut Ctx<'_>) {
        let Some(session) = self.sessions.remove(&cx.txn.session_id) else {
            return;
        };
        // Deepest first, so a parent never outlives the removal of its children.
        for path in session.ephemerals.iter().rev() {
            if let Some(parent) = path::parent(path) {
                self.unlink_node(cx, parent.to_string(), path);
            }
        }
        cx.undo.clear();
    }

    /// Takes the node at `path` out of the tree and its parent's children, with its
    /// undo and events.
    fn unlink_node(&mut self, cx: &mut Ctx<'_>, parent_path: String, path: &str) {
        let Some(node) = self.nodes.remove(path) else {
            return;
        };
        self.data_size = self
            .data_size
            .saturating_sub((path.len() + node.data_len()) as u64);
        self.track(path, node.ephemeral_owner, false);
        self.quota_after_delete(cx, path, node.data_len());
        let mut parent_before = (0, 0);
        if let Some(parent) = self.nodes.get_mut(&parent_path) {
            parent_before = (parent.cversion, parent.pzxid);
            parent.children.remove(path::name(path));
            parent.pzxid = parent.pzxid.max(cx.zxid);
        }
        cx.undo.push(Undo::Deleted {
            path: path.to_string(),
            node,
            parent_before,
        });
        cx.events.push(Event {
            path: path.to_string(),
            kind: EventKind::Deleted,
        });
        cx.events.push(Event {
            path: parent_path,
            kind: EventKind::ChildrenChanged,
        });
    }
}
