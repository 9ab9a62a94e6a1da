//! The handshake: a ConnectRequest creates a session through the log, resumes one
//! the client already has (on this server or, after a failover, on another), or, while
//! this server has no quorum, gives a read-only client a read-only session.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use corral_jute::records::{ConnectRequest, ConnectResponse};
use corral_jute::Jute;
use corral_tree::{Txn, TxnOp};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::clock::now_millis;
use crate::quorum;
use crate::session::new_password;
use crate::state::ServerState;

/// How long a handshake waits for this server to catch up with the leader, when the
/// client has seen more than this server has applied.
const CATCH_UP: Duration = Duration::from_secs(5);

/// A session the connection may go on with.
pub struct Admitted {
    pub session_id: i64,
    pub passwd: Bytes,
    pub timeout: i32,
    pub read_only: bool,
}

/// Creates or resumes the session. `None` closes the connection.
pub async fn admit<W: AsyncWrite + Unpin>(
    state: &ServerState,
    req: &ConnectRequest,
    peer: SocketAddr,
    wr: &mut W,
) -> Option<Admitted> {
    let timeout = negotiate(
        req.timeout,
        state.config.min_session_timeout,
        state.config.max_session_timeout,
    );
    if !quorum::serving(state) {
        if req.read_only && quorum::read_only(state) {
            return Some(read_only_session(state, req, peer, timeout));
        }
        tracing::info!(
            "Closing connection from {peer}: this server has no quorum{}",
            if req.read_only {
                " and read-only mode is off"
            } else {
                ""
            }
        );
        return None;
    }
    if !caught_up(state, || {
        state.tree().read().last_zxid() >= req.last_zxid_seen
    })
    .await
    {
        tracing::info!(
            "Refusing session request for client {peer} as it has seen zxid 0x{:x} our last zxid is 0x{:x}",
            req.last_zxid_seen,
            state.tree().read().last_zxid()
        );
        return None;
    }
    if req.session_id == 0 {
        return create(state, peer, timeout).await;
    }
    let valid = || {
        state
            .tree()
            .read()
            .session(req.session_id)
            .is_some_and(|s| s.passwd == req.passwd)
    };
    // A session created through another server may not have reached this one yet.
    if caught_up(state, valid).await {
        tracing::info!(
            "Re-established session 0x{:x} for client {peer}",
            req.session_id
        );
        return Some(Admitted {
            session_id: req.session_id,
            passwd: req.passwd.clone(),
            timeout,
            read_only: false,
        });
    }
    tracing::info!(
        "Invalid session 0x{:x} for client {peer}, probably expired",
        req.session_id
    );
    refuse_expired(wr).await;
    None
}

/// The session timeout a client gets, in ZooKeeper's order: raised to the minimum,
/// then capped at the maximum. Whatever the configuration says (the config file
/// refuses a minimum above the maximum, but a `Config` built in code need not), this
/// never panics, as `clamp` did; with the two inverted, every client gets the maximum.
fn negotiate(requested: i32, min: u32, max: u32) -> i32 {
    let min = i32::try_from(min).unwrap_or(i32::MAX);
    let max = i32::try_from(max).unwrap_or(i32::MAX);
    requested.max(min).min(max)
}

/// The handshake's reply, framed. Old clients send no readOnly byte and expect none
/// back.
pub fn hello(admitted: &Admitted, sent_read_only: bool) -> Bytes {
    let response = ConnectResponse {
        protocol_version: 0,
        timeout: admitted.timeout,
        session_id: admitted.session_id,
        passwd: admitted.passwd.clone(),
        read_only: admitted.read_only,
    };
    let mut hello = BytesMut::new();
    hello.put_i32(0);
    response.write(&mut hello);
    if !sent_read_only {
        hello.truncate(hello.len() - 1);
    }
    let len = (hello.len() - 4) as i32;
    hello[..4].copy_from_slice(&len.to_be_bytes());
    hello.freeze()
}

