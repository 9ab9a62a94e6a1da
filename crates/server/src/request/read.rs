//! Reads, answered from this server's tree in request order, as ZooKeeper's
//! `FinalRequestProcessor` answers them. Watches are registered under the same tree
//! lock the read holds, so no change can slip between the read and its watch.

use bytes::{Bytes, BytesMut};
use corral_jute::multi::{self, MultiOp};
use corral_jute::records::{
    perms, Acl, GetAclResponse, GetAllChildrenNumberResponse, GetChildren2Response,
    GetChildrenResponse, GetDataResponse, GetEphemeralsResponse, Id, PathRequest, PathWatchRequest,
    ReplyHeader, RequestHeader, StatResponse,
};
use corral_jute::{xid, ErrorCode, Jute, JuteError, OpCode, Reader};
use corral_tree::{acl, DataTree, Node};

use super::{auth, boxed, watches, Answer, Conn};
use crate::state::ServerState;
use crate::watches::Table;
use crate::wire::{frame, JuteDyn, RawBody};

pub fn is_client_read(op: OpCode) -> bool {
    matches!(
        op,
        OpCode::Exists
            | OpCode::GetData
            | OpCode::GetAcl
            | OpCode::GetChildren
            | OpCode::GetChildren2
            | OpCode::Sync
            | OpCode::Ping
            | OpCode::CheckWatches
            | OpCode::RemoveWatches
            | OpCode::MultiRead
            | OpCode::SetWatches
            | OpCode::SetWatches2
            | OpCode::GetEphemerals
            | OpCode::GetAllChildrenNumber
            | OpCode::AddWatch
            | OpCode::WhoAmI
    )
}

/// Answers one read. The flag says whether to close the connection after it.
pub fn answer(
    state: &ServerState,
    conn: &Conn,
    header: RequestHeader,
    body: &[u8],
) -> (Bytes, bool) {
    let Some(op) = OpCode::from_i32(header.op) else {
        return (reply(header.xid, -1, Err(ErrorCode::Unimplemented)), true);
    };
    let tree = state.tree().read();
    let zxid = tree.last_zxid();
    if op == OpCode::MultiRead {
        return (
            multi_read_reply(state, conn, &tree, header.xid, body),
            false,
        );
    }
    let result = match dispatch(state, conn, &tree, op, body) {
        Ok(answer) => answer,
        Err(e) => {
            tracing::debug!("malformed {} from {}: {e}", op.label(), conn.peer);
            Err(ErrorCode::MarshallingError)
        }
    };
    let xid = if op == OpCode::Ping {
        xid::PING
    } else {
        header.xid
    };
    (reply(xid, zxid, result), false)
}

fn reply(xid: i32, zxid: i64, result: Answer) -> Bytes {
    let err = result.as_ref().err().copied().unwrap_or(ErrorCode::Ok);
    let header = ReplyHeader {
        xid,
        zxid,
        err: err.as_i32(),
    };
    match result {
        Ok(Some(body)) => frame(&header, Some(body.as_ref())),
        _ => frame(&header, None),
    }
}

fn dispatch(
    state: &ServerState,
    conn: &Conn,
    tree: &DataTree,
    op: OpCode,
    body: &[u8],
) -> Result<Answer, JuteError> {
    Ok(match op {
        OpCode::Ping => Ok(None),
        OpCode::Exists => {
            let r = PathWatchRequest::from_bytes(body)?;
            if r.path.contains('\0') {
                return Ok(Err(ErrorCode::BadArguments));
            }
            if r.watch {
                state
                    .hub
                    .watches()
                    .add_standard(Table::Data, &r.path, conn.id);
            }
            match tree.node(&r.path) {
                Some(n) => {
                    state.telemetry.server_metrics.read(&r.path, 0);
                    boxed(StatResponse { stat: n.stat() })
                }
                None => Err(ErrorCode::NoNode),
            }
        }
        OpCode::GetData => {
            let r = PathWatchRequest::from_bytes(body)?;
            get_data(state, conn, tree, &r).map(|d| Some(Box::new(d) as Box<dyn JuteDyn>))
        }
        OpCode::GetChildren | OpCode::GetChildren2 => {
            let r = PathWatchRequest::from_bytes(body)?;
            match children(state, conn, tree, &r) {
                Ok((children, stat)) if op == OpCode::GetChildren2 => {
                    boxed(GetChildren2Response { children, stat })
                }
                Ok((children, _)) => boxed(GetChildrenResponse { children }),
                Err(e) => Err(e),
            }
        }
        OpCode::GetAcl => {
            let r = PathRequest::from_bytes(body)?;
            get_acl(conn, tree, &r.path)
        }
        OpCode::Sync => {
            let r = PathRequest::from_bytes(body)?;
            boxed(PathRequest { path: r.path })
        }
        OpCode::GetEphemerals => {
            let r = PathRequest::from_bytes(body)?;
            boxed(GetEphemeralsResponse {
                ephemerals: tree.ephemerals_under(conn.session_id, &r.path),
            })
        }
        OpCode::GetAllChildrenNumber => {
            let r = PathRequest::from_bytes(body)?;
            match tree.node(&r.path) {
                None => Err(ErrorCode::NoNode),
                Some(n) if !acl::allows(&n.acl, &conn.identity(), perms::READ) => {
                    Err(ErrorCode::NoAuth)
                }
                Some(_) => boxed(GetAllChildrenNumberResponse {
                    total_number: tree.descendant_count(&r.path) as i32,
                }),
            }
        }
        OpCode::WhoAmI => auth::who_am_i(conn),
        OpCode::AddWatch
        | OpCode::CheckWatches
        | OpCode::RemoveWatches
        | OpCode::SetWatches
        | OpCode::SetWatches2 => watches::handle(state, conn, tree, op, body)?,
        _ => Err(ErrorCode::Unimplemented),
    })
}

