//! setData, setACL and check: the operations on a node that exists and stays.

use bytes::Bytes;
use corral_jute::records::{perms, Acl};
use corral_jute::ErrorCode;

use super::context::{Ctx, OpOutcome, Undo};
use crate::tree::{DataTree, Event, EventKind};
use crate::txn::OpResult;
use crate::{acl, path};

impl DataTree {
    pub(super) fn set_data(
        &mut self,
        cx: &mut Ctx<'_>,
        path: &str,
        data: &Option<Bytes>,
        version: i32,
    ) -> OpOutcome {
        path::validate(path, false).map_err(|_| ErrorCode::BadArguments)?;
        let node = self.lookup(path)?;
        Self::require(&node.acl, &cx.txn.identity, perms::WRITE)?;
        if version != -1 && version != node.version {
            return Err(ErrorCode::BadVersion);
        }
        let old_len = node.data_len();
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
        self.quota_after_set(cx, path, old_len, stat.data_length as usize);
        cx.events.push(Event {
            path: path.to_string(),
            kind: EventKind::DataChanged,
        });
        Ok(OpResult::DataSet { stat })
    }

    pub(super) fn set_acl(
        &mut self,
        cx: &mut Ctx<'_>,
        path: &str,
        new_acl: &[Acl],
        version: i32,
    ) -> OpOutcome {
        path::validate(path, false).map_err(|_| ErrorCode::BadArguments)?;
        let fixed = acl::fixup(new_acl, &cx.txn.identity, self.auth_schemes)
            .ok_or(ErrorCode::InvalidAcl)?;
        let node = self.lookup(path)?;
        Self::require(&node.acl, &cx.txn.identity, perms::ADMIN)?;
        if version != -1 && version != node.aversion {
            return Err(ErrorCode::BadVersion);
        }
        let fixed = self.acls.intern(fixed);
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

    pub(super) fn check(&mut self, cx: &mut Ctx<'_>, path: &str, version: i32) -> OpOutcome {
        path::validate(path, false).map_err(|_| ErrorCode::BadArguments)?;
        let node = self.lookup(path)?;
        Self::require(&node.acl, &cx.txn.identity, perms::READ)?;
        if version != -1 && version != node.version {
            return Err(ErrorCode::BadVersion);
        }
        Ok(OpResult::Checked)
    }
}
