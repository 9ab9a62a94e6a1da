//! The SASL request (opcode 102). ZooKeeper answers it inline, outside the request
//! pipeline, and so does this module: it runs as soon as the request is read, so
//! later requests on the connection carry the identity it adds.

use corral_jute::ErrorCode;

use super::{Conn, Pending};
use crate::state::ServerState;
use crate::wire::error_reply;

/// Answers one SASL token. With no SASL mechanism configured, the client is refused
/// at once with AuthFailed and the connection is closed, as ZooKeeper closes a
/// connection whose SASL exchange failed. (ZooKeeper 3.8 itself answers an empty
/// token there and lets kazoo spin until the session expires; a prompt refusal is
/// the same outcome for the client, AuthFailedError, without the wait.)
pub fn handle(state: &ServerState, conn: &Conn, xid: i32, _body: &[u8]) -> Pending {
    tracing::warn!(
        "SASL authentication refused for {}: SASL is not configured on this server",
        conn.peer
    );
    state.telemetry.auth_failed();
    Pending::Last(error_reply(xid, 0, ErrorCode::AuthFailed))
}
