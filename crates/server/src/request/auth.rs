//! addauth (the auth packet) and whoAmI.

use corral_jute::records::{AuthPacket, ClientInfo, Id, WhoAmIResponse};
use corral_jute::{ErrorCode, Jute};
use corral_tree::acl;

use super::{boxed, Answer, Conn, Pending};
use crate::state::ServerState;
use crate::wire::error_reply;

/// Adds an identity to the connection. It runs as soon as the packet is read, before
/// any later request is submitted, so those requests carry the new identity. An
/// unknown scheme gets AuthFailed and the connection is closed, as in ZooKeeper.
pub fn handle(state: &ServerState, conn: &Conn, xid: i32, body: &[u8]) -> Pending {
    let reply = |err: ErrorCode| error_reply(xid, 0, err);
    let Ok(packet) = AuthPacket::from_bytes(body) else {
        state.telemetry.auth_failed();
        return Pending::Last(reply(ErrorCode::AuthFailed));
    };
    match packet.scheme.as_str() {
        "digest" => {
            let digest = acl::digest(&String::from_utf8_lossy(&packet.auth));
            if state.config.super_digest.as_deref() == Some(digest.as_str()) {
                conn.add_identity(Id {
                    scheme: "super".into(),
                    id: String::new(),
                });
            }
            conn.add_identity(Id {
                scheme: "digest".into(),
                id: digest,
            });
            Pending::Reply(reply(ErrorCode::Ok))
        }
        "ip" => Pending::Reply(reply(ErrorCode::Ok)),
        other => {
            tracing::warn!(
                "Authentication failed for {}: no provider for scheme {other:?}",
                conn.peer
            );
            state.telemetry.auth_failed();
            Pending::Last(reply(ErrorCode::AuthFailed))
        }
    }
}

/// The connection's identities, with each digest reduced to its user name.
pub fn who_am_i(conn: &Conn) -> Answer {
    let client_info = conn
        .identity()
        .into_iter()
        .map(|id| ClientInfo {
            user: match id.scheme.as_str() {
                "digest" => id.id.split(':').next().unwrap_or("").to_string(),
                _ => id.id.clone(),
            },
            auth_scheme: id.scheme,
        })
        .collect();
    boxed(WhoAmIResponse { client_info })
}
