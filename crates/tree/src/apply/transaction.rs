//! `DataTree::apply`: one logged transaction, start to end. Sessions are opened and
//! closed here, a multi runs its operations and rolls them back if one fails, and
//! each operation goes to the module of its kind.

use corral_jute::{ErrorCode, OpCode};

use super::context::{Ctx, OpOutcome};
use crate::tree::{DataTree, Event, Session};
use crate::txn::{OpResult, Txn, TxnOp, TxnResult};

impl DataTree {
    /// Applies one logged transaction with the zxid the log gave it.
    ///
    /// # Panics
    /// If `zxid` is not above the last one applied: the log or its replay is out of
    /// order, and applying it would give this server a tree no other server has.
    /// The consensus layer stops the process on a panic here.
    pub fn apply(&mut self, zxid: i64, txn: &Txn) -> (TxnResult, Vec<Event>) {
        self.advance_zxid(zxid);
        let mut cx = Ctx::new(zxid, txn);
        let result = self.apply_top(&mut cx);
        (TxnResult { zxid, result }, cx.events)
    }

    /// Zxids are log indexes, so each is above the last. The first may be anything:
    /// openraft's first entry has index 0, which a fresh tree's 0 must not refuse.
    fn advance_zxid(&mut self, zxid: i64) {
        if let Some(last) = self.last_zxid {
            assert!(
                zxid > last,
                "zxid 0x{zxid:x} applied after zxid 0x{last:x}: zxids must strictly increase; \
                 the log or its replay is out of order, so this server stops rather than \
                 diverge from the others"
            );
        }
        self.last_zxid = Some(zxid);
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
            TxnOp::Restore { snapshot } => return self.restore(cx, snapshot),
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
}
