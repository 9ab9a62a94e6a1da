//! create, create2, createContainer and createTTL: the checks in ZooKeeper's order,
//! then the new node linked under its parent.

use corral_jute::records::perms;
use corral_jute::{ErrorCode, OpCode};

use super::context::{Ctx, OpOutcome, Undo};
use crate::node::Node;
use crate::tree::{DataTree, Event, EventKind};
use crate::txn::{CreateMode, CreateOp, OpResult};
use crate::txn::{CONTAINER_OWNER, MAX_TTL, TTL_MASK};
use crate::{acl, path};

impl DataTree {
    pub(super) fn create(&mut self, cx: &mut Ctx<'_>, op: &CreateOp) -> OpOutcome {
        let ids = &cx.txn.identity;
        let mode = CreateMode::from_flag(op.flags).ok_or(ErrorCode::BadArguments)?;
        if mode.is_ttl() && !self.extended_types {
            return Err(ErrorCode::Unimplemented);
        }
        let ttl_ok = if mode.is_ttl() {
            op.ttl > 0 && op.ttl <= MAX_TTL
        } else {
            op.ttl < 0
        };
        if !ttl_ok {
            return Err(ErrorCode::BadArguments);
        }
        if mode.is_ephemeral() && cx.txn.session_id == 0 {
            return Err(ErrorCode::BadArguments);
        }
        let cut = op.path.rfind('/').ok_or(ErrorCode::BadArguments)?;
        if op.path.contains('\0') {
            return Err(ErrorCode::BadArguments);
        }
        let parent_path = if cut == 0 { "/" } else { &op.path[..cut] };
        let acl = acl::fixup(&op.acl, ids, self.auth_schemes).ok_or(ErrorCode::InvalidAcl)?;
        let acl = self.acls.intern(acl);
        let parent = self.lookup(parent_path)?;
        Self::require(&parent.acl, ids, perms::CREATE)?;
        let mut path = op.path.clone();
        if mode.is_sequential() {
            path.push_str(&format!("{:010}", parent.cversion));
        }
        path::validate(&path, false).map_err(|_| ErrorCode::BadArguments)?;
        if self.nodes.contains_key(&path) {
            return Err(ErrorCode::NodeExists);
        }
        let parent_owner = parent.ephemeral_owner;
        if parent_owner != 0
            && parent_owner != CONTAINER_OWNER
            && parent_owner & TTL_MASK != TTL_MASK
        {
            return Err(ErrorCode::NoChildrenForEphemerals);
        }
        // As in ZooKeeper, the opcode decides: createContainer makes a container and
        // createTTL a TTL node whatever the flags; create and create2 with the
        // container flag make a plain persistent node.
        let owner = if op.opcode == OpCode::CreateContainer.as_i32() {
            CONTAINER_OWNER
        } else if op.opcode == OpCode::CreateTtl.as_i32() {
            TTL_MASK | op.ttl
        } else if mode.is_ephemeral() {
            cx.txn.session_id
        } else {
            0
        };
        let node = Node {
            data: op.data.clone(),
            acl,
            czxid: cx.zxid,
            mzxid: cx.zxid,
            ctime: cx.txn.time,
            mtime: cx.txn.time,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: owner,
            pzxid: cx.zxid,
            children: Default::default(),
        };
        let stat = node.stat();
        let parent_path = parent_path.to_string();
        self.link_node(cx, &parent_path, path.clone(), node);
        if op.opcode == OpCode::Create.as_i32() {
            return Ok(OpResult::CreatedPlain { path });
        }
        Ok(OpResult::Created { path, stat })
    }

    /// Puts a new node at `path` under `parent_path`, with its undo and events.
    fn link_node(&mut self, cx: &mut Ctx<'_>, parent_path: &str, path: String, node: Node) {
        let owner = node.ephemeral_owner;
        self.data_size += (path.len() + node.data_len()) as u64;
        if let Some(parent) = self.nodes.get_mut(parent_path) {
            cx.undo.push(Undo::Created {
                path: path.clone(),
                parent_before: (parent.cversion, parent.pzxid),
            });
            parent.cversion = parent.cversion.wrapping_add(1);
            parent.pzxid = cx.zxid;
            parent.children.insert(path::name(&path).to_string());
        }
        self.track(&path, owner, true);
        let bytes = node.data_len();
        self.nodes.insert(path.clone(), node);
        self.quota_after_create(cx, &path, bytes);
        cx.events.push(Event {
            path: parent_path.to_string(),
            kind: EventKind::ChildrenChanged,
        });
        cx.events.insert(
            cx.events.len() - 1,
            Event {
                path,
                kind: EventKind::Created,
            },
        );
    }
}
