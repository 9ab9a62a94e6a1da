//! addWatch, checkWatches, removeWatches, and setWatches(2) on reconnect.

use corral_jute::records::event_type;
use corral_jute::records::{
    AddWatchRequest, ErrorResponse, SetWatches, SetWatches2, WatchesRequest,
};
use corral_jute::{ErrorCode, Jute, JuteError, OpCode};
use corral_tree::DataTree;

use super::{boxed, Answer, Conn};
use crate::state::ServerState;
use crate::watches::{Table, WatcherType};

pub fn handle(
    state: &ServerState,
    conn: &Conn,
    tree: &DataTree,
    op: OpCode,
    body: &[u8],
) -> Result<Answer, JuteError> {
    Ok(match op {
        OpCode::AddWatch => {
            let r = AddWatchRequest::from_bytes(body)?;
            if !(0..=1).contains(&r.mode) {
                return Ok(Err(ErrorCode::MarshallingError));
            }
            state
                .hub
                .watches()
                .add_persistent(&r.path, conn.id, r.mode == 1);
            // ZooKeeper answers addWatch with an ErrorResponse of 0.
            boxed(ErrorResponse { err: 0 })
        }
        OpCode::CheckWatches | OpCode::RemoveWatches => {
            let r = WatchesRequest::from_bytes(body)?;
            let Some(kind) = WatcherType::from_i32(r.watcher_type) else {
                return Ok(Err(ErrorCode::MarshallingError));
            };
            let mut watches = state.hub.watches();
            let found = if op == OpCode::CheckWatches {
                watches.contains(&r.path, kind, conn.id)
            } else {
                watches.remove(&r.path, kind, conn.id)
            };
            if found {
                Ok(None)
            } else {
                Err(ErrorCode::NoWatcher)
            }
        }
        OpCode::SetWatches => {
            let r = SetWatches::from_bytes(body)?;
            let all = SetWatches2 {
                relative_zxid: r.relative_zxid,
                data_watches: r.data_watches,
                exist_watches: r.exist_watches,
                child_watches: r.child_watches,
                persistent_watches: Vec::new(),
                persistent_recursive_watches: Vec::new(),
            };
            set_watches(state, conn, tree, all);
            Ok(None)
        }
        OpCode::SetWatches2 => {
            set_watches(state, conn, tree, SetWatches2::from_bytes(body)?);
            Ok(None)
        }
        _ => Err(ErrorCode::Unimplemented),
    })
}

/// Re-arms a reconnecting client's watches, and fires at once those whose change it
/// missed since `relative_zxid`, as ZooKeeper's `DataTree.setWatches` does.
fn set_watches(state: &ServerState, conn: &Conn, tree: &DataTree, r: SetWatches2) {
    let mut watches = state.hub.watches();
    let zxid = tree.last_zxid();
    for path in &r.data_watches {
        match tree.node(path) {
            None => watches.send(conn.id, event_type::NODE_DELETED, path, zxid),
            Some(n) if n.mzxid > r.relative_zxid => {
                watches.send(conn.id, event_type::NODE_DATA_CHANGED, path, zxid)
            }
            Some(_) => watches.add_standard(Table::Data, path, conn.id),
        }
    }
    for path in &r.exist_watches {
        match tree.node(path) {
            Some(_) => watches.send(conn.id, event_type::NODE_CREATED, path, zxid),
            None => watches.add_standard(Table::Data, path, conn.id),
        }
    }
    for path in &r.child_watches {
        match tree.node(path) {
            None => watches.send(conn.id, event_type::NODE_DELETED, path, zxid),
            Some(n) if n.pzxid > r.relative_zxid => {
                watches.send(conn.id, event_type::NODE_CHILDREN_CHANGED, path, zxid)
            }
            Some(_) => watches.add_standard(Table::Child, path, conn.id),
        }
    }
    for path in &r.persistent_watches {
        watches.add_persistent(path, conn.id, false);
    }
    for path in &r.persistent_recursive_watches {
        watches.add_persistent(path, conn.id, true);
    }
}