fn readable<'a>(tree: &'a DataTree, conn: &Conn, path: &str) -> Result<&'a Node, ErrorCode> {
    let node = tree.node(path).ok_or(ErrorCode::NoNode)?;
    if !acl::allows(&node.acl, &conn.identity(), perms::READ) {
        return Err(ErrorCode::NoAuth);
    }
    Ok(node)
}

fn get_data(
    state: &ServerState,
    conn: &Conn,
    tree: &DataTree,
    r: &PathWatchRequest,
) -> Result<GetDataResponse, ErrorCode> {
    let node = readable(tree, conn, &r.path)?;
    if r.watch {
        state
            .hub
            .watches()
            .add_standard(Table::Data, &r.path, conn.id);
    }
    let bytes = node.data.as_ref().map_or(0, |d| d.len() as u64);
    state.telemetry.server_metrics.read(&r.path, bytes);
    Ok(GetDataResponse {
        data: node.data.clone(),
        stat: node.stat(),
    })
}

fn children(
    state: &ServerState,
    conn: &Conn,
    tree: &DataTree,
    r: &PathWatchRequest,
) -> Result<(Vec<String>, corral_jute::records::Stat), ErrorCode> {
    let node = readable(tree, conn, &r.path)?;
    if r.watch {
        state
            .hub
            .watches()
            .add_standard(Table::Child, &r.path, conn.id);
    }
    // ZooKeeper counts the children's names (String.length) as the bytes read.
    let names: u64 = node
        .children
        .iter()
        .map(|c| c.encode_utf16().count() as u64)
        .sum();
    state.telemetry.server_metrics.read(&r.path, names);
    Ok((node.children.iter().cloned().collect(), node.stat()))
}

/// getACL needs READ or ADMIN; without ADMIN, digest hashes are masked.
fn get_acl(conn: &Conn, tree: &DataTree, path: &str) -> Answer {
    let node = tree.node(path).ok_or(ErrorCode::NoNode)?;
    let ids = conn.identity();
    if !acl::allows(&node.acl, &ids, perms::READ | perms::ADMIN) {
        return Err(ErrorCode::NoAuth);
    }
    let acl = if acl::allows(&node.acl, &ids, perms::ADMIN) {
        node.acl.to_vec()
    } else {
        node.acl.iter().map(mask_digest).collect()
    };
    boxed(GetAclResponse {
        acl,
        stat: node.stat(),
    })
}

fn mask_digest(a: &Acl) -> Acl {
    if a.id.scheme != "digest" {
        return a.clone();
    }
    let user = a.id.id.split(':').next().unwrap_or("");
    Acl {
        perms: a.perms,
        id: Id {
            scheme: a.id.scheme.clone(),
            id: format!("{user}:x"),
        },
    }
}

/// The reply to a multiRead, which runs once. A refused one (an operation that is
/// not a read, or a malformed body) answers MarshallingError with an empty multi
/// response: ZooKeeper has already begun that response when it finds the operation.
fn multi_read_reply(
    state: &ServerState,
    conn: &Conn,
    tree: &DataTree,
    xid: i32,
    body: &[u8],
) -> Bytes {
    let (err, body) = match multi_read(state, conn, tree, body) {
        Ok(results) => (ErrorCode::Ok, results),
        Err(e) => {
            tracing::debug!("refused multiRead from {}: {e}", conn.peer);
            let mut empty = BytesMut::new();
            multi::write_results(&[], &mut empty);
            (ErrorCode::MarshallingError, RawBody(empty.freeze()))
        }
    };
    let header = ReplyHeader {
        xid,
        zxid: tree.last_zxid(),
        err: err.as_i32(),
    };
    frame(&header, Some(&body as &dyn JuteDyn))
}

/// A multiRead's operations, each kept as its kind and path while the rest are
/// decoded: a third of a `MultiOp`, so a frame of tiny reads costs a small multiple
/// of its size.
pub(crate) fn decode_multi_read(body: &[u8]) -> Result<Vec<(OpCode, String)>, JuteError> {
    multi::read_ops(&mut Reader::new(body), |op| match op {
        MultiOp::GetData(r) => Ok((OpCode::GetData, r.path)),
        MultiOp::GetChildren(r) => Ok((OpCode::GetChildren, r.path)),
        _ => Err(JuteError::Unknown {
            what: "write in multiRead",
            value: 0,
        }),
    })
}

/// multiRead: each operation answers on its own; one failing does not stop the rest.
/// ZooKeeper ignores the watch flag here, and refuses the whole request
/// (MarshallingError) if it holds anything but reads.
fn multi_read(
    state: &ServerState,
    conn: &Conn,
    tree: &DataTree,
    body: &[u8],
) -> Result<RawBody, JuteError> {
    let reads = decode_multi_read(body)?;
    let mut results = Vec::with_capacity(reads.len());
    for (code, path) in reads {
        let r = PathWatchRequest { path, watch: false };
        let result = if code == OpCode::GetData {
            get_data(state, conn, tree, &r).map(|d| (OpCode::GetData, d.to_bytes()))
        } else {
            children(state, conn, tree, &r).map(|(children, _)| {
                (
                    OpCode::GetChildren,
                    GetChildrenResponse { children }.to_bytes(),
                )
            })
        };
        results.push(match result {
            Ok((code, bytes)) => (code.as_i32(), 0, bytes),
            Err(e) => (-1, e.as_i32(), e.as_i32().to_bytes()),
        });
    }
    let mut w = BytesMut::new();
    multi::write_results(&results, &mut w);
    Ok(RawBody(w.freeze()))
}