/// True if `ok` holds now, or after this server syncs with the leader.
async fn caught_up(state: &ServerState, ok: impl Fn() -> bool) -> bool {
    if ok() {
        return true;
    }
    if !state.ensemble {
        return false;
    }
    matches!(
        tokio::time::timeout(CATCH_UP, state.consensus.sync()).await,
        Ok(Ok(()))
    ) && ok()
}

async fn create(state: &ServerState, peer: SocketAddr, timeout: i32) -> Option<Admitted> {
    let session_id = state.session_ids.next();
    let passwd = new_password(session_id, state.config.zookeeper_session_passwords);
    let txn = Txn {
        session_id,
        time: now_millis(),
        identity: Vec::new(),
        op: TxnOp::CreateSession {
            timeout,
            passwd: passwd.clone(),
        },
    };
    match state.consensus.propose(txn).await {
        Ok(_) => {
            // DEBUG, as ZooKeeper logs it: at INFO this line was a sixth of the
            // server's instructions under connection churn (docs/benchmarks.md).
            tracing::debug!("Established session 0x{session_id:x} with negotiated timeout {timeout} for client {peer}");
            Some(Admitted {
                session_id,
                passwd,
                timeout,
                read_only: false,
            })
        }
        Err(e) => {
            tracing::warn!("cannot create a session for {peer}: {e}");
            None
        }
    }
}

/// A session on this server alone: it is not in the log and ends with the connection.
fn read_only_session(
    state: &ServerState,
    req: &ConnectRequest,
    peer: SocketAddr,
    timeout: i32,
) -> Admitted {
    let known = state
        .tree()
        .read()
        .session(req.session_id)
        .is_some_and(|s| s.passwd == req.passwd);
    let (session_id, passwd) = if known {
        (req.session_id, req.passwd.clone())
    } else {
        let id = state.session_ids.next();
        (
            id,
            new_password(id, state.config.zookeeper_session_passwords),
        )
    };
    tracing::info!(
        "Established read-only session 0x{session_id:x} with negotiated timeout {timeout} for client {peer}"
    );
    Admitted {
        session_id,
        passwd,
        timeout,
        read_only: true,
    }
}

/// Tells the client its session is gone: a ConnectResponse with timeout 0.
async fn refuse_expired<W: AsyncWrite + Unpin>(wr: &mut W) {
    let refusal = ConnectResponse {
        protocol_version: 0,
        timeout: 0,
        session_id: 0,
        passwd: Bytes::from_static(&[0; 16]),
        read_only: false,
    };
    let mut w = BytesMut::new();
    w.put_i32(refusal.to_bytes().len() as i32);
    refusal.write(&mut w);
    let _ = wr.write_all(&w).await;
}

#[cfg(test)]
mod tests {
    use super::negotiate;

    #[test]
    fn negotiation_raises_to_the_minimum_then_caps_at_the_maximum() {
        assert_eq!(negotiate(1000, 4000, 40_000), 4000);
        assert_eq!(negotiate(10_000, 4000, 40_000), 10_000);
        assert_eq!(negotiate(100_000, 4000, 40_000), 40_000);
        assert_eq!(negotiate(-5, 4000, 40_000), 4000);
    }

    #[test]
    fn negotiation_never_panics_whatever_the_configuration() {
        // An inverted range, as ZooKeeper's order gives it: the maximum.
        assert_eq!(negotiate(1000, 30_000, 4000), 4000);
        assert_eq!(negotiate(50_000, 30_000, 4000), 4000);
        // Bounds beyond i32 saturate instead of wrapping negative.
        assert_eq!(negotiate(i32::MAX, u32::MAX, u32::MAX), i32::MAX);
        assert_eq!(negotiate(1000, 0, u32::MAX), 1000);
        assert_eq!(negotiate(i32::MIN, 0, 0), 0);
    }
}
