//! Applying a transaction: the write rules of ZooKeeper's `PrepRequestProcessor`, in
//! its order of checks so that the first error is the one ZooKeeper would give.
//!
//! Every mutation records how to undo itself, which makes a multi atomic: when one of
//! its operations fails, the earlier ones are rolled back and no event escapes.

use bytes::Bytes;
use std::sync::Arc;

use corral_jute::records::{perms, Acl, Id};
use corral_jute::{ErrorCode, OpCode};

use crate::tree::{DataTree, Event, EventKind, Node, Session};
use crate::txn::{CreateMode, CreateOp, OpResult, Txn, TxnOp, TxnResult};
use crate::txn::{CONTAINER_OWNER, MAX_TTL, TTL_MASK};
use crate::{acl, path};

type OpOutcome = Result<OpResult, ErrorCode>;

enum Undo {
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
struct Ctx<'a> {
    zxid: i64,
    txn: &'a Txn,
    undo: Vec<Undo>,
    events: Vec<Event>,
}

impl DataTree {
    /// Applies one logged transaction with the zxid the log gave it.
    pub fn apply(&mut self, zxid: i64, txn: &Txn) -> (TxnResult, Vec<Event>) {
        self.last_zxid = self.last_zxid.max(zxid);
        let mut cx = Ctx {
            zxid,
            txn,
            undo: Vec::new(),
            events: Vec::new(),
        };
        let result = self.apply_top(&mut cx);
        (TxnResult { zxid, result }, cx.events)
    }

    fn apply_top(&mut self, cx: &mut Ctx<'_>) -> OpResult {
        let session_id = cx.txn.session_id;
        match &cx.txn.op {
            TxnOp::CreateSession { timeout, passwd } => {
                self.sessions
                    .entry(session_id)
                    .and_modify(|s| s.timeout = *timeout)
                    .or_insert_with(|| Session {
                        timeout: *timeout,
                        passwd: passwd.clone(),
                        ephemerals: Default::default(),
                    });
                return OpResult::SessionCreated;
            }
            TxnOp::CloseSession => {
                self.close_session(cx);
                return OpResult::SessionClosed;
            }
            TxnOp::Noop => return OpResult::Done,
            _ => {}
        }
        if session_id != 0 && !self.sessions.contains_key(&session_id) {
            return OpResult::Error(ErrorCode::SessionExpired);
        }
        if let TxnOp::Multi(ops) = &cx.txn.op {
            return self.apply_multi(cx, ops);
        }
        let op = cx.txn.op.clone();
        self.apply_op(cx, &op).unwrap_or_else(OpResult::Error)
    }

    fn apply_multi(&mut self, cx: &mut Ctx<'_>, ops: &[TxnOp]) -> OpResult {
        let mut results = Vec::with_capacity(ops.len());
        let mut failed = None;
        for (i, op) in ops.iter().enumerate() {
            match self.apply_op(cx, op) {
                // ZooKeeper logs create2 as a plain create, so inside a multi it
                // answers with the path only.
                Ok(OpResult::Created { path, .. }) if matches!(op, TxnOp::Create(c) if c.opcode == OpCode::Create2.as_i32()) => {
                    results.push(OpResult::CreatedPlain { path })
                }
                Ok(r) => results.push(r),
                Err(e) => {
                    failed = Some((i, e));
                    break;
                }
            }
        }
        let Some((at, err)) = failed else {
            return OpResult::Multi(results);
        };
        self.roll_back(cx);
        let rolled = (0..ops.len()).map(|i| match i.cmp(&at) {
            std::cmp::Ordering::Less => OpResult::Error(ErrorCode::Ok),
            std::cmp::Ordering::Equal => OpResult::Error(err),
            std::cmp::Ordering::Greater => OpResult::Error(ErrorCode::RuntimeInconsistency),
        });
        OpResult::Multi(rolled.collect())
    }

