//! The preconditions operations share: that a node exists, that the caller's ids
//! carry a permission on it, and which paths may be deleted.

use corral_jute::records::{Acl, Id};
use corral_jute::ErrorCode;

use crate::acl;
use crate::node::Node;
use crate::tree::{DataTree, CONFIG, QUOTA, ZOOKEEPER};

impl DataTree {
    pub(super) fn lookup(&self, path: &str) -> Result<&Node, ErrorCode> {
        self.nodes.get(path).ok_or(ErrorCode::NoNode)
    }

    pub(super) fn require(node_acl: &[Acl], ids: &[Id], perm: i32) -> Result<(), ErrorCode> {
        if acl::allows(node_acl, ids, perm) {
            Ok(())
        } else {
            Err(ErrorCode::NoAuth)
        }
    }

    /// The nodes ZooKeeper makes itself, which no client may delete.
    fn special(path: &str) -> bool {
        matches!(path, "/" | ZOOKEEPER | QUOTA | CONFIG)
    }

    /// The parent of a node a client may delete, or why it may not.
    pub(super) fn parent_for_delete(path: &str) -> Result<&str, ErrorCode> {
        let cut = path.rfind('/').ok_or(ErrorCode::BadArguments)?;
        if path.contains('\0') || Self::special(path) {
            return Err(ErrorCode::BadArguments);
        }
        Ok(if cut == 0 { "/" } else { &path[..cut] })
    }
}
