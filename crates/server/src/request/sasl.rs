//! The SASL request (opcode 102). ZooKeeper answers it inline, outside the request
//! pipeline, and so does this module: it runs as soon as the request is read, so
//! later requests on the connection carry the identity it adds. The mechanism itself
//! is `corral_sasl::DigestServer`; this module feeds it the client's tokens.

use corral_jute::records::{Id, ReplyHeader, SaslToken};
use corral_jute::{ErrorCode, Jute};

use super::{Conn, Pending};
use crate::state::ServerState;
use crate::wire::frame;
use corral_sasl::{DigestServer, Service, Step};

/// Answers one SASL token. A failed exchange gets AuthFailed (SessionClosedRequireSaslAuth
/// where SASL is required) and the connection is closed, as ZooKeeper closes it.
///
/// With no SASL configured the client is refused the same way at once. (ZooKeeper 3.8
/// answers an empty token there and lets kazoo spin until the session expires; the
/// client ends with the same AuthFailedError. See compat/DIVERGENCES.md.)
pub fn handle(state: &ServerState, conn: &Conn, xid: i32, body: &[u8]) -> Pending {
    let sasl = &state.config.sasl;
    let refuse = |reason: &str| {
        tracing::warn!("SASL authentication failed for {}: {reason}", conn.peer);
        state.telemetry.auth_failed();
        let err = if sasl.sasl_required() {
            ErrorCode::SessionClosedRequireSaslAuth
        } else {
            ErrorCode::AuthFailed
        };
        // ZooKeeper's failure reply carries a null token, not no body.
        let header = ReplyHeader {
            xid,
            zxid: 0,
            err: err.as_i32(),
        };
        Pending::Last(frame(&header, Some(&None::<bytes::Bytes>)))
    };
    if sasl.users.is_empty() {
        return refuse("SASL is not configured on this server");
    }
    let Ok(request) = SaslToken::from_bytes(body) else {
        return refuse("malformed SASL request");
    };
    let mut exchange = conn.sasl_exchange();
    if exchange.is_none() {
        let Some(nonce) = corral_sasl::fresh_nonce() else {
            return refuse("no OS randomness for a DIGEST-MD5 nonce");
        };
        *exchange = Some(DigestServer::new(Service::CLIENT, nonce));
    }
    let Some(server) = exchange.as_mut() else {
        return refuse("no DIGEST-MD5 exchange");
    };
    let step = server.step(&request.token, |user| sasl.users.get(user).cloned());
    let token = match step {
        Step::Continue(token) => token,
        Step::Success { user, token } => {
            tracing::info!(
                "Successfully authenticated client {}: sasl:{user}",
                conn.peer
            );
            if sasl.super_users.contains(&user) {
                conn.add_identity(Id {
                    scheme: "super".into(),
                    id: String::new(),
                });
            }
            conn.add_identity(Id {
                scheme: "sasl".into(),
                id: user,
            });
            conn.set_sasl_done();
            token
        }
        Step::Failure(reason) => return refuse(&reason),
    };
    let header = ReplyHeader {
        xid,
        zxid: 0,
        err: 0,
    };
    let reply = SaslToken {
        token: token.into(),
    };
    Pending::Reply(frame(&header, Some(&reply)))
}
