//! Which module answers a request, and when. `classify` runs as each request is
//! read: auth at once (so later requests carry the new identity), a write decoded and
//! submitted by `write` at once (so a session's writes keep its order), a read kept
//! for its turn. `settle` runs in request order: it waits for a write to be applied,
//! or answers a read from the tree as it is then.

use std::time::Instant;

use bytes::Bytes;
use corral_jute::records::RequestHeader;
use corral_jute::{ErrorCode, OpCode};

use super::{auth, read, sasl, write, Barrier, Conn, Pending};
use crate::state::ServerState;
use crate::wire::error_reply;

/// Decides how a request is answered. `None` closes the connection.
pub async fn classify(
    state: &ServerState,
    conn: &Conn,
    header: RequestHeader,
    body: Bytes,
    started: Instant,
) -> Option<Pending> {
    let refuse = |err: ErrorCode| error_reply(header.xid, state.tree().read().last_zxid(), err);
    match OpCode::from_i32(header.op) {
        Some(OpCode::Auth) => Some(auth::handle(state, conn, header.xid, &body)),
        Some(OpCode::Sasl) => Some(sasl::handle(state, conn, header.xid, &body)),
        // ZooKeeper 3.9 serves nothing but auth and SASL packets to a session that
        // must authenticate and has not; the first other request ends it.
        _ if state.config.sasl.sasl_required() && !conn.sasl_done() => {
            tracing::warn!(
                "Closing {}: request type {} before SASL authentication, which is required",
                conn.peer,
                header.op
            );
            Some(Pending::Last(error_reply(
                header.xid,
                0,
                ErrorCode::SessionClosedRequireSaslAuth,
            )))
        }
        Some(OpCode::CloseSession) if conn.read_only => {
            // A read-only session lives on this server alone: nothing to replicate.
            Some(Pending::Last(refuse(ErrorCode::Ok)))
        }
        Some(op) if conn.read_only && (write::is_client_write(op) || op == OpCode::Sync) => {
            Some(Pending::Reply(refuse(ErrorCode::NotReadOnly)))
        }
        Some(op) if write::is_client_write(op) => {
            write::submit(state, conn, header.xid, op, &body, started).await
        }
        // A second createSession on an established connection does not decode as one.
        Some(OpCode::CreateSession) => Some(Pending::Reply(refuse(ErrorCode::MarshallingError))),
        Some(op) if read::is_client_read(op) => Some(Pending::Read {
            header,
            body,
            started,
            barrier: (op == OpCode::Sync).then(|| Box::pin(state.consensus.sync()) as Barrier),
        }),
        _ => {
            tracing::warn!(
                "Received packet at server of unknown type {} from {}",
                header.op,
                conn.peer
            );
            Some(Pending::Last(error_reply(
                header.xid,
                -1,
                ErrorCode::Unimplemented,
            )))
        }
    }
}

/// A request's reply, and whether the connection closes after sending it.
pub struct Settled {
    pub reply: Bytes,
    pub last: bool,
    /// For a read or write (not an auth packet or a refusal): what the connection's
    /// counters record about it.
    pub done: Option<Done>,
}

/// An answered read or write.
pub struct Done {
    pub op: OpCode,
    pub write: bool,
    pub xid: i32,
    /// The zxid a write was applied at.
    pub zxid: Option<i64>,
    pub started: Instant,
}

/// Waits for a request's turn to have come (its write applied, its sync done) and
/// makes its reply. `None` if that failed, which closes the connection.
pub async fn settle(state: &ServerState, conn: &Conn, pending: Pending) -> Option<Settled> {
    Some(match pending {
        Pending::Write {
            xid,
            opcode,
            result,
            started,
        } => match result.await {
            Ok(r) => Settled {
                reply: write::reply(xid, &r),
                last: opcode == OpCode::CloseSession,
                done: Some(Done {
                    op: opcode,
                    write: true,
                    xid,
                    zxid: Some(r.zxid),
                    started,
                }),
            },
            Err(e) => {
                tracing::warn!(
                    "{} failed: {e}; closing connection {}",
                    opcode.label(),
                    conn.peer
                );
                return None;
            }
        },
        Pending::Read {
            header,
            body,
            started,
            barrier,
        } => {
            if let Some(barrier) = barrier {
                if let Err(e) = barrier.await {
                    tracing::warn!("sync failed: {e}; closing connection {}", conn.peer);
                    return None;
                }
            }
            let op = OpCode::from_i32(header.op).unwrap_or(OpCode::Ping);
            let xid = header.xid;
            let (reply, last) = read::answer(state, conn, header, &body);
            Settled {
                reply,
                last,
                done: Some(Done {
                    op,
                    write: false,
                    xid,
                    zxid: None,
                    started,
                }),
            }
        }
        Pending::Reply(reply) => Settled {
            reply,
            last: false,
            done: None,
        },
        Pending::Last(reply) => Settled {
            reply,
            last: true,
            done: None,
        },
    })
}