    fn apply_op(&mut self, cx: &mut Ctx<'_>, op: &TxnOp) -> OpOutcome {
        match op {
            TxnOp::Create(c) => self.create(cx, c),
            TxnOp::Delete { path, version } => self.delete(cx, path, *version),
            TxnOp::SetData {
                path,
                data,
                version,
            } => self.set_data(cx, path, data, *version),
            TxnOp::SetAcl { path, acl, version } => self.set_acl(cx, path, acl, *version),
            TxnOp::Check { path, version } => self.check(cx, path, *version),
            TxnOp::Reap { path } => self.reap(cx, path),
            TxnOp::Fail(e) => Err(*e),
            // Nested multis, sessions and no-ops cannot be sub-operations.
            _ => Err(ErrorCode::BadArguments),
        }
    }

    fn lookup(&self, path: &str) -> Result<&Node, ErrorCode> {
        self.nodes.get(path).ok_or(ErrorCode::NoNode)
    }

    fn require(&self, node_acl: &[Acl], ids: &[Id], perm: i32) -> Result<(), ErrorCode> {
        if acl::allows(node_acl, ids, perm) {
            Ok(())
        } else {
            Err(ErrorCode::NoAuth)
        }
    }

    fn create(&mut self, cx: &mut Ctx<'_>, op: &CreateOp) -> OpOutcome {
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
        let acl = acl::fixup(&op.acl, ids).ok_or(ErrorCode::InvalidAcl)?;
        let acl = self.acls.intern(acl);
        let parent = self.lookup(parent_path)?;
        self.require(&parent.acl, ids, perms::CREATE)?;
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
        self.insert(cx, &parent_path, path.clone(), node);
        if op.opcode == OpCode::Create.as_i32() {
            return Ok(OpResult::CreatedPlain { path });
        }
        Ok(OpResult::Created { path, stat })
    }

    fn insert(&mut self, cx: &mut Ctx<'_>, parent_path: &str, path: String, node: Node) {
        self.remember(parent_path);
        self.remember(&path);
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
        self.nodes.insert(path.clone(), node);
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

    pub(crate) fn track_owner(&mut self, path: &str, owner: i64) {
        self.track(path, owner, true);
    }

    /// Keeps the ephemeral, container and TTL indexes in step with the nodes.
    fn track(&mut self, path: &str, owner: i64, add: bool) {
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

    fn special(path: &str) -> bool {
        matches!(
            path,
            "/" | crate::tree::ZOOKEEPER | crate::tree::QUOTA | crate::tree::CONFIG
        )
    }

    fn parent_for_delete(path: &str) -> Result<&str, ErrorCode> {
        let cut = path.rfind('/').ok_or(ErrorCode::BadArguments)?;
        if path.contains('\0') || Self::special(path) {
            return Err(ErrorCode::BadArguments);
        }
        Ok(if cut == 0 { "/" } else { &path[..cut] })
    }

    fn delete(&mut self, cx: &mut Ctx<'_>, path: &str, version: i32) -> OpOutcome {
        let parent_path = Self::parent_for_delete(path)?;
        let parent = self.lookup(parent_path)?;
        self.require(&parent.acl, &cx.txn.identity, perms::DELETE)?;
        let node = self.lookup(path)?;
        if version != -1 && version != node.version {
            return Err(ErrorCode::BadVersion);
        }
        if !node.children.is_empty() {
            return Err(ErrorCode::NotEmpty);
        }
        self.remove(cx, parent_path.to_string(), path);
        Ok(OpResult::Deleted)
    }

    fn remove(&mut self, cx: &mut Ctx<'_>, parent_path: String, path: &str) {
        self.remember(path);
        self.remember(&parent_path);
        let Some(node) = self.nodes.remove(path) else {
            return;
        };
        self.data_size = self
            .data_size
            .saturating_sub((path.len() + node.data_len()) as u64);
        self.track(path, node.ephemeral_owner, false);
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

    fn set_data(
        &mut self,
        cx: &mut Ctx<'_>,
        path: &str,
        data: &Option<Bytes>,
        version: i32,
    ) -> OpOutcome {
        path::validate(path, false).map_err(|_| ErrorCode::BadArguments)?;
        let node = self.lookup(path)?;
        self.require(&node.acl, &cx.txn.identity, perms::WRITE)?;
        if version != -1 && version != node.version {
            return Err(ErrorCode::BadVersion);
        }
        let old_len = node.data_len();
        self.remember(path);
        let Some(node) = self.nodes.get_mut(path) else {
            return Err(ErrorCode::NoNode);
        };
        cx.undo.push(Undo::DataSet {
            path: path.to_string(),
            data: node.data.clone(),
            stat: (node.mzxid, node.mtime, node.version),
        });
        node.data = data.clone();
        node.mzxid = cx.zxid;
        node.mtime = cx.txn.time;
        node.version = node.version.wrapping_add(1);
        let stat = node.stat();
        self.data_size = (self.data_size + stat.data_length as u64).saturating_sub(old_len as u64);
        cx.events.push(Event {
            path: path.to_string(),
            kind: EventKind::DataChanged,
        });
        Ok(OpResult::DataSet { stat })
    }

    fn set_acl(
        &mut self,
        cx: &mut Ctx<'_>,
        path: &str,
        new_acl: &[Acl],
        version: i32,
    ) -> OpOutcome {
        path::validate(path, false).map_err(|_| ErrorCode::BadArguments)?;
        let fixed = acl::fixup(new_acl, &cx.txn.identity).ok_or(ErrorCode::InvalidAcl)?;
        let node = self.lookup(path)?;
        self.require(&node.acl, &cx.txn.identity, perms::ADMIN)?;
        if version != -1 && version != node.aversion {
            return Err(ErrorCode::BadVersion);
        }
        let fixed = self.acls.intern(fixed);
        self.remember(path);
        let Some(node) = self.nodes.get_mut(path) else {
            return Err(ErrorCode::NoNode);
        };
        cx.undo.push(Undo::AclSet {
            path: path.to_string(),
            acl: std::mem::replace(&mut node.acl, fixed),
            aversion: node.aversion,
        });
        node.aversion = node.aversion.wrapping_add(1);
        Ok(OpResult::AclSet { stat: node.stat() })
    }

    fn check(&mut self, cx: &mut Ctx<'_>, path: &str, version: i32) -> OpOutcome {
        path::validate(path, false).map_err(|_| ErrorCode::BadArguments)?;
        let node = self.lookup(path)?;
        self.require(&node.acl, &cx.txn.identity, perms::READ)?;
        if version != -1 && version != node.version {
            return Err(ErrorCode::BadVersion);
        }
        Ok(OpResult::Checked)
    }

    /// deleteContainer: removes an empty container or TTL node, whoever asks.
    fn reap(&mut self, cx: &mut Ctx<'_>, path: &str) -> OpOutcome {
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
        self.remove(cx, parent_path.to_string(), path);
        Ok(OpResult::Deleted)
    }

    fn close_session(&mut self, cx: &mut Ctx<'_>) {
        let Some(session) = self.sessions.remove(&cx.txn.session_id) else {
            return;
        };
        // Deepest first, so a parent never outlives the removal of its children.
        for path in session.ephemerals.iter().rev() {
            if let Some(parent) = path::parent(path) {
                self.remove(cx, parent.to_string(), path);
            }
        }
        cx.undo.clear();
    }

    fn roll_back(&mut self, cx: &mut Ctx<'_>) {
        while let Some(undo) = cx.undo.pop() {
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
                        self.data_size = (self.data_size
                            + data.as_ref().map_or(0, |d| d.len()) as u64)
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
        cx.events.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txn(session_id: i64, op: TxnOp) -> Txn {
        Txn {
            session_id,
            time: 1000,
            identity: vec![],
            op,
        }
    }

    fn create(path: &str, flags: i32) -> TxnOp {
        TxnOp::Create(CreateOp {
            opcode: OpCode::Create.as_i32(),
            path: path.into(),
            data: Some(Bytes::from_static(b"v")),
            acl: acl::open(),
            flags,
            ttl: -1,
        })
    }

    fn tree_with_session() -> DataTree {
        let mut t = DataTree::new(true);
        let open = TxnOp::CreateSession {
            timeout: 30000,
            passwd: Bytes::new(),
        };
        t.apply(1, &txn(7, open));
        t
    }

    #[test]
    fn sequential_names_come_from_cversion() {
        let mut t = tree_with_session();
        t.apply(2, &txn(7, create("/q", 0)));
        let (r, _) = t.apply(3, &txn(7, create("/q/n-", 2)));
        assert!(
            matches!(r.result, OpResult::CreatedPlain { ref path } if path == "/q/n-0000000000")
        );
        let (r, _) = t.apply(4, &txn(7, create("/q/n-", 2)));
        assert!(
            matches!(r.result, OpResult::CreatedPlain { ref path } if path == "/q/n-0000000001")
        );
        assert_eq!(t.node("/q").map(|n| (n.cversion, n.pzxid)), Some((2, 4)));
    }

    #[test]
    fn failed_multi_changes_nothing() {
        let mut t = tree_with_session();
        let before = t.nodes.clone();
        let ops = vec![
            create("/a", 0),
            create("/a/b", 0),
            TxnOp::Delete {
                path: "/zz".into(),
                version: -1,
            },
        ];
        let (r, events) = t.apply(2, &txn(7, TxnOp::Multi(ops)));
        assert_eq!(r.err(), ErrorCode::NoNode);
        assert_eq!(
            r.result,
            OpResult::Multi(vec![
                OpResult::Error(ErrorCode::Ok),
                OpResult::Error(ErrorCode::Ok),
                OpResult::Error(ErrorCode::NoNode)
            ])
        );
        assert!(events.is_empty());
        assert_eq!(t.nodes, before);
    }

    #[test]
    fn close_session_removes_ephemerals_with_events() {
        let mut t = tree_with_session();
        t.apply(2, &txn(7, create("/e", 1)));
        let (r, _) = t.apply(3, &txn(7, create("/e/x", 0)));
        assert_eq!(r.err(), ErrorCode::NoChildrenForEphemerals);
        let (_, events) = t.apply(4, &txn(7, TxnOp::CloseSession));
        assert!(t.node("/e").is_none());
        assert_eq!(
            events[0],
            Event {
                path: "/e".into(),
                kind: EventKind::Deleted
            }
        );
        let (r, _) = t.apply(5, &txn(7, create("/f", 0)));
        assert_eq!(r.err(), ErrorCode::SessionExpired);
    }

    #[test]
    fn versions_and_acls_are_checked() {
        let mut t = tree_with_session();
        t.apply(2, &txn(7, create("/v", 0)));
        let set = |v| TxnOp::SetData {
            path: "/v".into(),
            data: None,
            version: v,
        };
        assert_eq!(t.apply(3, &txn(7, set(5))).0.err(), ErrorCode::BadVersion);
        assert_eq!(t.apply(4, &txn(7, set(0))).0.err(), ErrorCode::Ok);
        let locked = vec![Acl {
            perms: perms::READ,
            id: Id {
                scheme: "world".into(),
                id: "anyone".into(),
            },
        }];
        let set_acl = TxnOp::SetAcl {
            path: "/v".into(),
            acl: locked,
            version: -1,
        };
        assert_eq!(t.apply(5, &txn(7, set_acl)).0.err(), ErrorCode::Ok);
        assert_eq!(t.apply(6, &txn(7, set(-1))).0.err(), ErrorCode::NoAuth);
        assert_eq!(
            t.node("/v").map(|n| (n.version, n.aversion, n.mzxid)),
            Some((1, 1, 4))
        );
    }
}
